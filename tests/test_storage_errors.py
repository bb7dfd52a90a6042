"""A lake or output that cannot be written (full disk, no permission, read-only file system, a file in the way)
ends the command with one line naming the path and exit code 2, and leaves what recovery expects.

Tests run as root, where chmod stops nothing: the refusals come from /sys, from a file where a directory
should be, or from one file-system call stubbed to fail as a full or read-only disk would."""

import errno
import io
import shutil

import duckdb
import pytest
from conftest import DIGEST_EXAMPLES, SAMPLES, ct_event, run_cli, write_trail_file
from typer.testing import CliRunner

import sovaudit.archive
import sovaudit.fsutil
import sovaudit.ingest.quarantine_rows
import sovaudit.ingest.run
import sovaudit.ledger
from sovaudit.cli import app
from sovaudit.errors import StorageError
from sovaudit.ingest.run import IngestRun
from sovaudit.lake import Lake
from sovaudit.lock import lake_lock
from sovaudit.pull import pull_source
from sovaudit.sources import config_from_flags


def refused(code):
    def fail(*_args, **_kwargs):
        raise OSError(code, "stubbed")  # as a write() that fails: an errno, no file name
    return fail


def error_lines(proc):
    lines = proc.stderr.splitlines()
    assert "Traceback" not in proc.stderr, proc.stderr
    assert [line for line in lines if line.startswith("error: ")] == lines[-1:], proc.stderr
    return lines[-1]


def _small_lake(root):
    pull_source(Lake(root), config_from_flags("cloudtrail", path=str(sorted(SAMPLES.glob("*.json.gz"))[0])))
    return root


@pytest.fixture
def blocker(tmp_path):
    """A regular file, where a directory is expected."""
    path = tmp_path / "a-file"
    path.write_text("not a directory\n")
    return path


@pytest.mark.parametrize("where, reason", [
    ("/sys/sovaudit-lake", "Operation not permitted"),  # sysfs refuses mkdir, even to root
    ("{blocker}/lake", "a file is where a directory should be"),
    ("{blocker}", "a file is where a directory should be"),
])
def test_a_pull_into_a_lake_that_cannot_be_written_is_one_line(where, reason, blocker):
    lake = where.format(blocker=blocker)
    proc = run_cli("pull", "cloudtrail", "--path", str(SAMPLES), "--lake", lake)
    assert proc.returncode == 2
    assert error_lines(proc) == f"error: cannot write the lake at {lake}: {reason}"


@pytest.mark.parametrize("args", [
    ["check", "--format", "json", "--out", "{blocker}/findings.json"],
    ["check", "--out", "{blocker}/findings.txt"],
    ["report", "--format", "json", "--out", "{blocker}/report.json"],
    ["scan", "--demo", "--out", "{blocker}/scan"],
])
def test_outputs_that_cannot_be_written_are_one_line(args, blocker, tmp_path):
    if args[0] != "scan":  # check and report read a lake; scan --demo makes its own
        _small_lake(tmp_path / "lake")
    proc = run_cli(*(a.format(blocker=blocker) for a in args), "--lake", str(tmp_path / "lake"), cwd=tmp_path)
    assert proc.returncode == 2
    line = error_lines(proc)
    assert line.startswith("error: cannot write the ") and str(blocker) in line
    assert "a file is where a directory should be" in line


def test_verify_cloudtrail_that_cannot_record_its_verdicts_is_one_line(tmp_path):
    source = tmp_path / "in"
    source.mkdir()
    for path in [*DIGEST_EXAMPLES.glob("*.json"), sorted(SAMPLES.glob("*.json.gz"))[0]]:
        shutil.copy(path, source / path.name)
    lake = tmp_path / "lake"
    pull_source(Lake(lake), config_from_flags("cloudtrail", path=str(source)))
    (lake / "tmp").rmdir()
    (lake / "tmp").write_text("in the way of the work space\n")
    proc = run_cli("verify", "--cloudtrail", "--lake", str(lake))
    assert proc.returncode == 2
    assert error_lines(proc) == (f"error: cannot write the lake at {lake}: a file is where a directory should be "
                                 f"({lake / 'tmp'})")


# -- a pull that fails mid-way ------------------------------------------------------------------------------

def _days(root, first_id):
    for day in range(1, 4):
        events = [ct_event(f"{first_id}-{day}-{i}", time=f"2024-01-0{day}T{i:02d}:00:00Z") for i in range(20)]
        events.append({"eventTime": "2024-01-01T00:00:00Z"})  # quarantined: no eventID
        write_trail_file(root / f"day{day}.json.gz", events)
    return root


