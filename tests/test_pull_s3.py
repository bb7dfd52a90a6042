"""Pulling CloudTrail from an S3 trail bucket: boto3 against a real moto server over HTTP."""
# ruff: noqa: F811 (pytest fixtures imported from tests.aws_fixtures are test arguments)

import gzip
import json
import os
import time
from datetime import UTC, datetime
from pathlib import Path

from aws_fixtures import (  # noqa: F401 (aws_env, bucket, moto_server, s3 are fixtures)
    DIGEST_EXAMPLES,
    ORG_ID,
    SAMPLE_ACCOUNT,
    aws_env,
    bucket,
    cloudtrail_gz,
    fake_aws_environ,
    free_port,
    log_key,
    make_records,
    moto_server,
    put_object,
    records_of,
    run_cli,
    s3,
    sample_files,
)
from botocore.exceptions import ClientError
from conftest import assert_counts_add_up, lake_rows

from sovaudit.lake import Lake
from sovaudit.pull import pull_source
from sovaudit.sources import config_from_flags
from sovaudit.sources.cloudtrail.aws_errors import describe_aws_error


def _inputs(result, status: str = "ingested") -> list[dict]:
    return [i for i in result.entry["inputs"] if i["status"] == status]




def _upload_samples(s3, bucket: str) -> dict[str, bytes]:
    uploaded = {}
    for path in sample_files():
        key = f"AWSLogs/{ORG_ID}/{SAMPLE_ACCOUNT}/CloudTrail/us-east-1/2023/07/10/{path.name}"
        uploaded[key] = put_object(s3, bucket, key, path.read_bytes())
    return uploaded


def _sample_record_count() -> int:
    return sum(len(json.loads(gzip.decompress(p.read_bytes()))["Records"]) for p in sample_files())


def _tree(root: Path) -> set[str]:
    """Every path under root (files and directories), relative to it."""
    return {str(p.relative_to(root)) for p in root.rglob("*")}


# -- 1. organisation-trail layout ------------------------------------------------------------------

def test_org_trail_layout_stores_every_record_and_archives_objects_verbatim(s3, bucket, moto_server, tmp_path):
    uploaded = _upload_samples(s3, bucket)
    expected = _sample_record_count()
    assert len(uploaded) == 33 and expected == 1817

    lake = Lake(tmp_path / "lake")
    spec = config_from_flags("cloudtrail", bucket=bucket, endpoint_url=moto_server)
    result = pull_source(lake, spec, since="2023-07-10", until="2023-07-11")

    assert result.exit_code == 0, result.entry["failures"]
    assert result.entry["failures"] == []
    assert result.counts["stored"] == expected
    assert result.counts["quarantined"] == 0
    assert_counts_add_up(result)
    assert lake_rows(lake) == expected

    ingested = _inputs(result)
    assert {i["key"] for i in ingested} == set(uploaded)
    assert result.entry["blobs"]["blobs"] == len(uploaded)
    for item in ingested:
        assert item["kind"] == "s3" and item["bucket"] == bucket
        assert lake.archive.read(item["blob"]) == uploaded[item["key"]], item["key"]
        assert item["etag"] == s3.head_object(Bucket=bucket, Key=item["key"])["ETag"].strip('"')
    # Every row points at an archived object, and at the record it came from.
    blobs = {i["blob"]: records_of(lake.archive.read(i["blob"])) for i in ingested}
    rows = lake.sql("SELECT event_uid, evidence_blob, evidence_index FROM cloudtrail").fetchall()
    assert len(rows) == expected
    for uid, blob, index in rows:
        assert blobs[blob][index]["eventID"] == uid


# -- 2. incremental --------------------------------------------------------------------------------

