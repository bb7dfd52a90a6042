import gzip
import json
from pathlib import Path

from conftest import SAMPLES, assert_counts_add_up, ct_event, run_cli, write_trail_file

from sovaudit import open_lake
from sovaudit.lake import Lake
from sovaudit.pull import pull_source
from sovaudit.sources import config_from_flags


def pull(lake_dir, path):
    return pull_source(Lake(lake_dir), config_from_flags("cloudtrail", path=str(path)))


def quarantine_rows(lake_dir):
    rel = open_lake(lake_dir).sql("SELECT origin, record_index, byte_offset, reason FROM quarantine "
                                  "ORDER BY origin, record_index")
    return rel.fetchall()


def test_truncated_gzip_is_quarantined_and_the_rest_still_ingests(lake_dir, tmp_path):
    src = tmp_path / "in"
    good = write_trail_file(src / "good.json.gz", [ct_event("g1"), ct_event("g2")])
    whole = gzip.compress(json.dumps({"Records": [ct_event("t1")]}).encode())
    (src / "truncated.json.gz").write_bytes(whole[: len(whole) // 2])
    result = pull(lake_dir, src)
    assert result.counts == {"read": 3, "stored": 2, "duplicate": 0, "quarantined": 1}
    assert result.exit_code == 3
    [(origin, index, _offset, reason)] = quarantine_rows(lake_dir)
    assert origin.endswith("truncated.json.gz") and index is None and "truncated or corrupt gzip" in reason
    # the damaged bytes are still kept, exactly as delivered
    blob = [i["blob"] for i in result.entry["inputs"] if i["path"].endswith("truncated.json.gz")][0]
    assert Lake(lake_dir).archive.read(blob) == whole[: len(whole) // 2]
    assert good.exists()


def test_invalid_json_keeps_the_records_before_the_break(lake_dir, tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    text = json.dumps({"Records": [ct_event("ok1"), ct_event("ok2")]})
    broken = text[:-2] + ', {"eventID": "bad", "eventTime": }, {"eventID": "lost"}]}'
    (src / "broken.json").write_text(broken)
    result = pull(lake_dir, src)
    assert result.counts["stored"] == 2 and result.counts["quarantined"] == 1
    assert_counts_add_up(result)
    [(_origin, index, offset, reason)] = quarantine_rows(lake_dir)
    # The reason names where the JSON broke; the row, where the set-aside rest begins.
    broke_at = broken.encode().index(b'}, {"eventID": "lost"')
    assert index == 2 and "invalid JSON" in reason and f"byte offset {broke_at}" in reason
    assert broken.encode()[offset:].startswith(b'{"eventID": "bad"')


def test_records_without_event_id_or_time_are_quarantined_with_their_reason(lake_dir, tmp_path):
    no_id = ct_event("x")
    del no_id["eventID"]
    no_time = ct_event("no-time")
    del no_time["eventTime"]
    records = [ct_event("fine"), no_id, no_time, ct_event("bad-time", time="yesterday-ish")]
    write_trail_file(tmp_path / "in" / "f.json.gz", records)
    result = pull(lake_dir, tmp_path / "in")
    assert result.counts == {"read": 4, "stored": 1, "duplicate": 0, "quarantined": 3}
    reasons = {index: reason for _o, index, _b, reason in quarantine_rows(lake_dir)}
    # The missing eventID sends the standard file from the fast path to the careful one, which names the keys.
    assert reasons == {1: "no eventID; found keys: additionalEventData, awsRegion, eventCategory, eventName, "
                          "eventSource, eventTime, eventType, eventVersion (and 8 more)",
                       2: "record has no eventTime", 3: "eventTime is not a timestamp: yesterday-ish"}


def test_a_non_utf8_byte_costs_only_its_own_record(lake_dir, tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    good = json.dumps(ct_event("u1")).encode()
    bad = json.dumps(ct_event("u2", userAgent="agent-XX")).encode().replace(b"XX", b"\xff\xfe")
    (src / "mixed.json.gz").write_bytes(gzip.compress(b'{"Records":[' + good + b"," + bad + b"," +
                                                      json.dumps(ct_event("u3")).encode() + b"]}"))
    result = pull(lake_dir, src)
    assert result.counts == {"read": 3, "stored": 2, "duplicate": 0, "quarantined": 1}
    [(_origin, index, _offset, reason)] = quarantine_rows(lake_dir)
    assert index == 1 and reason.startswith("non-UTF-8 byte 0xff at byte offset")
    stored = dict(open_lake(lake_dir).sql("SELECT event_uid, evidence_index FROM cloudtrail").fetchall())
    assert stored == {"u1": 0, "u3": 2}


def test_a_record_over_10_mb_is_quarantined(lake_dir, tmp_path):
    huge = ct_event("huge", requestParameters={"blob": "x" * (10 * 1024 * 1024 + 10)})
    write_trail_file(tmp_path / "in" / "huge.json.gz", [ct_event("small"), huge])
    result = pull(lake_dir, tmp_path / "in")
    assert result.counts == {"read": 2, "stored": 1, "duplicate": 0, "quarantined": 1}
    [(_o, index, _b, reason)] = quarantine_rows(lake_dir)
    assert index == 1 and "exceeds the 10485760-byte limit" in reason


def test_wrong_schema_and_non_json_files_are_quarantined_with_a_reason(lake_dir, tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    (src / "numbers.json").write_text('{"Records": [1, {"eventID": "n1", "eventTime": "2024-01-02T00:00:00Z"}]}')
    (src / "notes.json").write_text("this is not json at all\n")
    (src / "odd-types.json").write_text(json.dumps({"Records": [ct_event("odd", readOnly="maybe",
                                                                         awsRegion={"nested": True})]}))
    result = pull(lake_dir, src)
    assert result.counts == {"read": 4, "stored": 2, "duplicate": 0, "quarantined": 2}
    reasons = sorted(reason for _o, _i, _b, reason in quarantine_rows(lake_dir))
    assert reasons == ["invalid JSON on line 1: expected a JSON value, found 't' at byte offset 0",
                       "record is a JSON number, expected an object"]
    odd = open_lake(lake_dir).sql("SELECT read_only, region FROM cloudtrail WHERE event_uid = 'odd'").fetchall()
    # A string field that holds an object keeps its JSON text as delivered (the file's json.dumps spacing).
    assert odd == [(None, '{"nested": true}')]


def test_cli_prints_the_counts_and_exits_3_when_anything_was_quarantined(lake_dir, tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    (src / "bad.json").write_text("{not json")
    for sample in sorted(SAMPLES.glob("*.gz"))[:3]:
        (src / sample.name).write_bytes(sample.read_bytes())
    proc = run_cli("pull", "cloudtrail", "--path", str(src), "--lake", str(lake_dir))
    assert proc.returncode == 3, proc.stderr
    assert "quarantined" in proc.stdout and "1 record(s) quarantined" in proc.stdout
    counts = json.loads(run_cli("pull", "cloudtrail", "--path", str(src), "--lake", str(lake_dir),
                                "--format", "json").stdout)[0]["counts"]
    assert counts == {"read": 0, "stored": 0, "duplicate": 0, "quarantined": 0}
    q = run_cli("sql", "SELECT reason FROM quarantine", "--lake", str(lake_dir), "--format", "csv")
    assert "invalid JSON" in q.stdout


def test_missing_path_is_a_usage_error(lake_dir, tmp_path):
    proc = run_cli("pull", "cloudtrail", "--path", str(tmp_path / "nowhere"), "--lake", str(lake_dir))
    assert proc.returncode == 2 and "no CloudTrail files found" in proc.stderr
    both = run_cli("pull", "cloudtrail", "--path", "x", "--bucket", "y", "--lake", str(lake_dir))
    assert both.returncode == 2 and "exactly one of path, bucket or lookup" in both.stderr


def test_a_trail_file_holding_a_record_without_an_event_id_stays_on_the_extractor(lake_dir, tmp_path, monkeypatch):
    from sovaudit.sources.cloudtrail.preparer import CloudTrailPreparer

    split = []
    careful = CloudTrailPreparer.careful
    monkeypatch.setattr(CloudTrailPreparer, "careful", lambda self, payload, work: split.append(payload)
                        or careful(self, payload, work))
    no_id = ct_event("x")
    del no_id["eventID"]
    write_trail_file(tmp_path / "in" / "a-good.json.gz", [ct_event("g1"), ct_event("g2", time="yesterday-ish")])
    bad = write_trail_file(tmp_path / "in" / "b-no-id.json.gz", [ct_event("g3"), no_id])
    result = pull(lake_dir, tmp_path / "in")
    assert result.counts == {"read": 4, "stored": 2, "duplicate": 0, "quarantined": 2}
    # A bad time is the SQL's to judge; a missing eventID is the record's alone: no trail file is split in Python.
    assert split == []
    rows = quarantine_rows(lake_dir)
    assert [(Path(origin).name, index) for origin, index, _b, _r in rows] == [("a-good.json.gz", 1), (bad.name, 1)]
    assert rows[1][3].startswith("no eventID; found keys: additionalEventData, awsRegion, eventCategory")
