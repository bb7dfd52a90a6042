import gzip
import hashlib
import json
import shutil

from conftest import SAMPLES, ct_event, run_cli, sample_records, write_trail_file

from sovaudit import open_lake
from sovaudit.lake import Lake
from sovaudit.pull import pull_source
from sovaudit.schema import ACTION_CLASSES, COMMON_COLUMNS
from sovaudit.sources import config_from_flags


def pull_path(lake_dir, path):
    return pull_source(Lake(lake_dir), config_from_flags("cloudtrail", path=str(path)))


def test_every_sample_file_ingests_with_counts_equal_to_its_records(lake_dir):
    expected = sample_records()
    result = pull_path(lake_dir, SAMPLES)
    total = sum(len(r) for r in expected.values())
    assert total == 1817
    assert result.counts == {"read": total, "stored": total, "duplicate": 0, "quarantined": 0}
    assert result.exit_code == 0
    per_blob = dict(open_lake(lake_dir).sql(
        "SELECT evidence_blob, count(*) FROM cloudtrail GROUP BY 1").fetchall())
    for name, records in expected.items():
        digest = hashlib.sha256((SAMPLES / name).read_bytes()).hexdigest()
        assert per_blob[digest] == len(records), name


def test_every_row_traces_back_to_its_original_record_byte_for_byte(lake_dir):
    pull_path(lake_dir, SAMPLES)
    lake = open_lake(lake_dir)
    rows = lake.sql("SELECT event_uid, evidence_blob, evidence_index, event_name, time FROM cloudtrail").fetchall()
    assert len(rows) == 1817
    blobs = {}
    for uid, blob, index, name, _time in rows:
        if blob not in blobs:
            archived = lake.archive.read(blob)
            assert hashlib.sha256(archived).hexdigest() == blob
            blobs[blob] = json.loads(gzip.decompress(archived))["Records"]
        original = blobs[blob][index]
        assert original["eventID"] == uid and original["eventName"] == name


def test_re_pulling_the_same_input_adds_nothing(lake_dir, tmp_path):
    pull_path(lake_dir, SAMPLES)
    again = pull_path(lake_dir, SAMPLES)
    assert again.counts["stored"] == 0 and again.entry["blobs"]["blobs_skipped"] == 33
    # The same events re-encoded (other bytes, so another blob) are read and counted as duplicates.
    records = [r for recs in sample_records().values() for r in recs][:100]
    lines = tmp_path / "reencoded" / "events.jsonl"
    lines.parent.mkdir()
    lines.write_text("\n".join(json.dumps(r) for r in records) + "\n")
    third = pull_path(lake_dir, lines.parent)
    assert third.counts == {"read": 100, "stored": 0, "duplicate": 100, "quarantined": 0}
    assert open_lake(lake_dir).sql("SELECT count(*), count(DISTINCT event_uid) FROM events").fetchall()[0] == (1817, 1817)


def test_duplicates_inside_one_pull_are_stored_once(lake_dir, tmp_path):
    src = tmp_path / "in"
    write_trail_file(src / "a.json.gz", [ct_event("e1"), ct_event("e2")])
    write_trail_file(src / "b.json", [ct_event("e2"), ct_event("e3")], gz=False)
    result = pull_path(lake_dir, src)
    assert result.counts == {"read": 4, "stored": 3, "duplicate": 1, "quarantined": 0}


def test_one_event_per_line_and_single_event_files(lake_dir, tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    (src / "lines.jsonl").write_text(json.dumps(ct_event("l1")) + "\n\n" + json.dumps(ct_event("l2")) + "\n")
    (src / "one.json").write_text(json.dumps(ct_event("single"), indent=2))
    result = pull_path(lake_dir, src)
    assert result.counts["stored"] == 3
    rows = dict(open_lake(lake_dir).sql("SELECT event_uid, evidence_index FROM cloudtrail").fetchall())
    assert rows == {"l1": 0, "l2": 2, "single": 0}  # the index is the line number in a JSON-lines blob


def test_directories_are_walked_recursively_and_globs_work(lake_dir, tmp_path):
    src = tmp_path / "deep"
    write_trail_file(src / "AWSLogs/111122223333/CloudTrail/eu-west-1/2024/01/02/x.json.gz", [ct_event("d1")])
    write_trail_file(src / "other/y.json.gz", [ct_event("d2")])
    assert pull_path(lake_dir, src).counts["stored"] == 2
    lake2 = tmp_path / "lake2"
    assert pull_path(lake2, f"{src}/**/x.json.gz").counts["stored"] == 1


def test_common_columns_are_filled_from_the_native_record(lake_dir, tmp_path):
    kms_key = "arn:aws:kms:eu-central-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    records = [
        ct_event("s3get", sourceIPAddress="8.8.8.8"),
        ct_event("kms", eventSource="kms.amazonaws.com", eventName="Decrypt", awsRegion="eu-central-1",
                 sourceIPAddress="s3.amazonaws.com", requestParameters={"encryptionContext": {}},
                 resources=[{"accountId": "111122223333", "type": "AWS::KMS::Key", "ARN": kms_key}],
                 userIdentity={"type": "AWSService", "invokedBy": "s3.amazonaws.com"}),
        ct_event("copy", eventName="CopyObject", sourceIPAddress="10.1.2.3",
                 requestParameters={"bucketName": "dest-us", "key": "b.csv",
                                    "x-amz-copy-source": "bucket-eu/a.csv"}, awsRegion="us-east-1"),
        ct_event("denied", eventName="PutObject", errorCode="AccessDenied", errorMessage="Access Denied"),
        ct_event("login", eventSource="signin.amazonaws.com", eventName="ConsoleLogin",
                 responseElements={"ConsoleLogin": "Failure"}, requestParameters=None),
    ]
    write_trail_file(tmp_path / "in" / "c.json.gz", records)
    pull_path(lake_dir, tmp_path / "in")
    lake = open_lake(lake_dir)
    rel = lake.sql("SELECT * FROM events ORDER BY event_uid")
    rows = {r["event_uid"]: r for r in (dict(zip(rel.columns, t, strict=True)) for t in rel.fetchall())}
    assert [tuple(r[:2]) for r in lake.sql("DESCRIBE events").fetchall()] == list(COMMON_COLUMNS)
    s3 = rows["s3get"]
    assert (s3["source"], s3["account"], s3["region"], s3["service"], s3["action"], s3["action_class"],
            s3["outcome"]) == ("cloudtrail", "111122223333", "eu-west-1", "s3.amazonaws.com", "GetObject",
                               "read", "success")
    assert s3["resource"] == "arn:aws:s3:::bucket-eu/a.csv" and s3["resource_region"] == "eu-west-1"
    assert s3["bytes_out"] == 1234 and s3["src_ip"] == "8.8.8.8" and s3["src_country"] == "US"
    assert s3["actor"] == "arn:aws:iam::111122223333:user/alice" and s3["actor_account"] == "111122223333"
    assert str(s3["time"]).startswith("2024-01-02 10:00:00")
    kms = rows["kms"]
    assert kms["action_class"] == "key_use" and kms["key_id"] == kms_key and kms["resource"] == kms_key
    assert kms["resource_region"] == "eu-central-1"
    assert kms["src_ip"] is None and kms["src_country"] is None and kms["actor"] == "s3.amazonaws.com"
    copy = rows["copy"]
    assert copy["resource"] == "arn:aws:s3:::bucket-eu/a.csv"
    assert (copy["dest_resource"], copy["dest_region"]) == ("arn:aws:s3:::dest-us/b.csv", "us-east-1")
    assert copy["src_ip"] == "10.1.2.3" and copy["src_country"] is None  # private address: no country
    assert (rows["denied"]["outcome"], rows["denied"]["error_code"]) == ("failure", "AccessDenied")
    assert (rows["login"]["action_class"], rows["login"]["outcome"]) == ("auth", "failure")