def test_second_pull_fetches_nothing_then_only_the_new_object(s3, bucket, moto_server, tmp_path):
    uploaded = _upload_samples(s3, bucket)
    lake = Lake(tmp_path / "lake")
    spec = config_from_flags("cloudtrail", bucket=bucket, endpoint_url=moto_server)
    first = pull_source(lake, spec, since="2023-07-10", until="2023-07-11")
    assert first.counts["stored"] == _sample_record_count()

    again = pull_source(lake, spec, since="2023-07-10", until="2023-07-11")
    assert again.exit_code == 0
    assert again.counts == {"read": 0, "stored": 0, "duplicate": 0, "quarantined": 0}
    assert again.entry["inputs"] == []  # not even fetched and found identical: not fetched at all
    assert again.entry["blobs"]["blobs"] == 0
    assert any("not fetched" in note and str(len(uploaded)) in note for note in again.notes), again.notes
    assert lake_rows(lake) == first.counts["stored"]

    new_records = make_records(datetime(2023, 7, 10, 23, 55, tzinfo=UTC), 7, account=SAMPLE_ACCOUNT,
                               region="us-east-1", tag="incremental")
    new_key = log_key(SAMPLE_ACCOUNT, "us-east-1", datetime(2023, 7, 11, 0, 5, tzinfo=UTC), org=ORG_ID)
    new_body = put_object(s3, bucket, new_key, cloudtrail_gz(new_records))

    third = pull_source(lake, spec, since="2023-07-10", until="2023-07-11")
    assert third.exit_code == 0
    assert [i["key"] for i in third.entry["inputs"]] == [new_key]
    assert _inputs(third)[0]["key"] == new_key
    assert lake.archive.read(_inputs(third)[0]["blob"]) == new_body
    assert third.counts["stored"] == 7
    assert_counts_add_up(third)
    assert any(str(len(uploaded)) in note and "not fetched" in note for note in third.notes), third.notes
    assert lake_rows(lake) == first.counts["stored"] + 7
    uids = {r[0] for r in lake.sql("SELECT event_uid FROM cloudtrail").fetchall()}
    assert {r["eventID"] for r in new_records} <= uids


# -- 3. date-prefix pruning by --since/--until -----------------------------------------------------

def test_since_until_prune_day_prefixes(s3, bucket, moto_server, tmp_path):
    keys = {}
    for day in (1, 2, 3):
        when = datetime(2024, 1, day, 12, 0, tzinfo=UTC)
        key = log_key("111122223333", "eu-west-1", when)
        put_object(s3, bucket, key, cloudtrail_gz(make_records(when, 4, tag=f"day{day}")))
        keys[day] = key

    lake = Lake(tmp_path / "lake")
    spec = config_from_flags("cloudtrail", bucket=bucket, endpoint_url=moto_server)
    result = pull_source(lake, spec, since="2024-01-02", until="2024-01-02T23:59:59Z")

    assert result.exit_code == 0
    assert [i["key"] for i in result.entry["inputs"]] == [keys[2]]
    assert result.counts["stored"] == 4
    days = lake.sql("SELECT DISTINCT CAST(time AS DATE)::VARCHAR FROM cloudtrail").fetchall()
    assert days == [("2024-01-02",)]


def test_day_prefixes_are_utc_days_whatever_offset_since_and_until_carry(s3, bucket, moto_server, tmp_path):
    # 23:00Z on 1 January is 01:00 on 2 January at +02:00; CloudTrail files it under 2024/01/01/.
    when = datetime(2024, 1, 1, 23, 0, tzinfo=UTC)
    key = log_key("111122223333", "eu-west-1", datetime(2024, 1, 1, 23, 5, tzinfo=UTC))
    put_object(s3, bucket, key, cloudtrail_gz(make_records(when, 2, tag="offset")))

    lake = Lake(tmp_path / "lake")
    spec = config_from_flags("cloudtrail", bucket=bucket, endpoint_url=moto_server)
    result = pull_source(lake, spec, since="2024-01-02T00:30:00+02:00", until="2024-01-02T01:30:00+02:00")

    assert [i["key"] for i in result.entry["inputs"]] == [key]
    assert result.counts["stored"] == 2


