"""The hostile-input corpus (tests/hostile_corpus.py) through every `--path` verb (issue 15, "Tests").

For each verb, one real `sovaudit pull <verb> --path DIR` (a subprocess, as a user runs it) over a directory holding
one file per damage class and file shape: good records with one bad record between them. Each (verb, class, shape)
is then judged on its own, by its file's quarantine rows and its records' ids: no traceback, exit 0 or 3, every
good record stored, `read = stored + duplicate + quarantined`, and the bad record quarantined with a reason and its
position (or, where the class is no damage to that verb, what happens instead).

Then, in-process (pull_source, faster than the CLI), hypothesis mutates real sample records of each verb (byte
flips, truncation, a repeated member, a corpus record inserted between them) and checks the same invariants.
"""

import gzip
import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest
from azure_fixtures import AZURE_SAMPLES
from conftest import REPO, assert_counts_add_up, run_cli, sample_records
from hostile_corpus import (
    DAMAGE,
    VERBS,
    ClassFile,
    Verb,
    array,
    azure_export,
    compact,
    json_lines,
    trail,
    write_corpus,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from kafka_fixtures import KAFKA_SAMPLES

from sovaudit.lake import Lake
from sovaudit.pull import pull_source
from sovaudit.sources import config_from_flags
from sovaudit.sources.azure.preparer import detect_table as azure_table

# What the pull makes of a class's file:
#   quarantined  the bad record is quarantined alone, at its position, with a reason; the good ones are stored
#   stored       no damage to this verb: the bad record is stored beside the good ones, nothing quarantined
#   clean        the class damages the file, not a record (a BOM, concatenation): every record stored
#   rest         a syntax error inside one JSON document: the records before it are stored, and the rest of the
#                document is one quarantined record at the bad record's position (the extractor's decision, and the
#                careful splitter's: after a syntax error there is no telling where a record starts again)
#   blob         the file cannot be decompressed: the blob is one quarantined input with no position; its good
#                neighbours, in a sound file beside it, are stored
DEFAULT = {"nul-escaped": "stored", "bom-at-start": "clean", "bom-mid-file": "clean", "concatenated": "clean",
           "gzip-members": "clean", "truncated-gzip": "blob"}
OVERRIDES = {
    # `\u0000` is a valid escape: every verb stores the string with its NUL (outputs escape it when shown).
    # Azure reads durationMs with TRY_CAST: a duration beyond 64 bits is no duration, and the record is stored.
    ("azure", "integer-beyond-64-bits"): "stored",
    # DuckDB's JSON functions match names exactly (tests/hostile_corpus.py checked `Time` beside `time`), so a
    # case variant beside a mapped name of an Azure record is one more unmapped member. The extractor (CloudTrail,
    # Kafka) sets it aside: the record says two things, and DuckDB's read_json, which it replaced for CloudTrail,
    # matched column names ignoring case.
    ("azure", "case-variant-key"): "stored",
}
# Every (verb, damage class, shape) of the corpus is judged; none is left out.
LEFT_OUT: set[tuple[str, str, str]] = set()


def expected(entry: ClassFile) -> str:
    if entry.damage.startswith("invalid-json") and entry.shape != "lines":
        return "rest"
    return OVERRIDES.get((entry.verb, entry.damage), DEFAULT.get(entry.damage, "quarantined"))


@dataclass
class Pulled:
    returncode: int
    stderr: str
    counts: dict[str, int]
    files: list[ClassFile]
    uids: set[str]
    quarantine: dict[str, list[tuple[int | None, int | None, str]]]  # origin -> (record_index, byte_offset, reason)
    records_read: dict[str, int]  # the ledger's records read, per file


@cache
def _pull(verb_name: str, root: Path) -> Pulled:
    verb = VERBS[verb_name]
    files = write_corpus(verb, root / "in")
    lake_dir = root / "lake"
    proc = run_cli("pull", verb.name, "--path", str(root / "in"), "--lake", str(lake_dir), "--format", "json",
                   *verb.flags, cwd=root)
    lake = Lake(lake_dir)
    lake.refresh()
    uids = {uid for table in verb.tables for (uid,) in lake.sql(f"SELECT event_uid FROM {table}").fetchall()}  # noqa: S608
    quarantine: dict[str, list] = {}
    for origin, index, offset, reason in lake.sql("SELECT origin, record_index, byte_offset, reason FROM quarantine "
                                                  "ORDER BY origin, record_index").fetchall():
        quarantine.setdefault(origin, []).append((index, offset, reason))
    entries = list(lake.ledger.entries())  # none when the pull crashed: every case then fails on its own
    read = {i["path"]: i.get("records", 0) for entry in entries for i in entry["inputs"]}
    counts = json.loads(proc.stdout)[0]["counts"] if proc.stdout.strip().startswith("[") else {}
    return Pulled(proc.returncode, proc.stderr, counts, files, uids, quarantine, read)


@pytest.fixture(scope="module")
def pulled(tmp_path_factory):
    root = tmp_path_factory.mktemp("hostile")
    return lambda verb: _pull(verb, root / verb)


CASES = [(verb, damage.name, shape) for verb in VERBS for shape in (["lines", "records"] if verb in ("cloudtrail", "azure")
                                                                     else ["lines", "array"] if verb == "kafka-audit"
                                                                     else ["lines"])
         for damage in DAMAGE if (verb, damage.name, shape) not in LEFT_OUT]


@pytest.mark.parametrize("verb", VERBS)
def test_one_pull_of_the_whole_corpus_exits_3_without_a_traceback_and_its_counts_add_up(pulled, verb):
    run = pulled(verb)
    assert "Traceback" not in run.stderr, run.stderr[-3000:]
    assert run.returncode == 3, run.stderr[-3000:]  # records were quarantined: partial, not failed
    c = run.counts
    assert c["read"] == c["stored"] + c["duplicate"] + c["quarantined"], c
    assert c["duplicate"] == 0
    assert c["stored"] == len(run.uids)
    assert c["quarantined"] == sum(len(rows) for rows in run.quarantine.values())
    assert c["read"] == sum(run.records_read.values())


@pytest.mark.parametrize(("verb", "damage", "shape"), CASES)
def test_each_damage_class_costs_only_its_bad_record(pulled, verb, damage, shape):
    run = pulled(verb)
    [entry] = [f for f in run.files if (f.damage, f.shape) == (damage, shape)]
    outcome = expected(entry)
    v = VERBS[verb]
    stem = f"{damage}-{shape}-"
    stored = {uid for uid in run.uids if stem in uid}
    rows = [row for path in entry.paths for row in run.quarantine.get(str(path), [])]
    read = sum(run.records_read.get(str(path.resolve()), 0) for path in entry.paths)
    good = {v.uid(i) for i in entry.good}

    if outcome == "rest":
        assert stored == {v.uid(entry.good[0])} if entry.bad_position == 1 else stored == set(), stored
        [(index, _offset, reason)] = rows
        assert index == entry.bad_position and "invalid JSON" in reason, rows
    elif outcome == "blob":
        assert stored == good
        [(index, offset, reason)] = rows
        assert (index, offset) == (None, None) and "truncated or corrupt gzip" in reason, rows
    elif outcome == "stored":
        assert stored == good | {v.uid(entry.bad_id)} and rows == [], (stored, rows)
    elif outcome == "clean":
        assert stored == good and rows == [], (stored, rows)
    else:
        assert stored == good, (sorted(good - stored), rows)
        [(index, _offset, reason)] = rows
        assert index == entry.bad_position and reason.strip(), rows
    assert read == len(stored) + len(rows), (read, stored, rows)


# -- properties over real records, mutated -------------------------------------------------------------------

def _azure_samples() -> list[dict]:
    records = []
    for path in sorted(p for p in AZURE_SAMPLES.glob("*.json") if not p.name.endswith(".invalid.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        for record in data.get("records", [data]) if isinstance(data, dict) else data:
            if "time" in record or "eventTimestamp" in record:  # not the documentation's bare fragments
                records.append(record)
    return records


def _kafka_audit_samples() -> list[dict]:
    events = [json.loads(p.read_text(encoding="utf-8")) for p in sorted(KAFKA_SAMPLES.glob("kdp-0*.json"))]
    lines = (KAFKA_SAMPLES / "kdp-audit-events.derived.ndjson").read_text(encoding="utf-8").splitlines()
    return events + [json.loads(line) for line in lines if line.strip()]


def _demo_lines(directory: str) -> list[dict]:
    """sovaudit's own files of the demo: what `pull kafka-inventory|kafka-lineage` writes from a broker."""
    path = sorted((REPO / "sovaudit" / "demo" / "data" / "kafka" / directory).glob("*.ndjson.gz"))[0]
    return [json.loads(line) for line in gzip.decompress(path.read_bytes()).splitlines()[:40]]


def _stamp_azure(record: dict, record_id: str) -> tuple[dict, str]:
    field = "eventDataId" if azure_table(record) == "azure_activity" else "id"
    return {**record, field: record_id}, record_id


def _stamp_topic(record: dict, record_id: str) -> tuple[dict, str]:
    return {**record, "topic": record_id}, f"{record['cluster_id']}/{record_id}@{record['snapshot_time']}"


def _stamp_lineage(record: dict, record_id: str) -> tuple[dict, str]:
    kafka = {**record["kafka"], "topic": record_id}
    return {**record, "kafka": kafka}, f"{kafka['cluster_id']}/{record_id}/{kafka['partition']}@{kafka['offset']}"


@dataclass(frozen=True)
class Real:
    """A verb's real records, how each is given an id of its own, and the file shapes its exporters write."""

    pool: list[dict]
    stamp: object  # (record, id) -> (record with that identity, its event_uid in the lake)
    shapes: dict


REAL = {
    "cloudtrail": Real([r for records in sample_records().values() for r in records],
                       lambda r, i: ({**r, "eventID": i}, i), {"lines": json_lines, "records": trail}),
    "azure": Real(_azure_samples(), _stamp_azure, {"lines": json_lines, "records": azure_export}),
    "kafka-audit": Real(_kafka_audit_samples(), lambda r, i: ({**r, "id": i}, i),
                        {"lines": json_lines, "array": array}),
    "kafka-inventory": Real(_demo_lines("inventory-eu"), _stamp_topic, {"lines": json_lines}),
    "kafka-lineage": Real(_demo_lines("lineage"), _stamp_lineage, {"lines": json_lines}),
}
# Records whose own damage the corpus builds (the "between" classes), to insert between real ones.
BAD_RECORDS = [d for d in DAMAGE if d.layout == "between"]


def _flip(span: bytes, at: int, bits: int) -> bytes:
    at %= len(span)
    return span[:at] + bytes([span[at] ^ bits]) + span[at + 1:]


def _repeat_member(span: bytes, _at: int, _bits: int) -> bytes:
    """The record's first member named again, first, with another value."""
    name = next(iter(json.loads(span)))
    return b"{" + json.dumps(name).encode() + b':"again",' + span[1:]


MUTATIONS = {
    "flip": _flip,
    "truncate": lambda span, at, _bits: span[: 1 + at % (len(span) - 1)],
    "repeat a member": _repeat_member,
}
# ids that differ in three places: one flipped byte cannot turn one record into another
IDS = [f"hyp-{n}{n}{n}" for n in range(10)]


def _check_invariants(verb: Verb, tmp: Path, data: bytes, name: str, kept: set[str], gone: set[str] = frozenset()):
    """Pull one file; the records of `kept` must be stored, those of `gone` must not be."""
    src = tmp / "in"
    src.mkdir(parents=True)
    (src / name).write_bytes(data)
    lake = Lake(tmp / "lake")
    region = {"region": "eu-west-1"} if verb.name.startswith("kafka") else {}
    result = pull_source(lake, config_from_flags(verb.name, path=str(src), **region))
    assert_counts_add_up(result)
    assert result.exit_code in (0, 3)
    lake.refresh()
    uids = {uid for table in verb.tables for (uid,) in lake.sql(f"SELECT event_uid FROM {table}").fetchall()}  # noqa: S608
    assert kept <= uids, sorted(kept - uids)
    assert not gone & uids
    assert result.counts["stored"] == len(uids)
    rows = lake.sql("SELECT record_index, reason FROM quarantine").fetchall()
    assert len(rows) == result.counts["quarantined"]
    for index, reason in rows:
        assert reason.strip() and (index is None or index >= 0), rows
    return rows


PROPERTY = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                            HealthCheck.too_slow])


@pytest.mark.parametrize("verb", VERBS)
@PROPERTY
@given(data=st.data())
def test_a_mutated_real_record_costs_at_most_itself(tmp_path_factory, verb, data):
    real = REAL[verb]
    v = VERBS[verb]
    shape = data.draw(st.sampled_from(sorted(real.shapes)), "shape")
    picked = data.draw(st.lists(st.sampled_from(real.pool), min_size=2, max_size=5), "records")
    stamped = [real.stamp(record, IDS[n]) for n, record in enumerate(picked)]
    spans = [compact(record) for record, _ in stamped]
    k = data.draw(st.integers(0, len(spans) - 1), "damaged")
    mutation = data.draw(st.sampled_from(sorted(MUTATIONS)), "mutation")
    bad = MUTATIONS[mutation](spans[k], data.draw(st.integers(0, 1 << 20)), data.draw(st.integers(1, 255)))
    blob = real.shapes[shape]([bad if n == k else span for n, span in enumerate(spans)])
    uids = [uid for _, uid in stamped]
    # In JSON lines a record's damage stays on its line (a first line too, now); inside one document a syntax
    # error sets the rest aside, so only the records before the damaged one are sure to be kept.
    kept = {uid for n, uid in enumerate(uids) if n != k and (shape == "lines" or n < k)}
    gone = {uids[k]} if mutation == "repeat a member" else set()
    rows = _check_invariants(v, tmp_path_factory.mktemp(verb), blob, "mutated.json", kept, gone)
    if mutation == "repeat a member" and shape == "lines" and (verb, "duplicate-key", "lines") not in LEFT_OUT:
        assert [index for index, _ in rows] == [k]


@pytest.mark.parametrize("verb", VERBS)
@PROPERTY
@given(data=st.data())
def test_a_corpus_record_between_real_ones_costs_only_itself(tmp_path_factory, verb, data):
    real = REAL[verb]
    v = VERBS[verb]
    shape = data.draw(st.sampled_from(sorted(real.shapes)), "shape")
    picked = data.draw(st.lists(st.sampled_from(real.pool), min_size=2, max_size=5), "records")
    stamped = [real.stamp(record, IDS[n]) for n, record in enumerate(picked)]
    damage = data.draw(st.sampled_from(BAD_RECORDS), "damage")
    k = data.draw(st.integers(1, len(stamped) - 1), "between")
    bad = damage.bad(v, "hyp-bad")
    spans = [compact(record) for record, _ in stamped]
    blob = real.shapes[shape]([*spans[:k], bad, *spans[k:]])
    if data.draw(st.booleans(), "gzip"):
        blob = gzip.compress(blob)
    uids = {uid for _, uid in stamped}
    syntax = damage.name == "invalid-json" and shape != "lines"
    kept = {uid for n, (_, uid) in enumerate(stamped) if n < k} if syntax else uids
    rows = _check_invariants(v, tmp_path_factory.mktemp(verb), blob, "between.json.gz", kept)
    outcome = "rest" if syntax else OVERRIDES.get((verb, damage.name), DEFAULT.get(damage.name, "quarantined"))
    if outcome != "stored" and (verb, damage.name, "lines") not in LEFT_OUT:
        assert [index for index, _ in rows] == [k], rows
