import hashlib
import signal
import subprocess
import sys
import time

import pytest
from conftest import ct_event, run_cli, write_trail_file

from sovaudit import open_lake
from sovaudit.lock import lake_lock

FAILPOINTS = ["after-archive", "before-commit", "after-first-parquet", "before-ledger", "torn-ledger"]


@pytest.fixture(scope="module")
def multi_day_input(tmp_path_factory):
    src = tmp_path_factory.mktemp("crash-input")
    for day in range(1, 6):
        events = [ct_event(f"d{day}-{i}", time=f"2024-01-0{day}T{i % 24:02d}:00:00Z") for i in range(400)]
        write_trail_file(src / f"day{day}.json.gz", events)
    return src


def lake_state(lake_dir):
    lake = open_lake(lake_dir)
    rows = lake.sql("SELECT * EXCLUDE (ingest_run) FROM cloudtrail ORDER BY event_uid").fetchall()
    blobs = sorted(lake.archive.digests())
    files = sorted(p.relative_to(lake_dir).as_posix() for p in (lake_dir / "tables").rglob("*") if p.is_file())
    committed = sorted(f["path"] for e in lake.ledger.entries() for f in e.get("files", []))
    return rows, blobs, files, committed


@pytest.fixture(scope="module")
def clean_state(multi_day_input, tmp_path_factory):
    lake_dir = tmp_path_factory.mktemp("clean") / "lake"
    assert run_cli("pull", "cloudtrail", "--path", str(multi_day_input), "--lake", str(lake_dir)).returncode == 0
    rows, blobs, _files, _ = lake_state(lake_dir)
    assert len(rows) == 2000
    return rows, blobs


@pytest.mark.parametrize("failpoint", FAILPOINTS)
def test_sigkill_at_any_stage_then_pull_again_equals_a_clean_pull(failpoint, multi_day_input, clean_state,
                                                                    lake_dir):
    crashed = run_cli("pull", "cloudtrail", "--path", str(multi_day_input), "--lake", str(lake_dir),
                      env={"SOVAUDIT_FAILPOINT": failpoint})
    assert crashed.returncode == -signal.SIGKILL
    # Readers after the crash see only committed data: nothing, since the only pull never committed.
    assert open_lake(lake_dir).sql("SELECT count(*) FROM cloudtrail").fetchall() == [(0,)]
    again = run_cli("pull", "cloudtrail", "--path", str(multi_day_input), "--lake", str(lake_dir))
    assert again.returncode == 0, again.stderr
    rows, blobs, files, committed = lake_state(lake_dir)
    assert (rows, blobs) == clean_state
    assert files == committed  # no orphan Parquet file survives the recovery
    assert not (lake_dir / "tmp").exists() or not any((lake_dir / "tmp").iterdir())


def test_sigkill_at_random_moments_never_corrupts_the_lake(multi_day_input, clean_state, lake_dir):
    cmd = [sys.executable, "-P", "-m", "sovaudit.cli", "pull", "cloudtrail", "--path", str(multi_day_input),
           "--lake", str(lake_dir)]
    for delay in (0.3, 0.6, 0.9, 1.2):
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        count = open_lake(lake_dir).sql("SELECT count(*) FROM cloudtrail").fetchall()[0][0]
        assert count in (0, 2000)  # all of a pull or none of it
    assert run_cli("pull", "cloudtrail", "--path", str(multi_day_input), "--lake", str(lake_dir)).returncode == 0
    rows, blobs, files, committed = lake_state(lake_dir)
    assert (rows, blobs) == clean_state and files == committed


def test_a_second_pull_waits_for_the_lock_or_fails_clearly(multi_day_input, lake_dir):
    with lake_lock(lake_dir):
        proc = run_cli("pull", "cloudtrail", "--path", str(multi_day_input), "--lake", str(lake_dir),
                       "--lock-timeout", "1")
    assert proc.returncode == 2
    assert "holds the lake lock" in proc.stderr and str(lake_dir) in proc.stderr.replace("\n", "")


def test_two_concurrent_pulls_store_everything_exactly_once(multi_day_input, lake_dir):
    cmd = [sys.executable, "-P", "-m", "sovaudit.cli", "pull", "cloudtrail", "--path", str(multi_day_input),
           "--lake", str(lake_dir), "--format", "json"]
    procs = [subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outs = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    lake = open_lake(lake_dir)
    assert lake.sql("SELECT count(*), count(DISTINCT event_uid) FROM cloudtrail").fetchall() == [(2000, 2000)]
    entries = lake.ledger.entries()
    assert sorted(e["counts"]["stored"] for e in entries) == [0, 2000]
    for entry in entries:
        for f in entry["files"]:
            assert hashlib.sha256((lake_dir / f["path"]).read_bytes()).hexdigest() == f["sha256"]
