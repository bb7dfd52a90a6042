"""One record per event id across the whole table (issue 13): a record whose id is stored already is a duplicate when
its content is the same (as parsed JSON: key order and whitespace do not count), and is quarantined naming the stored
copy when it is not, whatever day it is on. `verify` and the report count those conflicts. The base records are the
third-party samples in fixtures/ (CloudTrail, Azure Monitor, Confluent audit events), mutated here."""

import base64
import copy
import gzip
import hashlib
import json
from pathlib import Path

import pytest
from conftest import REPO, SAMPLES, assert_counts_add_up, ct_event, run_cli, write_trail_file

from sovaudit import open_lake
from sovaudit.ingest.repeats import _canonical_sha256, canonical
from sovaudit.lake import Lake
from sovaudit.pull import pull_source
from sovaudit.sources import config_from_flags

SAMPLE = sorted(SAMPLES.glob("*.json.gz"))[0]
RECORDS = json.loads(gzip.decompress(SAMPLE.read_bytes()))["Records"]
KAFKA_EVENT = REPO / "fixtures" / "kafka" / "kdp-01-fetchconsumer-metadata-auth-456.json"
AZURE_EVENT = REPO / "fixtures" / "azure" / "activity-log-rest-administrative.json"


def pull(lake_dir: Path, path: Path, source: str = "cloudtrail", **flags):
    result = pull_source(Lake(lake_dir), config_from_flags(source, path=str(path), **flags))
    assert_counts_add_up(result)
    return result


def quarantined(lake_dir: Path) -> list[dict]:
    rel = open_lake(lake_dir).sql("SELECT blob, record_index, reason FROM quarantine ORDER BY blob, record_index")
    return [dict(zip(rel.columns, row, strict=True)) for row in rel.fetchall()]


def stored(lake_dir: Path, uid: str, table: str = "events") -> list[dict]:
    rel = open_lake(lake_dir).sql(f"SELECT * FROM {table} WHERE event_uid = $uid", {"uid": uid})  # noqa: S608
    return [dict(zip(rel.columns, row, strict=True)) for row in rel.fetchall()]


def reason(uid: str, blob: str, index: int) -> str:
    return f"event id {uid} already stored with other content (blob {blob} record {index})"


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def sorted_keys(value):
    """The same JSON with every object's keys in reverse order: only the key order differs."""
    if isinstance(value, dict):
        return {k: sorted_keys(value[k]) for k in sorted(value, reverse=True)}
    if isinstance(value, list):
        return [sorted_keys(v) for v in value]
    return value


def test_the_same_records_written_another_way_are_duplicates(lake_dir, tmp_path):
    pull(lake_dir, SAMPLE)
    again = tmp_path / "again"
    # Pretty-printed with every object's keys reordered, and one record per line with spaces after separators.
    again.mkdir()
    (again / "reordered.json").write_text(json.dumps({"Records": [sorted_keys(r) for r in RECORDS]}, indent=3))
    (again / "spaced.jsonl").write_text("".join(json.dumps(r, separators=(" , ", " : ")) + "\n" for r in RECORDS))
    result = pull(lake_dir, again)
    n = len(RECORDS)
    assert result.counts == {"read": 2 * n, "stored": 0, "duplicate": 2 * n, "quarantined": 0}
    assert result.exit_code == 0


def test_a_record_reusing_an_id_with_other_content_is_quarantined_naming_the_stored_copy(lake_dir, tmp_path):
    pull(lake_dir, SAMPLE)
    original = RECORDS[3]
    altered = {**original, "sourceIPAddress": "203.0.113.77"}
    path = write_trail_file(tmp_path / "altered" / "copy.json.gz", [RECORDS[0], altered])
    result = pull(lake_dir, path)
    assert result.counts == {"read": 2, "stored": 0, "duplicate": 1, "quarantined": 1}
    assert result.exit_code == 3
    [kept] = stored(lake_dir, original["eventID"])
    assert kept["src_ip"] == original["sourceIPAddress"] == "10.248.16.43"
    assert kept["evidence_blob"] == sha256(SAMPLE)
    [row] = quarantined(lake_dir)
    assert row == {"blob": sha256(path), "record_index": 1,
                   "reason": reason(original["eventID"], kept["evidence_blob"], kept["evidence_index"])}