def test_events_at_the_end_of_the_window_delivered_after_midnight_are_pulled(s3, bucket, moto_server,
                                                                            tmp_path):
    # "A log file delivered at a specific time can contain records written at any point before that time":
    # the key's date is the delivery date, so the last minutes of a day arrive under the next day's prefix.
    late = make_records(datetime(2024, 1, 2, 23, 58, tzinfo=UTC), 3, tag="late")
    late_key = log_key("111122223333", "eu-west-1", datetime(2024, 1, 3, 0, 3, tzinfo=UTC))
    put_object(s3, bucket, late_key, cloudtrail_gz(late))
    on_time_key = log_key("111122223333", "eu-west-1", datetime(2024, 1, 2, 12, 5, tzinfo=UTC))
    put_object(s3, bucket, on_time_key, cloudtrail_gz(make_records(datetime(2024, 1, 2, 12, 0, tzinfo=UTC), 2,
                                                                   tag="on-time")))

    lake = Lake(tmp_path / "lake")
    spec = config_from_flags("cloudtrail", bucket=bucket, endpoint_url=moto_server)
    result = pull_source(lake, spec, since="2024-01-02", until="2024-01-02T23:59:59Z")

    uids = {r[0] for r in lake.sql("SELECT event_uid FROM cloudtrail").fetchall()}
    assert {r["eventID"] for r in late} <= uids, sorted(i["key"] for i in result.entry["inputs"])
    assert result.counts["stored"] == 5


# -- 4. --account, --region, plain layout, --prefix ------------------------------------------------

def test_account_and_region_filters_with_org_and_plain_layouts_under_a_prefix(s3, bucket, moto_server,
                                                                              tmp_path):
    day = datetime(2024, 1, 1, 8, 0, tzinfo=UTC)
    keys: dict[tuple[str, str], str] = {}
    for account in ("111111111111", "222222222222"):
        for region in ("eu-west-1", "us-east-1"):
            key = log_key(account, region, day, org=ORG_ID, prefix="tenant-a/")
            put_object(s3, bucket, key, cloudtrail_gz(make_records(day, 2, account=account, region=region,
                                                                   tag="org")))
            keys[(account, region)] = key
    plain = log_key("333333333333", "eu-central-1", day, prefix="tenant-a")
    put_object(s3, bucket, plain, cloudtrail_gz(make_records(day, 3, account="333333333333",
                                                             region="eu-central-1", tag="plain")))
    # Same layout but outside the prefix: never read when --prefix is given.
    outside = log_key("111111111111", "eu-west-1", day)
    put_object(s3, bucket, outside, cloudtrail_gz(make_records(day, 5, account="111111111111", tag="outside")))

    def pull(lake_name: str, **flags) -> list[str]:
        spec = config_from_flags("cloudtrail", bucket=bucket, endpoint_url=moto_server, **flags)
        result = pull_source(Lake(tmp_path / lake_name), spec, since="2024-01-01", until="2024-01-02")
        assert result.exit_code == 0, result.entry["failures"]
        assert_counts_add_up(result)
        return sorted(i["key"] for i in result.entry["inputs"])

    assert pull("one", prefix="tenant-a", accounts=["222222222222"], regions=["eu-west-1"]) == \
        [keys[("222222222222", "eu-west-1")]]
    assert pull("plain", prefix="/tenant-a/", accounts=["333333333333"], regions=["eu-central-1"]) == [plain]
    assert pull("region", prefix="tenant-a", regions=["us-east-1"]) == \
        sorted([keys[("111111111111", "us-east-1")], keys[("222222222222", "us-east-1")]])
    assert pull("all", prefix="tenant-a") == sorted([*keys.values(), plain])
    assert pull("no-prefix", accounts=["111111111111"], regions=["eu-west-1"]) == [outside]

    lake = Lake(tmp_path / "one")
    assert lake.sql("SELECT DISTINCT account, region FROM cloudtrail").fetchall() == [("222222222222", "eu-west-1")]


