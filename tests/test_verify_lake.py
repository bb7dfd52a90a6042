"""`sovaudit verify` on a real lake built from the third-party CloudTrail samples, then tampered with."""

import json
import os
import shutil
import stat
import time
from pathlib import Path

import pytest
from conftest import SAMPLES, run_cli

from sovaudit.archive import sha256_hex
from sovaudit.lake import Lake
from sovaudit.ledger import entry_hash
from sovaudit.pull import pull_source
from sovaudit.sources import config_from_flags
from sovaudit.verify import evidence_integrity, verify, verify_lake


@pytest.fixture(scope="module")
def pristine(tmp_path_factory) -> Path:
    """A lake made by three pulls of the 33 sample files (1,817 events), so the ledger has three entries."""
    base = tmp_path_factory.mktemp("pristine")
    files = sorted(SAMPLES.glob("*.json.gz"))
    lake = Lake(base / "lake")
    for n in range(3):
        part = base / f"part{n}"
        part.mkdir()
        for path in files[n * 11:(n + 1) * 11]:
            shutil.copy(path, part / path.name)
        result = pull_source(lake, config_from_flags("cloudtrail", path=str(part)))
        assert result.exit_code == 0
    return lake.root


@pytest.fixture
def lake(pristine: Path, tmp_path: Path) -> Lake:
    copy = tmp_path / "lake"
    shutil.copytree(pristine, copy)
    return Lake(copy)


def _flip_byte(path: Path, offset: int | None = None) -> None:
    os.chmod(path, stat.S_IRUSR | stat.S_IWUSR)
    data = bytearray(path.read_bytes())
    at = len(data) // 2 if offset is None else offset
    data[at] ^= 0x01
    path.write_bytes(bytes(data))


def _ledger_lines(lake: Lake) -> list[bytes]:
    return lake.ledger.path.read_bytes().splitlines(keepends=True)


def _breaks(report, check: str):
    return [b for b in report.breaks if b.check == check]


def test_an_untouched_lake_verifies_and_says_what_it_checked(lake):
    started = time.perf_counter()
    report = verify_lake(lake)
    elapsed = time.perf_counter() - started
    assert report.ok, report.breaks
    checked = {c.check: c.checked for c in report.checks}
    files = sum(len(e["files"]) for e in lake.ledger.entries())
    assert files >= 3
    assert checked == {"ledger_chain": 3, "archive_blobs": 33, "lake_files": files, "evidence_refs": 1817}
    assert report.ledger_head == lake.ledger.head()
    assert elapsed < 10, elapsed

    proc = run_cli("verify", "--lake", str(lake.root), "--format", "json")
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["ok"] is True and out["ledger_head"] == lake.ledger.head() and out["ledger_entries"] == 3
    assert [c["check"] for c in out["checks"]] == ["ledger_chain", "archive_blobs", "lake_files", "evidence_refs"]
    assert all(c["breaks"] == [] for c in out["checks"])

    table = run_cli("verify", "--lake", str(lake.root))
    assert table.returncode == 0, table.stderr
    assert "verified" in table.stdout and lake.ledger.head() in table.stdout


def test_a_flipped_byte_in_an_archived_blob_is_named_with_both_hashes(lake):
    blob = sorted(lake.archive.digests())[5]
    path = lake.archive.path_for(blob)
    _flip_byte(path)
    found = sha256_hex(path.read_bytes())

    report = verify_lake(lake)
    assert not report.ok
    [broken] = report.breaks
    assert broken.check == "archive_blobs"
    assert broken.where == f"raw/{blob[:2]}/{blob}"
    assert (broken.expected, broken.found) == (blob, found)
    assert "changed after it was archived" in broken.problem

    proc = run_cli("verify", "--lake", str(lake.root))
    assert proc.returncode == 1
    assert blob in proc.stdout and found in proc.stdout and "FAILED" in proc.stdout


