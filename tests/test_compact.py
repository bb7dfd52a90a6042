"""`sovaudit compact`: many part files per day become one, the same rows, committed by a ledger entry of its own;
verify stays exact after it (and still catches tampering), a crash at any point leaves a valid lake, pulls go on
appending, and the checks find the same things. Lakes are built by real pulls; compaction runs as the CLI does."""

import gzip
import hashlib
import json
import shutil
import signal
from pathlib import Path

import pytest
from conftest import ct_event, run_cli, write_trail_file

from sovaudit.checks.runner import run_checks
from sovaudit.compaction import compact_locked
from sovaudit.config import load_config
from sovaudit.lake import Lake
from sovaudit.ledger import Ledger
from sovaudit.live_files import live_files
from sovaudit.lock import lake_lock
from sovaudit.verify import verify_lake

DAYS = ("2024-01-01", "2024-01-02", "2024-01-03")
PULLS = 3
FAILPOINTS = ["compact-after-rewrite", "compact-after-move", "compact-before-ledger", "torn-ledger",
              "compact-after-ledger"]


def _events(pull: int) -> list[dict]:
    return [ct_event(f"p{pull}-d{d}-{i}", time=f"{day}T{i % 24:02d}:{pull:02d}:00Z",
                     sourceIPAddress=f"8.8.{pull}.{i % 200}", eventName=("GetObject", "PutObject")[i % 2])
            for d, day in enumerate(DAYS) for i in range(40)]


@pytest.fixture(scope="module")
def part_lake_template(tmp_path_factory) -> Path:
    """A lake of three pulls, each writing one part file into each of three days: nine files."""
    root = tmp_path_factory.mktemp("parts")
    lake = root / "lake"
    for pull in range(PULLS):
        source = write_trail_file(root / "in" / f"pull{pull}" / "trail.json.gz", _events(pull))
        proc = run_cli("pull", "cloudtrail", "--path", str(source), "--lake", str(lake))
        assert proc.returncode == 0, proc.stderr
    return lake


@pytest.fixture
def part_lake(part_lake_template, tmp_path) -> Path:
    lake = tmp_path / "lake"
    shutil.copytree(part_lake_template, lake)
    return lake


def _rows(lake_dir: Path) -> list[tuple]:
    return Lake(lake_dir).sql("SELECT * FROM cloudtrail ORDER BY event_uid").fetchall()


def _columns(lake_dir: Path) -> list[tuple]:
    return Lake(lake_dir).sql("DESCRIBE cloudtrail").fetchall()


def _live(lake_dir: Path) -> list[dict]:
    return [record for _, record in live_files(Lake(lake_dir).ledger.entries())]


def _on_disk(lake_dir: Path) -> list[str]:
    return sorted(p.relative_to(lake_dir).as_posix() for p in (lake_dir / "tables").rglob("*") if p.is_file())


def _per_day(paths: list[str]) -> dict[str, int]:
    days: dict[str, int] = {}
    for path in paths:
        day = Path(path).parent.name
        days[day] = days.get(day, 0) + 1
    return days


def _compact(lake_dir: Path, *args: str, env: dict | None = None):
    return run_cli("compact", "--lake", str(lake_dir), *args, env=env)


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _verify_breaks(lake_dir: Path) -> list:
    return verify_lake(Lake(lake_dir)).breaks


def test_compact_merges_each_days_part_files_into_one_with_the_same_rows(part_lake):
    assert _per_day(_on_disk(part_lake)) == {f"date={d}": PULLS for d in DAYS}
    rows, columns = _rows(part_lake), _columns(part_lake)
    assert len(rows) == PULLS * len(DAYS) * 40

    proc = _compact(part_lake, "--format", "json")
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    [figures] = [t for t in out["tables"] if t["table"] == "cloudtrail"]
    assert (figures["days"], figures["files_before"], figures["files_after"], figures["rows"]) == (3, 9, 3, 360)
    assert 0 < figures["bytes_after"] < figures["bytes_before"]
    assert out["changed"] and not out["dry_run"]

    assert _per_day(_on_disk(part_lake)) == {f"date={d}": 1 for d in DAYS}
    assert _on_disk(part_lake) == sorted(r["path"] for r in _live(part_lake))
    # The same multiset of rows, every column, and the same columns with the same types.
    assert _rows(part_lake) == rows
    assert _columns(part_lake) == columns
    events = Lake(part_lake).sql("SELECT count(*), count(DISTINCT event_uid) FROM events").fetchall()
    assert events == [(360, 360)]