def test_an_id_on_another_day_is_stored_once(lake_dir, tmp_path):
    """Uniqueness holds across dates: before, only the day of the new record was searched for its id."""
    pull(lake_dir, SAMPLE)
    original = RECORDS[5]
    day, rest = original["eventTime"].split("T")
    moved = {**original, "eventTime": day[:8] + f"{int(day[8:]) + 3:02d}T" + rest}
    path = write_trail_file(tmp_path / "moved" / "later.json.gz", [moved])
    result = pull(lake_dir, path)
    assert result.counts == {"read": 1, "stored": 0, "duplicate": 0, "quarantined": 1}
    [kept] = stored(lake_dir, original["eventID"])
    assert kept["time"].isoformat().startswith(original["eventTime"][:10])
    assert [r["reason"] for r in quarantined(lake_dir)] == [
        reason(original["eventID"], kept["evidence_blob"], kept["evidence_index"])]


def test_inside_one_pull_later_copies_are_judged_against_the_first(lake_dir, tmp_path):
    """The first copy by blob and position is stored; the same one again is a duplicate, another one (on another
    day too) is quarantined naming the first."""
    first = ct_event("reused-1", time="2024-01-02T10:00:00Z")
    other_day = ct_event("reused-1", time="2024-01-05T09:00:00Z")
    path = write_trail_file(tmp_path / "in" / "one.json.gz", [first, copy.deepcopy(first), other_day])
    result = pull(lake_dir, path)
    assert result.counts == {"read": 3, "stored": 1, "duplicate": 1, "quarantined": 1}
    [kept] = stored(lake_dir, "reused-1")
    assert (kept["evidence_blob"], kept["evidence_index"]) == (sha256(path), 0)
    assert quarantined(lake_dir) == [{"blob": sha256(path), "record_index": 2,
                                      "reason": reason("reused-1", sha256(path), 0)}]


def test_repeats_are_found_when_the_pulls_id_hashes_are_grouped_in_many_shares(lake_dir, tmp_path, monkeypatch):
    """At commit the ids' hashes are grouped a share at a time (memory): with a share per two rows, every repeat is
    still found, in the pull and in the lake, whichever share its hash falls in."""
    monkeypatch.setattr("sovaudit.ingest.run.HASHES_AT_ONCE", 2)
    events = [ct_event(f"id-{i}", time=f"2024-01-02T10:{i:02d}:00Z") for i in range(12)]
    again = [copy.deepcopy(e) for e in events[::3]]
    path = write_trail_file(tmp_path / "in" / "shares.json.gz", events + again)
    result = pull(lake_dir, path)
    assert result.counts == {"read": 16, "stored": 12, "duplicate": 4, "quarantined": 0}
    ids = open_lake(lake_dir).sql("SELECT event_uid FROM events ORDER BY event_uid").fetchall()
    assert [uid for (uid,) in ids] == sorted(e["eventID"] for e in events)
    # Against the lake's copies: 6 stored already (one of them with other content), 3 new.
    changed = {**events[5], "sourceIPAddress": "203.0.113.9"}
    later = [ct_event(f"new-{i}", time=f"2024-01-03T10:{i:02d}:00Z") for i in range(3)]
    path = write_trail_file(tmp_path / "in2" / "shares.json.gz", [*events[6:11], changed, *later])
    result = pull(lake_dir, path)
    assert result.counts == {"read": 9, "stored": 3, "duplicate": 5, "quarantined": 1}