# -- 5. remote names never become local paths ------------------------------------------------------

def test_object_keys_cannot_write_outside_the_lake(s3, bucket, moto_server, tmp_path):
    base = "AWSLogs/111122223333/CloudTrail/eu-west-1/2024/01/01/"
    hostile = [
        base + "../../../../../../../../escape.json.gz",
        base + "/abs/etc/passwd.json.gz",
        base + "..%2F..%2F..%2Fencoded-escape.json.gz",
    ]
    day = datetime(2024, 1, 1, 3, 0, tzinfo=UTC)
    bodies = {}
    for n, key in enumerate(hostile):
        bodies[key] = put_object(s3, bucket, key, cloudtrail_gz(make_records(day, 2, tag=f"hostile{n}")))
    listed = {o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix=base)["Contents"]}
    assert listed == set(hostile)  # the server kept the names as given

    cwd = tmp_path / "cwd"
    cwd.mkdir()
    lake_dir = tmp_path / "lake"
    watched = tmp_path.parent
    before = _tree(watched)
    would_be = set()
    for key in hostile:
        for anchor in (lake_dir, lake_dir / "raw", lake_dir / "tmp", cwd):
            would_be.add(Path(os.path.normpath(anchor / key)))
            would_be.add(Path(os.path.normpath(anchor / key.split("//", 1)[-1])))
        would_be.add(Path("/" + key.split("//", 1)[-1]))
        would_be.add(Path("/" + os.path.basename(key)))
    assert not any(p.exists() for p in would_be)

    proc = run_cli(["pull", "cloudtrail", "--bucket", bucket, "--endpoint-url", moto_server,
                    "--lake", str(lake_dir), "--since", "2024-01-01", "--until", "2024-01-02", "--format", "json"],
                   env=fake_aws_environ(tmp_path), cwd=cwd)
    assert proc.returncode == 0, proc.stderr + proc.stdout
    report = json.loads(proc.stdout)[0]
    assert report["counts"]["stored"] == 6 and report["failures"] == []

    assert not any(p.exists() for p in would_be), [str(p) for p in would_be if p.exists()]
    created = _tree(watched) - before
    outside = {p for p in created if not (watched / p).resolve().is_relative_to(lake_dir.resolve())}
    assert outside == set(), outside
    assert list(cwd.iterdir()) == []

    lake = Lake(lake_dir)
    entry = lake.ledger.entries()[-1]
    assert {i["key"] for i in entry["inputs"]} == set(hostile)
    for item in entry["inputs"]:
        blob_path = lake.archive.path_for(item["blob"])
        assert blob_path.parent.parent == lake_dir / "raw"
        assert blob_path.read_bytes() == bodies[item["key"]]


# -- 6. digest objects -----------------------------------------------------------------------------