def test_compacted_rows_still_lead_to_their_evidence(part_lake):
    assert _compact(part_lake).returncode == 0
    lake = Lake(part_lake)
    rows = lake.sql("SELECT event_uid, evidence_blob, evidence_index FROM cloudtrail").fetchall()
    assert len(rows) == 360
    records = {}
    for uid, blob, index in rows:
        if blob not in records:
            records[blob] = json.loads(gzip.decompress(lake.archive.read(blob)))["Records"]
        assert records[blob][index]["eventID"] == uid


def test_the_compaction_entry_names_the_files_replaced_and_written_with_hashes_and_rows(part_lake):
    before = _live(part_lake)
    entries_before = len(Lake(part_lake).ledger.entries())
    assert _compact(part_lake).returncode == 0
    entries = Lake(part_lake).ledger.entries()
    assert len(entries) == entries_before + 1
    entry = entries[-1]
    assert entry["kind"] == "compaction" and entry["seq"] == entries_before + 1
    assert entry["prev_hash"] == entries[-2]["hash"]
    assert Ledger.tables_of(entry) == []  # not a pull: collected spans and the report's sources ignore it
    assert "counts" not in entry and "inputs" not in entry

    assert sorted((r["table"], r["path"], r["sha256"], r["rows"]) for r in entry["replaced"]) == \
        sorted((r["table"], r["path"], r["sha256"], r["rows"]) for r in before)
    assert len(entry["files"]) == len(DAYS) and entry["rows"] == 360
    for new in entry["files"]:
        path = part_lake / new["path"]
        assert new["table"] == "cloudtrail" and new["sha256"] == _sha256(path)
        sources = [r for r in entry["replaced"] if r["into"] == new["path"]]
        assert len(sources) == PULLS
        assert {Path(r["path"]).parent for r in sources} == {Path(new["path"]).parent}  # the same day
        assert new["rows"] == sum(r["rows"] for r in sources) == 120
    for old in entry["replaced"]:
        assert not (part_lake / old["path"]).exists()  # deleted once the entry was appended
    assert _live(part_lake) == entry["files"]


def test_verify_passes_after_compaction(part_lake):
    assert _compact(part_lake).returncode == 0
    proc = run_cli("verify", "--lake", str(part_lake), "--format", "json")
    assert proc.returncode == 0, proc.stdout
    checks = {c["check"]: c for c in json.loads(proc.stdout)["checks"]}
    assert checks["lake_files"]["checked"] == len(DAYS) and checks["lake_files"]["notes"] == []
    assert checks["evidence_refs"]["checked"] == 360
    assert checks["ledger_chain"]["checked"] == PULLS + 1


def _first_new_file(lake_dir: Path) -> Path:
    return lake_dir / Lake(lake_dir).ledger.entries()[-1]["files"][0]["path"]