def test_a_stored_copy_that_cannot_be_read_back_is_not_taken_for_the_same_record(lake_dir, tmp_path):
    """What cannot be shown to be a duplicate is not dropped as one: with the stored copy's blob gone from the
    archive, even the same record written another way is set aside, naming that copy."""
    pull(lake_dir, SAMPLE)
    archived = Lake(lake_dir).archive.path_for(sha256(SAMPLE))
    archived.unlink()
    (tmp_path / "again").mkdir()
    (tmp_path / "again" / "one.json").write_text(json.dumps(RECORDS[0], indent=1))
    result = pull(lake_dir, tmp_path / "again")
    assert result.counts == {"read": 1, "stored": 0, "duplicate": 0, "quarantined": 1}
    [row] = quarantined(lake_dir)
    assert row["reason"].startswith(f"event id {RECORDS[0]['eventID']} already stored with other content (blob "
                                    f"{sha256(SAMPLE)} record ")


def test_the_reason_shows_no_secret_looking_id_and_cuts_a_long_one(lake_dir, tmp_path):
    secret_like = "AKIAIOSFODNN7EXAMPLE"
    long_id = "x" * 5000
    first = write_trail_file(tmp_path / "a" / "first.json.gz", [ct_event(secret_like), ct_event(long_id)])
    pull(lake_dir, first)
    changed = [ct_event(secret_like, userAgent="other"), ct_event(long_id, userAgent="other")]
    result = pull(lake_dir, write_trail_file(tmp_path / "b" / "second.json.gz", changed))
    assert result.counts["quarantined"] == 2
    reasons = [r["reason"] for r in quarantined(lake_dir)]
    assert not any(secret_like in r for r in reasons)
    assert any(r.startswith("event id REDACTED already stored with other content") for r in reasons)
    [long_reason] = [r for r in reasons if "xxx" in r]
    assert len(long_reason) < 400 and "x" * 200 + "… already stored" in long_reason


def test_a_kafka_event_delivered_again_is_a_duplicate_unless_its_event_differs(lake_dir, tmp_path):
    """The same CloudEvent in a file, and twice from the broker at other offsets (its envelope differs): one row.
    The same id with another event: quarantined."""
    event = json.loads(KAFKA_EVENT.read_text())
    pull(lake_dir, KAFKA_EVENT, "kafka-audit", region="eu-west-1")

    def envelope(offset: int, value: dict) -> str:
        return json.dumps({"kafka": {"cluster_id": "qL97v6UYSyOOwnIPIHurGg", "topic": "confluent-audit-log-events",
                                     "partition": 0, "offset": offset, "timestamp": 1585648803532},
                           "value": value}, separators=(",", ":"))

    altered = copy.deepcopy(event)
    altered["data"]["authorizationInfo"]["granted"] = False
    lines = tmp_path / "broker" / "audit.ndjson"
    lines.parent.mkdir()
    lines.write_text("\n".join([envelope(10, event), envelope(11, event), envelope(12, altered)]) + "\n")
    result = pull(lake_dir, lines, "kafka-audit", region="eu-west-1")
    assert result.counts == {"read": 3, "stored": 0, "duplicate": 2, "quarantined": 1}
    [kept] = stored(lake_dir, event["id"], "kafka_audit")
    assert kept["evidence_blob"] == sha256(KAFKA_EVENT)
    assert quarantined(lake_dir) == [{"blob": sha256(lines), "record_index": 2,
                                      "reason": reason(event["id"], sha256(KAFKA_EVENT), 0)}]


def test_a_kafka_event_whose_value_came_base64_encoded_is_compared_by_its_decoded_event(lake_dir, tmp_path):
    """A broker writes a pretty-printed value as base64: the same event (other whitespace) is a duplicate of the
    file's copy, another event with its id a conflict, and a repeat within the base64 values is judged too."""
    event = json.loads(KAFKA_EVENT.read_text())
    pull(lake_dir, KAFKA_EVENT, "kafka-audit", region="eu-west-1")
    altered = copy.deepcopy(event)
    altered["data"]["methodName"] = "kafka.DeleteTopics"

    def envelope(offset: int, value: dict) -> str:
        encoded = base64.b64encode(json.dumps(value, indent=2).encode()).decode()
        return json.dumps({"kafka": {"cluster_id": "qL97v6UYSyOOwnIPIHurGg", "topic": "confluent-audit-log-events",
                                     "partition": 0, "offset": offset, "timestamp": 1585648803532},
                           "value_base64": encoded}, separators=(",", ":"))

    lines = tmp_path / "broker" / "audit.ndjson"
    lines.parent.mkdir()
    lines.write_text("\n".join([envelope(20, event), envelope(21, altered)]) + "\n")
    result = pull(lake_dir, lines, "kafka-audit", region="eu-west-1")
    assert result.counts == {"read": 2, "stored": 0, "duplicate": 1, "quarantined": 1}
    [kept] = stored(lake_dir, event["id"], "kafka_audit")
    assert kept["evidence_blob"] == sha256(KAFKA_EVENT)
    assert quarantined(lake_dir) == [{"blob": sha256(lines), "record_index": 1,
                                      "reason": reason(event["id"], sha256(KAFKA_EVENT), 0)}]