def test_a_flipped_byte_in_a_parquet_file_is_named_with_the_ledger_hash(lake):
    entry = lake.ledger.entries()[1]
    committed = entry["files"][0]
    path = lake.root / committed["path"]
    _flip_byte(path, offset=len(path.read_bytes()) // 3)

    report = verify_lake(lake)
    [broken] = report.breaks
    assert broken.check == "lake_files"
    assert broken.where.startswith(committed["path"]) and "line 2 (seq 2" in broken.where
    assert broken.expected == committed["sha256"] and broken.found == sha256_hex(path.read_bytes())
    refs = next(c for c in report.checks if c.check == "evidence_refs")
    assert any("were not read" in note for note in refs.notes)

    proc = run_cli("verify", "--lake", str(lake.root), "--format", "json")
    assert proc.returncode == 1
    out = json.loads(proc.stdout)
    files = next(c for c in out["checks"] if c["check"] == "lake_files")
    assert files["ok"] is False and files["breaks"][0]["found"] == broken.found

    summary = evidence_integrity(lake)
    assert summary["result"] == "FAILED" and summary["ok"] is False
    [failed] = [c for c in summary["checks"] if not c["ok"]]
    assert failed["check"] == "lake_files" and failed["breaks"][0]["where"] == broken.where


def test_a_deleted_ledger_line_breaks_the_chain_at_the_line_after_it(lake):
    lines = _ledger_lines(lake)
    removed = json.loads(lines[1])
    lake.ledger.path.write_bytes(lines[0] + lines[2])

    report = verify_lake(lake)
    chain = _breaks(report, "ledger_chain")
    assert {b.where for b in chain} == {f"ledger.jsonl line 2 (seq 3, run {json.loads(lines[2])['run_id']})"}
    problems = " | ".join(b.problem for b in chain)
    assert "seq 2 is missing" in problems and "prev_hash" in problems
    prev = next(b for b in chain if "prev_hash" in b.problem)
    assert prev.expected == json.loads(lines[0])["hash"] and prev.found == removed["hash"]
    files = next(c for c in report.checks if c.check == "lake_files")
    assert any(removed["files"][0]["path"] in note for note in files.notes)

    proc = run_cli("verify", "--lake", str(lake.root))
    assert proc.returncode == 1 and "seq 2 is missing" in proc.stdout


def test_an_edited_count_is_caught_by_the_hash_and_by_the_counts(lake):
    lines = _ledger_lines(lake)
    entry = json.loads(lines[0])
    stored = entry["counts"]["stored"]
    edited = lines[0].replace(f'"stored":{stored}'.encode(), f'"stored":{stored - 5}'.encode(), 1)
    assert edited != lines[0]
    lake.ledger.path.write_bytes(edited + b"".join(lines[1:]))

    report = verify_lake(lake)
    chain = _breaks(report, "ledger_chain")
    assert chain and all(b.where.startswith("ledger.jsonl line 1 (seq 1") for b in chain)
    by_problem = {b.problem.split(":")[0]: b for b in chain}
    hash_break = by_problem["its content no longer matches the hash recorded with it"]
    assert hash_break.expected == entry["hash"] and hash_break.found != entry["hash"]
    assert any("do not add up" in b.problem and f"stored {stored - 5}" in b.found for b in chain)
    assert any("rows of the Parquet files" in b.problem and b.expected == f"stored {stored}" for b in chain)


def test_an_edited_count_with_a_recomputed_hash_still_breaks_the_chain(lake):
    lines = _ledger_lines(lake)
    entry = json.loads(lines[0])
    entry["counts"]["read"] -= 1
    entry["counts"]["stored"] -= 1
    entry["hash"] = entry_hash(entry)
    forged = json.dumps(entry, sort_keys=True, separators=(",", ":")).encode() + b"\n"
    lake.ledger.path.write_bytes(forged + b"".join(lines[1:]))

    report = verify_lake(lake)
    wheres = {(b.where.split(" (")[0], b.problem.split(":")[0]) for b in _breaks(report, "ledger_chain")}
    assert ("ledger.jsonl line 2", "prev_hash is not the hash of the entry on the line before") in wheres
    assert ("ledger.jsonl line 1", "its stored count differs from the rows of the Parquet files it committed") \
        in wheres


def test_a_truncated_head_is_caught_against_a_recorded_head(lake):
    head = lake.ledger.head()
    lines = _ledger_lines(lake)
    lake.ledger.path.write_bytes(b"".join(lines[:-1]))
    assert verify_lake(lake).ok  # a shorter chain is still a chain: only a head kept elsewhere can tell

    proc = run_cli("verify", "--lake", str(lake.root), "--expect-head", head, "--format", "json")
    assert proc.returncode == 1
    out = json.loads(proc.stdout)
    [broken] = next(c for c in out["checks"] if c["check"] == "ledger_head")["breaks"]
    assert broken["expected"] == head and broken["found"] == json.loads(lines[1])["hash"]


def test_a_deleted_blob_is_named_by_the_ledger_entry_and_the_rows_that_cite_it(lake):
    entry = lake.ledger.entries()[0]
    gone = entry["inputs"][0]["blob"]
    lake.archive.path_for(gone).unlink()

    report = verify_lake(lake)
    archive = _breaks(report, "archive_blobs")
    assert len(archive) == 1 and archive[0].where.startswith("ledger.jsonl line 1") and gone[:16] in archive[0].problem
    refs = _breaks(report, "evidence_refs")
    assert len(refs) == 1 and gone in refs[0].problem and refs[0].where.startswith("cloudtrail rows in ")
    rows = lake.sql("SELECT count(*) FROM cloudtrail WHERE evidence_blob = ?", [gone]).fetchall()[0][0]
    assert rows > 0 and refs[0].problem.startswith(f"{rows} row(s)")


def test_usage_errors_exit_2(tmp_path, lake):
    assert run_cli("verify", "--lake", str(tmp_path / "nowhere")).returncode == 2
    bad = run_cli("verify", "--lake", str(lake.root), "--format", "xml")
    assert bad.returncode == 2 and "--format" in bad.stderr


def test_verdict_table_stays_out_of_events_and_the_integrity_summary_has_what_the_report_needs(lake):
    report = verify(lake, cloudtrail=True, public_keys=None)
    assert report.ok and report.recorded is not None
    lake.refresh()
    assert lake.sql("SELECT count(*) FROM events").fetchall() == lake.sql("SELECT count(*) FROM cloudtrail").fetchall()
    assert lake.sql("SELECT DISTINCT status FROM cloudtrail_digest").fetchall() == [("not_covered",)]

    summary = evidence_integrity(lake)
    assert summary["ok"] is True and summary["result"] == "verified"
    assert summary["ledger_head"] == lake.ledger.head() and summary["ledger_entries"] == 4
    assert summary["verified_at"].endswith("Z")
    assert {c["check"] for c in summary["checks"]} == {"ledger_chain", "archive_blobs", "lake_files",
                                                        "evidence_refs"}
    assert summary["cloudtrail_digests"]["coverage"] == 0.0
    assert summary["cloudtrail_digests"]["log_files"] == {"not_covered": 33}