def test_digest_objects_are_archived_with_their_signature_and_add_no_rows(s3, bucket, moto_server, tmp_path):
    account, region = "111122223333", "eu-west-1"
    day = datetime(2024, 1, 1, 1, 0, tzinfo=UTC)
    records = make_records(day, 3, account=account, region=region, tag="digest-test")
    log = log_key(account, region, day)
    put_object(s3, bucket, log, cloudtrail_gz(records))

    digests = {}
    for n, example in enumerate(sorted(DIGEST_EXAMPLES.glob("*.json"))):
        key = (f"AWSLogs/{account}/CloudTrail-Digest/{region}/2024/01/01/"
               f"{account}_CloudTrail-Digest_{region}_trail_{region}_2024010{n + 1}T010000Z.json.gz")
        metadata = {"signature": f"{n:02d}" + "ab12" * 64, "signature-algorithm": "SHA256withRSA"}
        body = put_object(s3, bucket, key, gzip.compress(example.read_bytes(), mtime=0), metadata)
        digests[key] = (body, metadata)
    assert len(digests) == 2

    lake = Lake(tmp_path / "lake")
    result = pull_source(lake, config_from_flags("cloudtrail", bucket=bucket, endpoint_url=moto_server),
                         since="2024-01-01", until="2024-01-02")

    assert result.exit_code == 0, result.entry["failures"]
    assert result.counts == {"read": 3, "stored": 3, "duplicate": 0, "quarantined": 0}
    assert result.entry["blobs"]["digest_blobs"] == 2
    assert result.entry["blobs"]["blobs"] == 1
    assert result.entry["quarantine_file"] is None
    assert lake_rows(lake) == 3

    listed = {i["key"]: i for i in _inputs(result, "digest")}
    assert set(listed) == set(digests)
    for key, (body, metadata) in digests.items():
        item = listed[key]
        assert item["signature"] == metadata["signature"]
        assert item["signature_algorithm"] == "SHA256withRSA"
        assert lake.archive.read(item["blob"]) == body
    assert [i["key"] for i in _inputs(result)] == [log]
    assert "signature" not in _inputs(result)[0] or _inputs(result)[0]["signature"] is None

    again = pull_source(lake, config_from_flags("cloudtrail", bucket=bucket, endpoint_url=moto_server),
                        since="2024-01-01", until="2024-01-02")
    assert again.entry["inputs"] == [] and again.entry["blobs"]["digest_blobs"] == 0
    assert any("3 object(s)" in note for note in again.notes), again.notes


# -- 7. secrets never leak -------------------------------------------------------------------------

def test_missing_bucket_exits_3_naming_it_and_never_shows_the_secret(moto_server, tmp_path):
    secret = "SECRETsovaudit123456789"
    missing = "sovaudit-no-such-bucket-4711"
    lake_dir = tmp_path / "lake"
    env = fake_aws_environ(tmp_path, AWS_SECRET_ACCESS_KEY=secret, AWS_ACCESS_KEY_ID="AKIASOVAUDITTEST0001")
    proc = run_cli(["pull", "cloudtrail", "--bucket", missing, "--endpoint-url", moto_server, "--lake", str(lake_dir),
                    "--since", "2024-01-01", "--until", "2024-01-02"], env=env, cwd=tmp_path / "cwd")

    output = proc.stdout + proc.stderr
    assert proc.returncode == 3, output
    assert f"s3://{missing}" in output
    assert "NoSuchBucket" in output or "does not exist" in output
    assert secret not in output
    files = [p for p in lake_dir.rglob("*") if p.is_file()]
    assert any(p.name == "ledger.jsonl" for p in files)
    for path in files:
        assert secret.encode() not in path.read_bytes(), path
    failures = Lake(lake_dir).ledger.entries()[-1]["failures"]
    assert len(failures) == 1 and missing in failures[0]["error"]


# -- 8. unreachable endpoint -----------------------------------------------------------------------

def test_unreachable_endpoint_exits_3_quickly_naming_the_endpoint(tmp_path):
    endpoint = f"http://127.0.0.1:{free_port()}"
    started = time.monotonic()
    proc = run_cli(["pull", "cloudtrail", "--bucket", "trail-bucket", "--endpoint-url", endpoint,
                    "--lake", str(tmp_path / "lake"), "--since", "2024-01-01", "--until", "2024-01-02"],
                   env=fake_aws_environ(tmp_path), cwd=tmp_path / "cwd", timeout=90)
    elapsed = time.monotonic() - started

    output = proc.stdout + proc.stderr
    assert proc.returncode == 3, output
    assert elapsed < 60, elapsed
    assert endpoint in output
    assert "Traceback" not in output


# -- 10. expired credentials -----------------------------------------------------------------------

def test_expired_credentials_message_says_so_and_names_the_place():
    error = ClientError({"Error": {"Code": "ExpiredToken",
                                   "Message": "The security token included in the request is expired"}},
                        "ListObjectsV2")
    message = describe_aws_error(error, "s3://org-trail/AWSLogs/")
    assert message.startswith("s3://org-trail/AWSLogs/")
    assert "credentials have expired" in message
    assert "ExpiredToken" in message