def test_an_azure_record_reusing_its_event_data_id_is_quarantined(lake_dir, tmp_path):
    event = json.loads(AZURE_EVENT.read_text())
    pull(lake_dir, AZURE_EVENT, "azure")
    (tmp_path / "again").mkdir()
    (tmp_path / "again" / "same.json").write_text(json.dumps(sorted_keys(event)))
    (tmp_path / "again" / "changed.json").write_text(json.dumps({**event, "caller": "mallory@contoso.com"}))
    result = pull(lake_dir, tmp_path / "again", "azure")
    assert result.counts == {"read": 2, "stored": 0, "duplicate": 1, "quarantined": 1}
    [kept] = stored(lake_dir, event["eventDataId"], "azure_activity")
    assert kept["actor"] == event["caller"]
    assert [r["reason"] for r in quarantined(lake_dir)] == [reason(event["eventDataId"], sha256(AZURE_EVENT), 0)]


def test_a_resource_log_record_repeated_in_a_blob_of_both_tables_is_read_back_by_its_own_bytes(lake_dir, tmp_path):
    """The extracted blob routes its records to two tables; a repeat is compared by its own bytes in the blob."""
    activity = json.loads(AZURE_EVENT.read_text())
    resource = json.loads((REPO / "fixtures" / "azure" / "storage-resourcelog-operation-fields-putblob.json").read_text())
    resource["id"] = "storage-record-1"
    first = tmp_path / "first"
    first.mkdir()
    (first / "mixed.json").write_text(json.dumps({"records": [activity, resource]}, indent=2))
    pull(lake_dir, first, "azure")
    again = tmp_path / "again"
    again.mkdir()
    (again / "mixed.json").write_text(json.dumps({"records": [{**activity, "eventDataId": "other"},
                                                              sorted_keys(resource), {**resource, "uri": "changed"}]}))
    result = pull(lake_dir, again, "azure")
    assert result.counts == {"read": 3, "stored": 1, "duplicate": 1, "quarantined": 1}
    assert [r["reason"] for r in quarantined(lake_dir)] == [
        reason("storage-record-1", sha256(first / "mixed.json"), 1)]
    assert len(stored(lake_dir, "storage-record-1", "azure_resource")) == 1


@pytest.fixture
def conflicted_lake(tmp_path):
    lake_dir = tmp_path / "lake"
    pull(lake_dir, SAMPLE)
    altered = [{**RECORDS[n], "eventName": "DeleteTrail"} for n in (1, 2)]
    pull(lake_dir, write_trail_file(tmp_path / "altered" / "copy.json.gz", altered))
    return lake_dir


def test_verify_counts_the_conflicts_without_failing(conflicted_lake):
    """A conflict is evidence about the logs, not a break in the lake's chain of custody: a warning, exit 0."""
    proc = run_cli("verify", "--lake", str(conflicted_lake), "--format", "json")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert json.loads(proc.stdout)["id_conflicts"] == {"records": 2, "by_source": {"cli": 2}}
    text = run_cli("verify", "--lake", str(conflicted_lake))
    assert text.returncode == 0
    assert "warning: 2 record(s) reused an event id already stored with other content (cli 2)" in text.stdout