def test_native_table_keeps_cloudtrail_fields_as_json(lake_dir):
    pull_path(lake_dir, SAMPLES)
    lake = open_lake(lake_dir)
    row = lake.sql("SELECT request_parameters, user_identity, user_identity_type FROM cloudtrail "
                   "WHERE event_name = 'StopLogging' LIMIT 1").fetchall()[0]
    assert json.loads(row[0])["name"]  # the trail name that was stopped
    assert json.loads(row[1])["type"] == row[2]
    assert lake.sql("SELECT count(*) FROM cloudtrail WHERE date = DATE '2023-07-10'").fetchall()[0][0] == 1817
    classes = {row[0] for row in lake.sql("SELECT DISTINCT action_class FROM events").fetchall()}
    assert classes <= set(ACTION_CLASSES) and {"read", "write", "key_use", "config", "auth"} <= classes


def test_lake_is_partitioned_by_date_and_ledger_lists_every_file_with_its_hash(lake_dir, tmp_path):
    write_trail_file(tmp_path / "in" / "a.json.gz", [ct_event("a", time="2024-01-01T23:59:59Z"),
                                                    ct_event("b", time="2024-01-02T00:00:01Z")])
    result = pull_path(lake_dir, tmp_path / "in")
    paths = sorted(f["path"] for f in result.entry["files"])
    assert [p.split("/")[2] for p in paths] == ["date=2024-01-01", "date=2024-01-02"]
    for f in result.entry["files"]:
        assert hashlib.sha256((lake_dir / f["path"]).read_bytes()).hexdigest() == f["sha256"]
        assert f["rows"] == 1


def test_digest_files_are_set_aside_for_verification_not_quarantined(lake_dir, tmp_path):
    src = tmp_path / "in"
    shutil.copytree(SAMPLES.parent / "digest-examples", src / "examples")
    digest_dir = src / "AWSLogs/111122223333/CloudTrail-Digest/eu-west-1/2024/01/02"
    digest_dir.mkdir(parents=True)
    (digest_dir / "111122223333_CloudTrail-Digest_eu-west-1_x.json.gz").write_bytes(
        gzip.compress(b'{"awsAccountId":"111122223333","logFiles":[]}'))
    write_trail_file(src / "log.json.gz", [ct_event("x")])
    result = pull_path(lake_dir, src)
    assert result.counts == {"read": 1, "stored": 1, "duplicate": 0, "quarantined": 0}
    assert result.entry["blobs"]["digest_blobs"] == 3
    assert sorted(i["status"] for i in result.entry["inputs"]) == ["digest", "digest", "digest", "ingested"]


def test_cli_pull_json_output_and_summary(lake_dir):
    proc = run_cli("pull", "cloudtrail", "--path", str(SAMPLES), "--lake", str(lake_dir), "--format", "json")
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out[0]["counts"]["stored"] == 1817 and len(out[0]["ledger_hash"]) == 64
    table = run_cli("pull", "cloudtrail", "--path", str(SAMPLES), "--lake", str(lake_dir))
    assert table.returncode == 0 and "pull summary" in table.stdout and "33" in table.stdout


def test_cli_shows_progress_in_objects_bytes_and_events(lake_dir):
    proc = run_cli("pull", "cloudtrail", "--path", str(SAMPLES), "--lake", str(lake_dir))
    assert proc.returncode == 0
    assert "33 objects" in proc.stderr and "MB" in proc.stderr and "1,817 events" in proc.stderr