@pytest.mark.parametrize("damage", ["changed", "missing", "truncated"])
def test_verify_still_catches_a_compacted_file_changed_or_missing(part_lake, damage):
    assert _compact(part_lake).returncode == 0
    target = _first_new_file(part_lake)
    if damage == "changed":
        data = bytearray(target.read_bytes())
        data[len(data) // 2] ^= 0xFF
        target.write_bytes(bytes(data))
    elif damage == "missing":
        target.unlink()
    else:
        target.write_bytes(target.read_bytes()[:100])
    proc = run_cli("verify", "--lake", str(part_lake), "--format", "json")
    assert proc.returncode == 1
    [broken] = [b for c in json.loads(proc.stdout)["checks"] for b in c["breaks"]]
    assert broken["check"] == "lake_files" and target.relative_to(part_lake).as_posix() in broken["where"]
    expected = {"changed": "no longer match", "missing": "is missing", "truncated": "no longer match"}[damage]
    assert expected in broken["problem"]


def test_a_replaced_file_put_back_is_noted_and_never_read(part_lake, tmp_path):
    keep = tmp_path / "old"
    old = _live(part_lake)[0]
    keep.write_bytes((part_lake / old["path"]).read_bytes())
    rows = _rows(part_lake)
    assert _compact(part_lake).returncode == 0
    (part_lake / old["path"]).write_bytes(keep.read_bytes())  # an extra file: the old part, restored
    report = verify_lake(Lake(part_lake))
    assert report.ok
    [note] = next(c for c in report.checks if c.check == "lake_files").notes
    assert note.startswith("1 file(s) under tables/ or quarantine/ are not part of the lake") and old["path"] in note
    assert _rows(part_lake) == rows  # its rows are not read twice
    # The next writer removes it.
    assert _compact(part_lake).returncode == 0
    assert not (part_lake / old["path"]).exists()


def _rewrite_last_entry(lake_dir: Path, change) -> None:
    """Replace the compaction entry by an altered one, appended properly (hash and chain intact): only the
    compaction's own consistency can show it."""
    ledger = Ledger(lake_dir / "ledger.jsonl")
    lines = ledger.path.read_bytes().splitlines(keepends=True)
    entry = json.loads(lines[-1])
    ledger.path.write_bytes(b"".join(lines[:-1]))
    for key in ("seq", "prev_hash", "hash"):
        entry.pop(key)
    change(entry)
    with lake_lock(lake_dir):
        ledger.append(entry)


def _more_rows(entry):
    entry["files"][0]["rows"] += 1


def _foreign_file(entry):
    entry["replaced"][0]["path"] = "tables/cloudtrail/date=2024-01-01/never-committed.parquet"


def _other_hash(entry):
    entry["replaced"][0]["sha256"] = "0" * 64


def _nowhere(entry):
    entry["replaced"][0]["into"] = "tables/cloudtrail/date=2024-01-09/elsewhere.parquet"


@pytest.mark.parametrize(("change", "problem"), [
    (_more_rows, "row count other than the files it replaces held"),
    (_foreign_file, "which was not part of the lake at that point"),
    (_other_hash, "with a sha256 other than the one its own entry recorded"),
    (_nowhere, "which is not a file this compaction wrote"),
])
def test_verify_catches_a_compaction_entry_that_does_not_add_up(part_lake, change, problem):
    assert _compact(part_lake).returncode == 0
    _rewrite_last_entry(part_lake, change)
    breaks = _verify_breaks(part_lake)
    assert any(b.check == "ledger_chain" and problem in b.problem for b in breaks), breaks


def test_an_edited_compaction_entry_breaks_its_hash(part_lake):
    assert _compact(part_lake).returncode == 0
    path = part_lake / "ledger.jsonl"
    lines = path.read_bytes().splitlines(keepends=True)
    entry = json.loads(lines[-1])
    entry["replaced"] = entry["replaced"][1:]  # hide that a file was replaced
    path.write_bytes(b"".join([*lines[:-1], json.dumps(entry, sort_keys=True, separators=(",", ":")).encode(), b"\n"]))
    [broken, *_] = [b for b in _verify_breaks(part_lake) if b.check == "ledger_chain"]
    assert "no longer matches the hash recorded with it" in broken.problem


def test_a_second_compact_is_a_no_op(part_lake):
    assert _compact(part_lake).returncode == 0
    ledger, files = (part_lake / "ledger.jsonl").read_bytes(), _on_disk(part_lake)
    proc = _compact(part_lake, "--format", "json")
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert not out["changed"] and out["run_id"] is None
    assert all(t["days"] == 0 and t["files_before"] == t["files_after"] for t in out["tables"])
    assert (part_lake / "ledger.jsonl").read_bytes() == ledger and _on_disk(part_lake) == files
    table = _compact(part_lake)
    assert table.returncode == 0 and "nothing to compact" in table.stdout


def _snapshot(lake_dir: Path) -> dict[str, str]:
    return {p.relative_to(lake_dir).as_posix(): _sha256(p) for p in lake_dir.rglob("*") if p.is_file()}


def test_dry_run_changes_nothing_and_says_what_it_would_do(part_lake):
    before = _snapshot(part_lake)
    proc = _compact(part_lake, "--dry-run", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    [figures] = [t for t in out["tables"] if t["table"] == "cloudtrail"]
    assert out["dry_run"] and out["changed"] and out["run_id"] is None
    assert (figures["days"], figures["files_before"], figures["files_after"]) == (3, 9, 3)
    assert figures["bytes_after"] is None
    table = _compact(part_lake, "--dry-run")
    assert table.returncode == 0 and "dry run: nothing was changed" in table.stdout and "9 → 3" in table.stdout
    assert _snapshot(part_lake) == before


@pytest.mark.parametrize("failpoint", FAILPOINTS)
def test_a_compaction_killed_at_any_point_leaves_a_valid_lake(part_lake, failpoint):
    rows, entries = _rows(part_lake), len(Lake(part_lake).ledger.entries())
    crashed = _compact(part_lake, env={"SOVAUDIT_FAILPOINT": failpoint})
    assert crashed.returncode == -signal.SIGKILL
    # What readers see: the old files until the entry is appended, the new ones after; the same rows either way.
    assert _rows(part_lake) == rows
    report = verify_lake(Lake(part_lake))
    assert report.ok, report.breaks
    committed = len(Lake(part_lake).ledger.entries())
    assert committed == entries + (failpoint == "compact-after-ledger")
    # The next writer recovers (orphans and a torn line removed) and finishes the job.
    proc = _compact(part_lake, "--format", "json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["changed"] == (failpoint != "compact-after-ledger")
    assert _rows(part_lake) == rows
    assert _on_disk(part_lake) == sorted(r["path"] for r in _live(part_lake))
    assert _per_day(_on_disk(part_lake)) == {f"date={d}": 1 for d in DAYS}
    assert not (part_lake / "tmp").exists() or not any((part_lake / "tmp").iterdir())
    assert verify_lake(Lake(part_lake)).ok


def test_a_pull_after_compaction_appends_and_still_finds_stored_ids(part_lake, tmp_path):
    assert _compact(part_lake).returncode == 0
    again = [ct_event("p0-d0-0", time="2024-01-01T00:00:00Z", sourceIPAddress="8.8.0.0"),  # stored, same content
             ct_event("new-1", time="2024-01-02T12:00:00Z"), ct_event("new-2", time="2024-01-04T12:00:00Z")]
    source = write_trail_file(tmp_path / "later" / "trail.json.gz", again)
    proc = run_cli("pull", "cloudtrail", "--path", str(source), "--lake", str(part_lake), "--format", "json")
    assert proc.returncode == 0, proc.stderr
    [pulled] = json.loads(proc.stdout)
    assert pulled["counts"] == {"read": 3, "stored": 2, "duplicate": 1, "quarantined": 0}
    assert pulled["compaction"] is None  # [lake] compact is off by default
    assert _per_day(_on_disk(part_lake)) == {"date=2024-01-01": 1, "date=2024-01-02": 2, "date=2024-01-03": 1,
                                             "date=2024-01-04": 1}
    assert Lake(part_lake).sql("SELECT count(*) FROM cloudtrail").fetchall() == [(362,)]
    assert run_cli("verify", "--lake", str(part_lake)).returncode == 0
    # Compacting again rewrites only the day the pull added to.
    out = json.loads(_compact(part_lake, "--format", "json").stdout)
    [figures] = [t for t in out["tables"] if t["table"] == "cloudtrail"]
    assert (figures["days"], figures["files_before"], figures["files_after"], figures["rows"]) == (1, 5, 4, 362)
    assert run_cli("verify", "--lake", str(part_lake)).returncode == 0


def test_lake_compact_setting_makes_a_pull_compact_the_days_it_wrote(part_lake, tmp_path):
    config = tmp_path / "sovaudit.toml"
    config.write_text("[lake]\ncompact = true\n")
    source = write_trail_file(tmp_path / "later" / "trail.json.gz", [ct_event("late-1", time="2024-01-02T12:00:00Z")])
    proc = run_cli("pull", "cloudtrail", "--path", str(source), "--lake", str(part_lake), "--config", str(config),
                   "--format", "json")
    assert proc.returncode == 0, proc.stderr
    [pulled] = json.loads(proc.stdout)
    compaction = pulled["compaction"]
    # Only 2024-01-02, the day it wrote to: its three parts and the new one.
    assert (compaction["files_replaced"], compaction["files_written"], compaction["rows"]) == (PULLS + 1, 1, 121)
    days = _per_day(_on_disk(part_lake))
    assert days == {"date=2024-01-01": PULLS, "date=2024-01-02": 1, "date=2024-01-03": PULLS}
    entries = Lake(part_lake).ledger.entries()
    assert [e.get("kind") for e in entries[-2:]] == [None, "compaction"]
    assert compaction["ledger_hash"] == entries[-1]["hash"]
    assert verify_lake(Lake(part_lake)).ok


def test_a_size_limit_makes_several_files_of_a_day(part_lake):
    lake = Lake(part_lake)
    sizes = [(part_lake / r["path"]).stat().st_size for r in _live(part_lake)]
    rows = _rows(part_lake)
    with lake_lock(part_lake):
        result = compact_locked(lake, max_file_bytes=int(max(sizes) * 2.5))  # two of a day's three files fit
    lake.refresh()
    assert result.entry is not None
    assert _per_day(_on_disk(part_lake)) == {f"date={d}": 2 for d in DAYS}
    # The third file of each day was alone in its group: left as it was, not rewritten.
    assert len(result.entry["files"]) == len(DAYS) and len(result.entry["replaced"]) == 2 * len(DAYS)
    assert _rows(part_lake) == rows and verify_lake(lake).ok


def test_a_file_that_does_not_match_the_ledger_is_never_compacted(part_lake):
    target = part_lake / _live(part_lake)[1]["path"]
    data = bytearray(target.read_bytes())
    data[len(data) // 2] ^= 0xFF
    target.write_bytes(bytes(data))
    ledger = (part_lake / "ledger.jsonl").read_bytes()
    proc = _compact(part_lake)
    assert proc.returncode == 1
    assert "no longer match the SHA-256 the ledger recorded" in proc.stderr and "sovaudit verify" in proc.stderr
    assert (part_lake / "ledger.jsonl").read_bytes() == ledger and target.exists()


def test_compact_takes_the_lake_lock_and_refuses_a_missing_lake_or_table(part_lake, tmp_path):
    with lake_lock(part_lake):
        proc = _compact(part_lake, "--lock-timeout", "1")
    assert proc.returncode == 2 and "holds the lake lock" in proc.stderr
    missing = run_cli("compact", "--lake", str(tmp_path / "nowhere"))
    assert missing.returncode == 2 and "no such directory, so no lake here" in missing.stderr
    unknown = _compact(part_lake, "--table", "cloudtrial")
    assert unknown.returncode == 2 and "--table: found 'cloudtrial', expected a lake table" in unknown.stderr
    assert _per_day(_on_disk(part_lake)) == {f"date={d}": PULLS for d in DAYS}


def _findings(run) -> dict[str, tuple]:
    return {r.check.id: (r.status, r.status_reason, [f.as_dict() for f in r.findings]) for r in run.results}


def test_the_checks_find_the_same_before_and_after_compaction(planted_scenario, tmp_path):
    _, planted_lake, config = planted_scenario
    lake_dir = tmp_path / "lake"
    shutil.copytree(planted_lake.root, lake_dir)
    loaded = load_config(config)
    before = run_checks(Lake(lake_dir), loaded)
    files_before = len(_on_disk(lake_dir))
    proc = _compact(lake_dir, "--format", "json")
    assert proc.returncode == 0, proc.stderr
    assert len(_on_disk(lake_dir)) < files_before
    after = run_checks(Lake(lake_dir), loaded)
    assert _findings(after) == _findings(before)
    assert sum(len(r.findings) for r in after.results) > 0
    assert after.coverage == before.coverage