def test_verify_of_a_lake_without_conflicts_counts_none(lake_dir):
    pull(lake_dir, SAMPLE)
    proc = run_cli("verify", "--lake", str(lake_dir), "--format", "json")
    assert json.loads(proc.stdout)["id_conflicts"] == {"records": 0, "by_source": {}}
    assert "reused an event id" not in run_cli("verify", "--lake", str(lake_dir)).stdout


def test_the_report_integrity_section_shows_the_conflict_count(conflicted_lake, tmp_path):
    config = tmp_path / "sovaudit.toml"
    config.write_text('[organisation]\ncontroller = "Acme"\n')
    out = tmp_path / "r.json"
    proc = run_cli("report", "--format", "json", "--out", str(out), "--lake", str(conflicted_lake),
                   "--config", str(config))
    assert proc.returncode in (0, 1, 3), proc.stderr
    assert json.loads(out.read_text())["integrity"]["id_conflicts"] == {"records": 2, "by_source": {"cli": 2}}
    html = tmp_path / "r.html"
    run_cli("report", "--format", "html", "--out", str(html), "--lake", str(conflicted_lake), "--config", str(config))
    assert "2 event id conflict(s)</span> 2 record(s) reused an event id already stored with other content (cli 2)" \
        in html.read_text()


def test_content_is_compared_as_parsed_json_without_conflating_json_types():
    assert canonical('{"b": [1, {"y": 2, "x": null}], "a": "é"}') == canonical('{"a":"\\u00e9","b":[1,{"x":null,"y":2}]}')
    assert canonical('{"n": 1}') != canonical('{"n": 1.0}') != canonical('{"n": true}')
    assert canonical('{"a": ') is None and canonical(None) is None


def test_the_fast_canonical_digest_tells_what_canonical_tells_and_keeps_long_integers_exact():
    same = ['{"b": [1, {"y": 2, "x": null}], "a": "é"}', '{"a":"\\u00e9","b":[1,{"x":null,"y":2}]}']
    assert _canonical_sha256(same[0]) == _canonical_sha256(same[1]) is not None
    assert len({_canonical_sha256(t) for t in ('{"n": 1}', '{"n": 1.0}', '{"n": true}', '{"n": "1"}')}) == 4
    # Two integers past 64 bits that a double cannot tell apart are still two records.
    assert _canonical_sha256('{"n": 123456789012345678901234567890}') != _canonical_sha256(
        '{"n": 123456789012345678901234567891}')
    assert _canonical_sha256('{"n": 123456789012345678901234567890}') == _canonical_sha256(
        '{ "n":123456789012345678901234567890 }')
    # What orjson refuses goes through the standard library: NaN, a lone surrogate.
    assert _canonical_sha256('{"n": NaN, "a": 1}') == _canonical_sha256('{"a":1,"n":NaN}') is not None
    assert _canonical_sha256('{"s": "\\ud800"}') == _canonical_sha256('{ "s" : "\\ud800" }') is not None
    assert _canonical_sha256('{"a": ') is None and _canonical_sha256(None) is None


def test_a_worker_normalizes_and_flushes_by_bytes_as_well_as_rows(lake_dir, tmp_path, monkeypatch):
    """Rows bigger than CloudTrail's (Azure's activity log) are bounded by bytes too: with a byte budget under one
    blob, every blob is normalized and flushed on its own, into a part file of its own, and nothing is lost."""
    monkeypatch.setattr("sovaudit.ingest.run.EXTRACTED_BYTES", 1)
    monkeypatch.setattr("sovaudit.ingest.run.FLUSH_BYTES", 1)
    for n in range(4):
        write_trail_file(tmp_path / "in" / f"{n}.json.gz",
                         [ct_event(f"b{n}-{i}", time=f"2024-01-02T10:{i:02d}:00Z") for i in range(5)])
    result = pull(lake_dir, tmp_path / "in")
    assert result.counts == {"read": 20, "stored": 20, "duplicate": 0, "quarantined": 0}
    assert sorted(f["rows"] for f in result.entry["files"]) == [5, 5, 5, 5]
