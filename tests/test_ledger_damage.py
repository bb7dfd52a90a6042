"""A damaged ledger: a stripped final newline, a torn last line, an altered line; and what verify makes of an
interrupted first pull and of blobs no entry names."""

import hashlib
import json
import shutil
import signal
from pathlib import Path

import pytest
from conftest import ct_event, run_cli, write_trail_file

from sovaudit.archive import sha256_hex
from sovaudit.errors import LedgerDamaged
from sovaudit.lake import Lake
from sovaudit.ledger import Ledger
from sovaudit.pull import pull_source
from sovaudit.sources import config_from_flags
from sovaudit.verify import verify, verify_lake


def _pull(lake: Lake, folder: Path) -> dict:
    result = pull_source(lake, config_from_flags("cloudtrail", path=str(folder)))
    assert result.exit_code == 0
    return result.entry


def _input(root: Path, day: int) -> Path:
    folder = root / f"day{day}"
    write_trail_file(folder / "trail.json.gz",
                     [ct_event(f"d{day}-{i}", time=f"2024-01-0{day}T{i:02d}:00:00Z") for i in range(10)])
    return folder


@pytest.fixture(scope="module")
def inputs(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("inputs")
    for day in (1, 2, 3):
        _input(root, day)
    return root


@pytest.fixture(scope="module")
def pristine(inputs, tmp_path_factory) -> Path:
    """Two pulls of ten events each."""
    lake = Lake(tmp_path_factory.mktemp("pristine") / "lake")
    _pull(lake, inputs / "day1")
    _pull(lake, inputs / "day2")
    return lake.root


@pytest.fixture
def lake(pristine: Path, tmp_path: Path) -> Lake:
    shutil.copytree(pristine, tmp_path / "lake")
    return Lake(tmp_path / "lake")


def _fingerprint(root: Path) -> list[tuple[str, str]]:
    return sorted((p.relative_to(root).as_posix(), hashlib.sha256(p.read_bytes()).hexdigest())
                  for p in root.rglob("*") if p.is_file() and p.name != ".lock")


def _rows(lake: Lake) -> int:
    lake.refresh()
    return lake.sql("SELECT count(*) FROM cloudtrail").fetchall()[0][0]


def _notes(report, check: str) -> list[str]:
    return next(c for c in report.checks if c.check == check).notes


# -- a stripped final newline ----------------------------------------------------------------------------------

def test_a_last_entry_without_its_newline_is_committed_and_the_next_pull_adds_the_newline(lake, inputs):
    data = lake.ledger.path.read_bytes()
    lake.ledger.path.write_bytes(data.rstrip(b"\n"))  # as an editor saves it
    files = _fingerprint(lake.root / "tables")

    report = verify_lake(lake)
    assert report.ok and report.ledger_entries == 2, report.breaks
    assert not _notes(report, "lake_files")  # the last entry's Parquet files are still committed
    assert any("no final newline" in note for note in _notes(report, "ledger_chain"))
    assert _rows(lake) == 20

    third = _pull(lake, inputs / "day3")
    assert third["seq"] == 3
    assert set(files) <= set(_fingerprint(lake.root / "tables"))  # the second pull's files survive
    assert lake.ledger.path.read_bytes().startswith(data) and lake.ledger.path.read_bytes().endswith(b"\n")
    assert [e["seq"] for e in lake.ledger.entries()] == [1, 2, 3]
    assert verify_lake(lake).ok and _rows(lake) == 30


def test_an_append_after_a_stripped_newline_starts_its_own_line(tmp_path):
    ledger = Ledger(tmp_path / "ledger.jsonl")
    first = ledger.append({"run_id": "a"})
    ledger.path.write_bytes(ledger.path.read_bytes().rstrip(b"\n"))
    second = ledger.append({"run_id": "b"})
    assert second["prev_hash"] == first["hash"]
    assert [json.loads(line)["run_id"] for line in ledger.path.read_bytes().splitlines()] == ["a", "b"]


# -- a torn last line: readers skip it and say so --------------------------------------------------------------

def _tear(lake: Lake) -> None:
    with open(lake.ledger.path, "ab") as handle:
        handle.write(b'{"blobs":{"blobs":1,"by')


def test_the_library_reads_past_a_torn_last_line(lake):
    _tear(lake)
    assert lake.sql("SELECT seq FROM ledger ORDER BY seq").fetchall() == [(1,), (2,)]
    assert _rows(lake) == 20
    assert verify_lake(lake).ok
    assert lake.ledger.torn_tail().startswith(f"{lake.ledger.path} line 3 is an incomplete entry")


@pytest.mark.parametrize("verb", [("sql", "SELECT count(*) AS n FROM ledger", "--format", "csv"),
                                  ("tables", "--format", "json"), ("check", "--format", "json"),
                                  ("report", "--format", "json", "--out", "{tmp}/report.json")])
def test_readers_warn_about_a_torn_last_line_in_one_line_and_read_the_rest(lake, verb, tmp_path):
    _tear(lake)
    proc = run_cli(*[a.format(tmp=tmp_path) for a in verb], "--lake", str(lake.root), cwd=tmp_path)
    assert proc.returncode in (0, 3), proc.stderr  # check and report: 3 for checks not assessed on this lake
    assert "Traceback" not in proc.stderr and "error" not in proc.stderr
    [warning] = [line for line in proc.stderr.splitlines() if "ledger.jsonl" in line]
    assert warning.startswith("warning: ") and "line 3 is an incomplete entry" in warning
    if verb[0] == "sql":
        assert proc.stdout.split() == ["n", "2"]


# -- an altered line: every reader refuses, naming it ----------------------------------------------------------

def _alter_first_line(lake: Lake) -> None:
    lines = lake.ledger.path.read_bytes().split(b"\n")
    lines[0] = lines[0][:40]
    lake.ledger.path.write_bytes(b"\n".join(lines))


@pytest.mark.parametrize("verb", [("sql", "SELECT 1"), ("tables",), ("check",), ("report", "--format", "json"),
                                  ("scan",), ("pull", "cloudtrail", "--path", "{inputs}/day3")])
def test_every_reader_refuses_a_ledger_with_a_line_that_is_not_an_entry(lake, verb, inputs, tmp_path):
    _alter_first_line(lake)
    before = _fingerprint(lake.root)
    proc = run_cli(*[a.format(inputs=inputs) for a in verb], "--lake", str(lake.root), cwd=tmp_path)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    [error] = [line for line in proc.stderr.splitlines() if "ledger" in line]  # a pull's progress bar aside
    assert error.startswith(f"error: {lake.ledger.path} line 1: not a valid JSON entry")
    assert "the ledger was altered" in error
    assert _fingerprint(lake.root) == before  # a pull removes nothing and appends nothing


def test_the_library_refuses_it_and_verify_names_the_line(lake):
    _alter_first_line(lake)
    with pytest.raises(LedgerDamaged, match="line 1: not a valid JSON entry"):
        lake.sql("SELECT 1")
    report = verify_lake(lake)
    assert not report.ok and report.breaks[0].where == "ledger.jsonl line 1"

    proc = run_cli("verify", "--lake", str(lake.root))
    assert proc.returncode == 1 and "ledger.jsonl line 1" in proc.stdout


def test_a_last_line_that_parses_but_is_no_object_is_not_a_torn_write(lake):
    with open(lake.ledger.path, "ab") as handle:
        handle.write(b'["not", "an", "entry"]')
    with pytest.raises(LedgerDamaged, match="line 3: not a JSON object"):
        lake.ledger.entries()
    assert verify_lake(lake).breaks[0].where == "ledger.jsonl line 3"


def test_verify_cloudtrail_on_an_altered_ledger_reports_instead_of_recording(lake):
    _alter_first_line(lake)
    before = lake.ledger.path.read_bytes()
    report = verify(lake, cloudtrail=True, public_keys=None)
    assert not report.ok and report.recorded is None
    assert any("not recorded" in note for note in report.cloudtrail.notes)
    assert lake.ledger.path.read_bytes() == before


# -- a first pull killed before it committed -------------------------------------------------------------------

@pytest.mark.parametrize("failpoint", ["after-archive", "before-commit", "after-first-parquet", "before-ledger"])
def test_a_killed_first_pull_is_an_interrupted_pull_not_a_missing_ledger(failpoint, inputs, lake_dir):
    crashed = run_cli("pull", "cloudtrail", "--path", str(inputs / "day1"), "--lake", str(lake_dir),
                      env={"SOVAUDIT_FAILPOINT": failpoint})
    assert crashed.returncode == -signal.SIGKILL
    assert not (lake_dir / "ledger.jsonl").exists()

    report = verify_lake(Lake(lake_dir))
    assert report.ok, report.breaks
    assert any("no pull has committed to this lake yet" in note and "was interrupted" in note
               for note in _notes(report, "ledger_chain"))
    assert any("named by no ledger entry" in note for note in _notes(report, "archive_blobs"))
    assert run_cli("verify", "--lake", str(lake_dir)).returncode == 0


def test_a_deleted_ledger_is_still_a_break_beside_a_killed_pull(lake, inputs):
    crashed = run_cli("pull", "cloudtrail", "--path", str(inputs / "day3"), "--lake", str(lake.root),
                      env={"SOVAUDIT_FAILPOINT": "after-first-parquet"})
    assert crashed.returncode == -signal.SIGKILL
    lake.ledger.path.unlink()  # the files of the two committed pulls are not the killed pull's

    [broken] = verify_lake(lake).breaks
    assert broken.where == "ledger.jsonl" and "the ledger is missing" in broken.problem


# -- blobs no entry names --------------------------------------------------------------------------------------

def test_a_planted_blob_is_listed_as_a_note(lake):
    planted = b'{"Records": []}'
    digest = sha256_hex(planted)
    (lake.archive.root / digest[:2]).mkdir(exist_ok=True)
    (lake.archive.root / digest[:2] / digest).write_bytes(planted)

    report = verify_lake(lake)
    assert report.ok, report.breaks
    [note] = _notes(report, "archive_blobs")
    assert note.startswith("1 blob(s) under raw/ are named by no ledger entry") and f"raw/{digest[:2]}/{digest}" in note

    proc = run_cli("verify", "--lake", str(lake.root))
    assert proc.returncode == 0 and digest in proc.stdout


def test_an_untouched_lake_has_no_note_about_blobs(lake):
    assert _notes(verify_lake(lake), "archive_blobs") == []