def _torn_ledger(monkeypatch):
    class Torn(io.BufferedWriter):
        def write(self, data):
            super().write(data[: len(data) // 2])
            super().flush()
            raise OSError(errno.ENOSPC, "stubbed")

    monkeypatch.setattr(sovaudit.ledger, "open", lambda path, mode: Torn(io.FileIO(path, mode)), raising=False)


def _replace_once_then_refuse(monkeypatch, code):
    real, calls = sovaudit.ingest.run.os.replace, []

    def replace(src, dst):
        calls.append(dst)
        if len(calls) > 1:
            raise OSError(code, "stubbed", str(dst))
        real(src, dst)
    monkeypatch.setattr(sovaudit.ingest.run.os, "replace", replace)


def _duckdb_disk_full(self, table, parts):
    raise duckdb.IOException(f'IO Error: Could not write file "{parts[0]}.rewrite": No space left on device')


STAGES = {
    "archive": (lambda m: m.setattr(sovaudit.archive, "write_atomic", refused(errno.ENOSPC)),
                "No space left on device"),
    "parquet": (lambda m: m.setattr(sovaudit.ingest.run.pq, "write_table", refused(errno.ENOSPC)),
                "No space left on device"),
    "duplicates": (lambda m: m.setattr(IngestRun, "_settle_repeats", _duckdb_disk_full), "No space left on device"),
    "commit": (lambda m: _replace_once_then_refuse(m, errno.EROFS), "Read-only file system"),
    "quarantine": (lambda m: m.setattr(sovaudit.ingest.quarantine_rows, "atomic_writer", refused(errno.EACCES)),
                   "Permission denied"),
    "ledger": (_torn_ledger, "No space left on device"),
}


def _state(lake_dir):
    lake = Lake(lake_dir)
    rows = lake.sql("SELECT * EXCLUDE (ingest_run) FROM cloudtrail ORDER BY event_uid").fetchall()
    files = sorted(p.relative_to(lake_dir).as_posix() for d in ("tables", "quarantine")
                   for p in (lake_dir / d).rglob("*") if p.is_file())
    committed = sorted([f["path"] for e in lake.ledger.entries() for f in e["files"]]
                       + [e["quarantine_file"]["path"] for e in lake.ledger.entries() if e["quarantine_file"]])
    return rows, sorted(lake.archive.digests()), files, committed


@pytest.mark.parametrize("stage", STAGES)
def test_a_pull_refused_mid_way_names_the_lake_and_leaves_what_recovery_cleans(stage, tmp_path):
    first, second = _days(tmp_path / "first", "a"), _days(tmp_path / "second", "b")
    clean = tmp_path / "clean"
    for source in (first, second):
        pull_source(Lake(clean), config_from_flags("cloudtrail", path=str(source)))
    lake_dir = tmp_path / "lake"
    pull_source(Lake(lake_dir), config_from_flags("cloudtrail", path=str(first)))
    rows_before, _, files_before, _ = _state(lake_dir)

    stub, reason = STAGES[stage]
    with pytest.MonkeyPatch.context() as patched:
        stub(patched)
        with pytest.raises(StorageError) as refusal:
            pull_source(Lake(lake_dir), config_from_flags("cloudtrail", path=str(second)))
    message = str(refusal.value)
    assert "\n" not in message and message.startswith(f"cannot write the lake at {lake_dir}: {reason}")
    assert _state(lake_dir)[0] == rows_before  # readers see what was committed, no more

    with lake_lock(lake_dir):
        Lake(lake_dir).recover()
    rows, _, files, committed = _state(lake_dir)
    assert rows == rows_before and files == files_before == committed
    assert not (lake_dir / "tmp").exists() and not list((lake_dir / "raw").glob("*/.tmp-*"))
    pull_source(Lake(lake_dir), config_from_flags("cloudtrail", path=str(second)))
    rows, _, files, committed = _state(lake_dir)
    assert rows == _state(clean)[0] and files == committed  # as if nothing had failed


def test_the_cli_says_one_line_when_the_disk_fills_during_a_pull(monkeypatch, tmp_path):
    source = _days(tmp_path / "in", "a")
    monkeypatch.setattr(sovaudit.ingest.run.pq, "write_table", refused(errno.ENOSPC))
    result = CliRunner().invoke(app, ["pull", "cloudtrail", "--path", str(source), "--lake", str(tmp_path / "lake"),
                                      "--format", "json"])
    assert result.exit_code == 2, result.output
    assert result.stderr.splitlines()[-1] == f"error: cannot write the lake at {tmp_path / 'lake'}: " \
                                             "No space left on device"


def test_the_cli_says_one_line_when_the_disk_fills_writing_an_output(monkeypatch, tmp_path):
    lake = _small_lake(tmp_path / "lake")
    monkeypatch.setattr(sovaudit.fsutil, "write_atomic", refused(errno.ENOSPC))
    out = tmp_path / "findings.json"
    result = CliRunner().invoke(app, ["check", "--format", "json", "--out", str(out), "--lake", str(lake)])
    assert result.exit_code == 2
    assert result.stderr.splitlines()[-1] == f"error: cannot write the output at {out}: No space left on device"
