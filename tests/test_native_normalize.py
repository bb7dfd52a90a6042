"""queries/normalize/cloudtrail_batch.sql over the native extractor's batch gives the rows that cloudtrail.sql gives
over the same records read by DuckDB's read_json: every column, on the real samples, the demo's trail files and
records made to reach every branch of the mapping."""

import base64
import gzip
import json
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest
from azure_fixtures import activity_rest_event, keyvault_record, storage_record
from cloudtrail_typed_fixtures import typed_cases
from conftest import REPO, ct_event
from kafka_fixtures import audit_event

from sovaudit.ingest.batch_rows import lake_schema, normalized_rows, with_evidence_blob
from sovaudit.ingest.extract import extract, load_spec
from sovaudit.ingest.records import split_records
from sovaudit.resources import query_text
from sovaudit.schema import lake_tables
from sovaudit.sources.azure.preparer import AzurePreparer
from sovaudit.sources.cloudtrail.resource_map import resource_rules_json
from sovaudit.sources.kafka.preparer import KafkaPreparer

SAMPLES = sorted((REPO / "fixtures" / "aws" / "cloudtrail").glob("*.json.gz"))
DEMO = sorted((REPO / "sovaudit" / "demo" / "data").rglob("*CloudTrail*.json.gz"))
STARTED = datetime(2026, 12, 1, tzinfo=UTC)
JSON_COLUMNS = {"user_identity", "request_parameters", "response_elements", "additional_event_data", "resources",
                "service_event_details", "tls_details", "edge_device_details", "insight_details"}


@pytest.fixture(scope="module")
def db():
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.execute(query_text("normalize/time_macros.sql"))
    con.execute(query_text("normalize/cloudtrail_macros.sql"))
    con.execute(query_text("normalize/cloudtrail_rules.sql"), {"rules": resource_rules_json()})
    con.execute(lake_tables()["cloudtrail"].ddl)
    return con


def _batch_rows(db, table: str, batch, params: dict):
    """The table's rows from an extracted batch, as IngestRun makes them: its blob as a column, <table>_batch.sql,
    and the columns the spec gives as they are (sovaudit.ingest.batch_rows); as a DuckDB relation."""
    cursor = db.cursor()
    cursor.execute(lake_tables()[table].ddl.replace("CREATE TABLE", "CREATE TABLE IF NOT EXISTS", 1))
    rows = normalized_rows(cursor, query_text(f"normalize/{table}_batch.sql"),
                           {k: v for k, v in params.items() if k != "blob"}, with_evidence_blob(batch, params["blob"]),
                           lake_schema(cursor, table), table)
    return cursor.from_arrow(rows)


def _both(db, records_json: bytes, tmp_path: Path) -> tuple[list[dict], list[dict], list, list]:
    """(rows by read_json and cloudtrail.sql, rows by the extractor, cloudtrail_batch.sql and the columns the spec
    gives as they are (sovaudit.ingest.batch_rows), their Arrow schemas)."""
    blob = b'{"Records": ' + records_json + b"}"
    path = tmp_path / "slice.json"
    path.write_bytes(records_json)
    count = len(json.loads(records_json))
    params = {"blob": "b" * 64, "run": "run-1", "pull_started": STARTED}
    old = db.cursor().sql(query_text("normalize/cloudtrail.sql"),
                          params={**params, "path": str(path), "index_map": list(range(count))})
    new = _batch_rows(db, "cloudtrail", extract(blob, load_spec("cloudtrail")).batch, params)
    rows = [sorted((dict(zip(r.columns, v, strict=True)) for v in r.fetchall()), key=lambda d: d["evidence_index"])
            for r in (old, new)]
    return rows[0], rows[1], old.to_arrow_table().schema, new.to_arrow_table().schema


def _assert_same(old: list[dict], new: list[dict]) -> None:
    assert len(old) == len(new)
    for a, b in zip(old, new, strict=True):
        assert a.keys() == b.keys()
        for column in a:
            if column in JSON_COLUMNS and a[column] is not None and b[column] is not None:
                assert json.loads(a[column]) == json.loads(b[column]), (a["evidence_index"], column)
            else:
                assert a[column] == b[column], (a["evidence_index"], column, a[column], b[column])


@pytest.mark.parametrize("path", SAMPLES + DEMO, ids=lambda p: p.name)
def test_real_trail_files_give_the_same_rows(db, tmp_path, path):
    records = json.loads(gzip.decompress(path.read_bytes()))["Records"]
    old, new, old_types, new_types = _both(db, json.dumps(records).encode(), tmp_path)
    assert [str(t) for t in old_types] == [str(t) for t in new_types]
    _assert_same(old, new)
    assert len(new) == len(records)


def _branches() -> list[dict]:
    kms = "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    return [
        ct_event("copy", eventName="CopyObject", requestParameters={
            "bucketName": "dst", "key": "k", "x-amz-copy-source": "/src-bucket/a%20b.csv?versionId=1",
            "Host": "dst.s3.eu-central-1.amazonaws.com"}),
        ct_event("kms", eventSource="kms.amazonaws.com", eventName="Decrypt",
                 requestParameters={"keyId": kms}, resources=[{"ARN": kms, "type": "AWS::KMS::Key"}]),
        ct_event("kms-param", eventSource="kms.amazonaws.com", eventName="GenerateDataKey",
                 requestParameters={"keyId": kms}, resources=None),
        ct_event("sse", requestParameters={"bucketName": "b", "key": "k",
                                           "x-amz-server-side-encryption-aws-kms-key-id": kms},
                 additionalEventData={"bytesTransferredOut": "77", "SSEKMSKeyId": kms}),
        ct_event("login", eventSource="signin.amazonaws.com", eventName="ConsoleLogin",
                 responseElements={"ConsoleLogin": "Failure"}, requestParameters=None),
        ct_event("replicate", eventSource="kms.amazonaws.com", eventName="ReplicateKey",
                 requestParameters={"keyId": kms, "replicaRegion": "us-east-1"},
                 responseElements={"replicaKeyMetadata": {"arn": kms.replace("eu-west-1", "us-east-1")}}),
        ct_event("replication", eventName="PutBucketReplication", requestParameters={
            "bucketName": "b", "ReplicationConfiguration": {"Rule": [{"Destination": {"Bucket": "arn:aws:s3:::d"}}]}}),
        ct_event("error", errorCode="AccessDenied", errorMessage="<b>denied</b>", readOnly=False),
        ct_event("service", sourceIPAddress="cloudtrail.amazonaws.com",
                 userIdentity={"type": "AWSService", "invokedBy": "cloudtrail.amazonaws.com"}),
        ct_event("role", userIdentity={"type": "AssumedRole", "arn": "arn:aws:sts::1:assumed-role/r/s",
                                       "sessionContext": {"sessionIssuer": {"arn": "arn:aws:iam::1:role/r"}},
                                       "accessKeyId": "ASIA", "userName": "u"}),
        ct_event("v6", sourceIPAddress="2001:db8::1", eventCategory="Management", managementEvent=True),
        ct_event("future", time="2026-12-03T00:00:00Z"),
        ct_event("not-a-time", time="infinity"),
        ct_event("offset", time="2024-01-02T12:30:03+02:30"),
        ct_event("", eventName="DeleteObject"),
        {**ct_event("no-time"), "eventTime": None},
        {k: v for k, v in ct_event("x").items() if k != "eventID"},
        ct_event("odd-types", readOnly="true", managementEvent="false", awsRegion=5, eventName=["a"]),
        *(record for record, _ in typed_cases()),
        *_typed_branches(),
    ]


def _typed_branches() -> list[dict]:
    """Records whose fields become the typed columns of the session views (cloudtrail_macros.sql), in CloudTrail's
    camelCase and the APIs' PascalCase."""
    org = {"eventSource": "organizations.amazonaws.com", "awsRegion": "us-east-1"}
    return [
        ct_event("bucket", eventName="CreateBucket", requestParameters={
            "bucketName": "b", "CreateBucketConfiguration": {"LocationConstraint": "EU"}}),
        ct_event("bucket-camel", eventName="CreateBucket", requestParameters={
            "bucketName": "b", "createBucketConfiguration": {"locationConstraint": "us-west-2"}}),
        ct_event("volume", eventSource="ec2.amazonaws.com", eventName="CreateVolume", requestParameters={},
                 responseElements={"volumeId": "vol-1"}),
        ct_event("cluster", eventSource="rds.amazonaws.com", eventName="CreateDBCluster", requestParameters={
            "DBClusterIdentifier": "Db-1", "globalClusterIdentifier": "g", "ReplicationSourceIdentifier": "arn:x"}),
        ct_event("read-replica", eventSource="rds.amazonaws.com", eventName="CreateDBInstanceReadReplica",
                 requestParameters={"dBInstanceIdentifier": "r", "sourceDBInstanceIdentifier": "s"}),
        ct_event("global", eventSource="rds.amazonaws.com", eventName="CreateGlobalCluster",
                 requestParameters={"globalClusterIdentifier": "g", "SourceDBClusterIdentifier": "arn:c"}),
        ct_event("table", eventSource="dynamodb.amazonaws.com", eventName="UpdateTable", requestParameters={
            "TableName": "t", "ReplicaUpdates": [{"Create": {"RegionName": "us-east-1"}}, {"Delete": {}}],
            "replicaUpdates": [{"create": {"regionName": "eu-central-1"}}]}),
        ct_event("global-table", eventSource="dynamodb.amazonaws.com", eventName="CreateGlobalTable",
                 requestParameters={"globalTableName": "g", "replicationGroup": [{"regionName": "ap-south-1"}]}),
        ct_event("policy", eventName="DescribePolicy", requestParameters={"policyId": "p-1"}, responseElements={
            "policy": {"policySummary": {"id": "p-1", "type": "SERVICE_CONTROL_POLICY", "name": "n"},
                       "content": "{\"Statement\": []}"}}, **org),
        ct_event("unit", eventName="CreateOrganizationalUnit", requestParameters={"parentId": "r-1", "name": "u"},
                 responseElements={"organizationalUnit": {"id": "ou-1", "name": "u"}}, **org),
        ct_event("detach", eventName="DetachPolicy", requestParameters={"PolicyId": "p-1", "RootId": "r-1"}, **org),
        ct_event("update-policy", eventName="UpdatePolicy", requestParameters={
            "policyId": "p-1", "content": "{}", "targetId": "ou-1"}, responseElements=None, **org),
        ct_event("replication-rules", eventName="PutBucketReplication", requestParameters={
            "bucketName": "b", "ReplicationConfiguration": {"Rule": [
                {"Destination": {"Bucket": "arn:aws:s3:::d1"}}, {"Destination": {}},
                {"Destination": {"Bucket": "arn:aws:s3:::d2"}}]}}),
        ct_event("replication-rule", eventName="PutBucketReplication", requestParameters={
            "bucketName": "b", "ReplicationConfiguration": {"Rule": {"Destination": {"Bucket": "arn:aws:s3:::d"}}}}),
    ]


def test_every_branch_of_the_mapping_gives_the_same_rows(db, tmp_path):
    old, new, old_types, new_types = _both(db, json.dumps(_branches()).encode(), tmp_path)
    assert [str(t) for t in old_types] == [str(t) for t in new_types]
    _assert_same(old, new)
    problems = [r["_problem"] for r in new]
    assert sum(p is not None for p in problems) == 5, problems


def test_the_session_views_fields_become_typed_columns(db, tmp_path):
    _, new, _, _ = _both(db, json.dumps(_typed_branches()).encode(), tmp_path)
    rows = {r["event_uid"]: r for r in new}
    typed = {uid: {k: v for k, v in row.items() if v not in (None, []) and k in (
        "bucket_location_constraint", "volume_id", "db_cluster_identifier", "db_instance_identifier",
        "global_cluster_identifier", "source_db_cluster_identifier", "replication_source_identifier",
        "source_db_instance_identifier", "table_name", "global_table_name", "replica_regions", "org_policy", "org_unit",
        "policy_id", "policy_type", "policy_content", "policy_target_id", "replication_destinations")}
        for uid, row in rows.items()}
    assert typed == {
        "bucket": {"bucket_location_constraint": "EU"},
        "bucket-camel": {"bucket_location_constraint": "us-west-2"},
        "volume": {"volume_id": "vol-1"},
        "cluster": {"db_cluster_identifier": "Db-1", "global_cluster_identifier": "g",
                    "replication_source_identifier": "arn:x"},
        "read-replica": {"db_instance_identifier": "r", "source_db_instance_identifier": "s"},
        "global": {"global_cluster_identifier": "g", "source_db_cluster_identifier": "arn:c"},
        # camelCase first, then PascalCase, as given (the views lower-case and deduplicate them)
        "table": {"table_name": "t", "replica_regions": ["eu-central-1", "us-east-1"]},
        "global-table": {"global_table_name": "g", "replica_regions": ["ap-south-1"]},
        "policy": {"org_policy": {"id": "p-1", "type": "SERVICE_CONTROL_POLICY", "name": "n",
                                  "content": '{"Statement": []}'}, "policy_id": "p-1"},
        "unit": {"org_unit": {"id": "ou-1", "name": "u"}},
        "detach": {"policy_id": "p-1", "policy_target_id": "r-1"},
        "update-policy": {"policy_id": "p-1", "policy_content": "{}", "policy_target_id": "ou-1"},
        "replication-rules": {"replication_destinations": ["arn:aws:s3:::d1", "arn:aws:s3:::d2"]},
        "replication-rule": {"replication_destinations": ["arn:aws:s3:::d"]},
    }
    # The copy and sharing calls' fields are cloudtrail_finish.sql's, over a flush: not the batch's.
    assert all(r["copy_call_fields"] is None for r in new)


def test_the_batch_sql_keeps_the_row_order_of_a_batch_of_many_chunks(db):
    """IngestRun normalizes the queued blobs' batches as one table of many chunks: DuckDB must give its rows back in
    order (an `IN` list of five names or more is planned as a join that does not)."""
    import pyarrow as pa

    chunks = [extract(gzip.decompress(path.read_bytes()), load_spec("cloudtrail")).batch for path in DEMO[:60]]
    batch = pa.Table.from_batches(chunks)
    assert batch.num_rows > 1000
    rows = _batch_rows(db, "cloudtrail", batch, {"blob": "b" * 64, "run": "run-1", "pull_started": STARTED})
    assert rows.count("*").fetchall() == [(batch.num_rows,)]  # normalized_rows raises on rows out of order


LINEAGE = sorted((REPO / "sovaudit" / "demo" / "data" / "kafka" / "lineage").glob("*.ndjson.gz"))


def _lineage_both(db, blob: bytes, tmp_path: Path) -> tuple[list, list, list, list]:
    lines = [line for line in blob.splitlines() if line.strip()]
    path = tmp_path / "lineage.json"
    path.write_bytes(b"[" + b",".join(lines) + b"]")
    params = {"blob": "b" * 64, "run": "run-1", "pull_started": STARTED, "region": "eu-west-1"}
    old = db.cursor().sql(query_text("normalize/kafka_lineage.sql"),
                          params={**params, "path": str(path), "index_map": list(range(len(lines)))})
    new = _batch_rows(db, "kafka_lineage", extract(blob, load_spec("kafka_lineage")).batch, params)
    rows = [sorted((dict(zip(r.columns, v, strict=True)) for v in r.fetchall()), key=lambda d: d["evidence_index"])
            for r in (old, new)]
    return rows[0], rows[1], old.to_arrow_table().schema, new.to_arrow_table().schema


def _assert_same_lineage(old, new):
    """A header value that is an object ({"base64": ...}) is its JSON text: DuckDB's re-serialized, the
    extractor's as delivered; compared parsed."""
    def parsed(row):
        return {k: json.loads(v) if k == "headers" or (isinstance(v, str) and v.startswith("{")) else v
                for k, v in row.items()}

    assert len(old) == len(new)
    for a, b in zip(old, new, strict=True):
        assert parsed(a) == parsed(b)


@pytest.mark.parametrize("path", LINEAGE[:3], ids=lambda p: p.name)
def test_demo_lineage_files_give_the_same_rows(db, tmp_path, path):
    old, new, old_types, new_types = _lineage_both(db, gzip.decompress(path.read_bytes()), tmp_path)
    assert [str(t) for t in old_types] == [str(t) for t in new_types]
    _assert_same_lineage(old, new)
    assert len(new) > 0


def test_lineage_records_odd_and_in_the_future_give_the_same_rows(db, tmp_path):
    kafka = {"cluster_id": "c", "topic": "t", "partition": 1, "offset": 7, "timestamp": 1785715309000}
    records = [{"kafka": kafka, "headers": {"region_origin": {"base64": "/w=="}}},
               {"kafka": kafka},
               {"kafka": {**kafka, "timestamp": 1_900_000_000_000}, "headers": {}},
               {"kafka": {k: v for k, v in kafka.items() if k != "offset"}, "headers": {}},
               {"kafka": {k: v for k, v in kafka.items() if k != "timestamp"}, "headers": {}}]
    blob = b"\n".join(json.dumps(r).encode() for r in records) + b"\n"
    old, new, old_types, new_types = _lineage_both(db, blob, tmp_path)
    assert [str(t) for t in old_types] == [str(t) for t in new_types]
    _assert_same_lineage(old, new)
    assert [r["_problem"] is not None for r in new] == [False, False, True, True, True]


INVENTORY = sorted((REPO / "sovaudit" / "demo" / "data" / "kafka").glob("inventory-*/*.ndjson.gz"))
TOPICS_PARAMS = {"region": "us-east-1", "aliases": ["ap"]}


def _topics_both(db, blob: bytes, tmp_path: Path) -> tuple[list, list, list, list]:
    """kafka_topics.sql over the records as the old path handed them to DuckDB, and kafka_topics_batch.sql over the
    extractor's batch of the same blob, as sovaudit.sources.kafka.preparer makes it."""
    lines = [line for line in blob.splitlines() if line.strip()]
    path = tmp_path / "topics.json"
    path.write_bytes(b"[" + b",".join(lines) + b"]")
    params = {"blob": "b" * 64, "run": "run-1", "pull_started": STARTED, **TOPICS_PARAMS}
    old = db.cursor().sql(query_text("normalize/kafka_topics.sql"),
                          params={**params, "path": str(path), "index_map": list(range(len(lines)))})
    prepared = KafkaPreparer("kafka_topics", TOPICS_PARAMS).fast(blob, tmp_path / "work")
    assert prepared.records_read == len(lines) and not prepared.set_aside
    new = _batch_rows(db, "kafka_topics", prepared.batches[0].batch, params)
    rows = [sorted((dict(zip(r.columns, v, strict=True)) for v in r.fetchall()), key=lambda d: d["evidence_index"])
            for r in (old, new)]
    return rows[0], rows[1], old.to_arrow_table().schema, new.to_arrow_table().schema


def _assert_same_topics(old, new):
    """`configs` is JSON text: DuckDB's re-serialized, the extractor's as delivered; compared parsed."""
    def parsed(row):
        return {k: json.loads(v) if k == "configs" and v is not None else v for k, v in row.items()}

    assert len(old) == len(new)
    for a, b in zip(old, new, strict=True):
        assert parsed(a) == parsed(b)


@pytest.mark.parametrize("path", INVENTORY, ids=lambda p: p.name)
def test_demo_inventory_files_give_the_same_rows(db, tmp_path, path):
    old, new, old_types, new_types = _topics_both(db, gzip.decompress(path.read_bytes()), tmp_path)
    assert [str(t) for t in old_types] == [str(t) for t in new_types]
    _assert_same_topics(old, new)
    assert len(new) > 0 and any(r["mm2_role"] for r in new)


def test_inventory_records_of_every_role_odd_and_in_the_future_give_the_same_rows(db, tmp_path):
    def topic(name, **fields):
        return {"snapshot_time": "2026-09-01T00:00:00Z", "cluster_id": "lkc-us1", "topic": name, "partitions": 3,
                "replication_factor": 3, "configs": {"retention.ms": "604800000", "cleanup.policy": "delete"},
                **fields}

    records = [topic("heartbeats"), topic("eu.heartbeats"), topic("eu.orders"), topic("eu.us.orders"),
               topic("us.eu.checkpoints.internal"), topic("us.eu.orders"), topic("ap.metrics"),
               topic("mm2-offset-syncs.eu.internal"), topic("mm2-configs.eu.internal"), topic("__consumer_offsets"),
               topic("plain", configs={"retention.ms": "forever", "retention.bytes": 1073741824}),
               topic("no-configs", configs=None, partitions="12", replication_factor=None),
               topic("skewed", snapshot_time="2026-09-01T02:00:00+02:00"),
               topic("future", snapshot_time="2026-12-03T00:00:00Z"),
               topic("not-a-time", snapshot_time="2026-09-01"),
               topic("no-time", snapshot_time=None),
               {k: v for k, v in topic("x").items() if k != "topic"}]
    blob = b"\n".join(json.dumps(r).encode() for r in records) + b"\n"
    old, new, old_types, new_types = _topics_both(db, blob, tmp_path)
    assert [str(t) for t in old_types] == [str(t) for t in new_types]
    _assert_same_topics(old, new)
    roles = {r["topic"]: (r["mm2_role"], r["mirror_alias"]) for r in new}
    assert roles["eu.us.orders"] == ("remote_topic", "eu") and roles["ap.metrics"] == ("remote_topic", "ap")
    assert [r["_problem"] is not None for r in new][-4:] == [True] * 4


AUDIT = sorted((REPO / "sovaudit" / "demo" / "data" / "kafka" / "audit").glob("*.ndjson.gz"))
AUDIT_FIXTURES = sorted((REPO / "fixtures" / "kafka").glob("kdp-*.json")) + [
    REPO / "fixtures" / "kafka" / "kdp-audit-events.derived.ndjson"]
AUDIT_PARAMS = {"region": "eu-west-1"}
AUDIT_JSON_COLUMNS = {"authentication_info", "authorization_info", "request", "request_metadata", "result",
                      "cloud_resources"}


class _Records:
    def __init__(self):
        self.spans: list[tuple[int, bytes]] = []

    def add(self, index, offset, span, value):
        self.spans.append((index, span))


def _audit_both(db, blob: bytes, tmp_path: Path) -> tuple[dict[int, dict], dict[int, dict], dict[int, str]]:
    """kafka_audit.sql over the records as the Python splitter handed them to DuckDB, and kafka_audit_batch.sql over
    the batches sovaudit.sources.kafka.preparer makes of the same blob: (old rows, new rows, new set-aside reasons),
    each by the record's position in the blob."""
    records = _Records()
    assert not split_records(blob, records).set_aside
    path = tmp_path / "audit.json"
    path.write_bytes(b"[" + b",".join(span for _, span in records.spans) + b"]")
    params = {"blob": "b" * 64, "run": "run-1", "pull_started": STARTED, **AUDIT_PARAMS}
    old = db.cursor().sql(query_text("normalize/kafka_audit.sql"),
                          params={**params, "path": str(path), "index_map": [i for i, _ in records.spans]})
    old_rows = {r["evidence_index"]: r for r in (dict(zip(old.columns, v, strict=True)) for v in old.fetchall())}
    prepared = KafkaPreparer("kafka_audit", AUDIT_PARAMS).fast(blob, tmp_path / "work")
    assert prepared.records_read == len(records.spans)
    new_rows: dict[int, dict] = {}
    for piece in prepared.batches:
        new = _batch_rows(db, "kafka_audit", piece.batch, params)
        assert [str(f) for f in new.to_arrow_table().schema] == [str(f) for f in old.to_arrow_table().schema]
        new_rows.update((r["evidence_index"], r) for r in (dict(zip(new.columns, v, strict=True))
                                                           for v in new.fetchall()))
    reasons = {s.record_index: s.reason for s in prepared.set_aside}
    assert not set(reasons) & set(new_rows)
    return old_rows, new_rows, reasons


def _assert_same_audit(old: dict[int, dict], new: dict[int, dict], reasons: dict[int, str],
                       changed: dict[int, str] | None = None) -> None:
    """Every record gives the same row, or is set aside before the SQL with the reason the old SQL gave it (or, for
    the positions in `changed`, the reason given there)."""
    changed = changed or {}
    assert sorted(old) == sorted([*new, *reasons])
    for index, a in old.items():
        if index in reasons:
            assert reasons[index] == changed.get(index, a["_problem"]), index
            continue
        b = new[index]
        if index in changed:
            assert b["_problem"] == changed[index], index
            continue
        for column in a:
            if column in AUDIT_JSON_COLUMNS and a[column] is not None and b[column] is not None:
                assert json.loads(a[column]) == json.loads(b[column]), (index, column)
            else:
                assert a[column] == b[column], (index, column, a[column], b[column])


@pytest.mark.parametrize("path", AUDIT + AUDIT_FIXTURES, ids=lambda p: p.name)
def test_demo_and_sample_audit_files_give_the_same_rows(db, tmp_path, path):
    blob = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
    old, new, reasons = _audit_both(db, blob, tmp_path)
    _assert_same_audit(old, new, reasons)
    assert new and all(r["_problem"] is None for r in new.values())


def _envelope(offset: int, event: object = None, *, raw: bytes | None = None, **extra) -> bytes:
    """A broker record as sovaudit.sources.kafka.audit writes it."""
    kafka = {"cluster_id": "lkc-eu1", "topic": "confluent-audit-log-events", "partition": 3, "offset": offset,
             "timestamp": 1785715309000}
    head = json.dumps({"kafka": kafka, **extra}, separators=(",", ":")).encode()[:-1]
    if raw is not None:
        return head + b',"value_base64":"' + base64.b64encode(raw) + b'"}'
    return head + b',"value":' + json.dumps(event).encode() + b"}"


def test_every_branch_of_the_audit_mapping_and_the_envelope_gives_the_same_rows(db, tmp_path):
    cloud = "crn://confluent.cloud/organization=9bb441c4/environment=env-q1w2e/cloud-cluster=lkc-a1b2c/kafka=lkc-a1b2c"
    authn = {**audit_event(90), "type": "io.confluent.kafka.server/authentication"}
    authn["data"] = {"methodName": "kafka.Authentication", "serviceName": cloud, "resourceName": cloud,
                     "authenticationInfo": {"principal": {"confluentServiceAccount": {"resourceId": "sa-1"}}},
                     "requestMetadata": {"clientAddress": [{"ip": "8.8.8.8", "port": 1}]}, "result": "SUCCESS"}
    failed = {**audit_event(91), "data": {**audit_event(91)["data"], "result": {"status": "UNAUTHENTICATED",
                                                                               "message": "<b>no</b>"}}}
    odd_address = {**audit_event(92)}
    odd_address["data"] = {**odd_address["data"], "requestMetadata": {"client_address": {"host": "h", "port": 1}}}
    no_id = {k: v for k, v in audit_event(93).items() if k != "id"}
    lines = [
        json.dumps(audit_event(0)).encode(),                                            # 0 bare
        _envelope(1, audit_event(1)),                                                   # 1 in an envelope
        _envelope(2, None),                                                             # 2 a tombstone
        _envelope(3, raw=json.dumps(audit_event(3), indent=2).encode()),                # 3 pretty, base64
        _envelope(4, raw=b"{\xff}"),                                                    # 4 not UTF-8
        _envelope(5, raw=b"not json at all"),                                           # 5 not JSON
        _envelope(6, {"schema": {}, "payload": {}}),                                    # 6 no CloudEvent keys
        json.dumps({"specversion": "1.0", "id": "x"}).encode(),                         # 7 bare, no type/data
        json.dumps({**audit_event(8), "data": None}).encode(),                          # 8 data null: present
        json.dumps({**audit_event(9), "time": "2026-12-03T00:00:00Z"}).encode(),        # 9 future
        json.dumps({**audit_event(10), "time": "yesterday"}).encode(),                  # 10 not a time
        json.dumps({k: v for k, v in audit_event(11).items() if k != "time"}).encode(),  # 11 no time
        json.dumps(authn).encode(),                                                     # 12 Cloud shapes
        json.dumps(failed).encode(),                                                    # 13 failure status
        json.dumps(audit_event(14, granted=False, operation="Alter", method="kafka.CreateAcls")).encode(),
        json.dumps(odd_address).encode(),                                               # 15 address object
        json.dumps(no_id).encode(),                                                     # 16 no id, bare
        _envelope(17, no_id),                                                           # 17 no id, envelope
        _envelope(18, raw=json.dumps(no_id, indent=1).encode()),                        # 18 no id, base64
        _envelope(19, [audit_event(19)]),                                               # 19 value an array
        _envelope(20, raw=b"[1, 2]"),                                                   # 20 base64 array
        _envelope(21, raw=json.dumps(audit_event(21)).encode() * 2),                    # 21 two documents
        json.dumps({"kafka": {"offset": 22}}).encode(),                                 # 22 envelope, no value
        _envelope(23, {**audit_event(23), "data": {}}),                                 # 23 data empty
        json.dumps({**audit_event(24), "id": ""}).encode(),                             # 24 empty id
        _envelope(25, raw=b'{"id": 1,}'),                                               # 25 broken JSON
        _envelope(26, raw=b'{"id": "a", "id": "b"}'),                                   # 26 a duplicate key
    ]
    blob = b"\n".join(lines) + b"\n"
    old, new, reasons = _audit_both(db, blob, tmp_path)
    _assert_same_audit(old, new, reasons, changed={
        19: "message at partition 3 offset 19 is a JSON array, expected a CloudEvents object",
        21: "message at partition 3 offset 21 is not JSON: not one JSON value",
        25: "message at partition 3 offset 25 is not JSON: invalid JSON: expected a member name in double quotes, "
            "found '}' at byte offset 9 (record 0); the remaining 10 bytes cannot be split into records",
        22: "message at partition null offset 22 has no value (a tombstone)",  # stored by kafka_audit.sql
        26: "message at partition 3 offset 26 holds a record set aside: duplicate member \"id\" at byte offset 12",
    })
    assert old[21]["_problem"] == "message at partition 3 offset 21 is not JSON"
    assert old[22]["_problem"] is None
    stored = {i for i, r in new.items() if r["_problem"] is None}
    assert stored == {0, 1, 3, 8, 12, 13, 14, 15, 16, 17, 18, 23, 24}
    assert {new[i]["event_uid"] for i in (16, 17, 18)} == {old[i]["event_uid"] for i in (16, 17, 18)}
    assert all(new[i]["event_uid"].startswith("sha256:") for i in (16, 17, 18, 24))
    assert (new[1]["kafka_partition"], new[1]["kafka_offset"]) == (3, 1) and new[0]["kafka_offset"] is None
    assert set(reasons) == {4, 5, 6, 7, 20, 21, 25, 26}


AZURE = sorted((REPO / "sovaudit" / "demo" / "data" / "azure").rglob("*.json.gz"))
AZURE_SAMPLES = sorted((REPO / "fixtures" / "azure").glob("*.json")) + sorted(
    Path("/work/shared/samples/azure").glob("*.json"))
AZURE_PARAMS = {"loc_patterns": ["/subscriptions/*/resourcegroups/rg-acme-keys-weu/*"], "loc_regions": ["westeurope"]}
AZURE_JSON_COLUMNS = {"authorization", "claims", "identity", "http_request", "properties", "related_events"}


@pytest.fixture(scope="module")
def azure_db():
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.execute(query_text("normalize/time_macros.sql"))
    con.execute(query_text("normalize/azure_macros.sql"))
    for table in ("azure_activity", "azure_resource"):
        con.execute(lake_tables()[table].ddl)
    return con


def _azure_both(db, blob: bytes, tmp_path: Path) -> tuple[dict, dict, dict[int, str], dict[int, str]]:
    """azure_*.sql over the slices the Python splitter and router made of the blob, and azure_*_batch.sql over the
    batches AzurePreparer.fast makes of it: (old rows, new rows) by (table, position), and each path's set-aside
    reasons by position."""
    preparer = AzurePreparer(None)
    params = {"blob": "b" * 64, "run": "run-1", "pull_started": STARTED, **AZURE_PARAMS}
    careful = preparer.careful(blob, tmp_path / "old")
    old_rows = {}
    for piece in careful.slices:
        old = db.cursor().sql(query_text(f"normalize/{piece.table}.sql"),
                              params={**params, "path": str(piece.array_path), "index_map": piece.positions})
        old_rows.update(((piece.table, r["evidence_index"]), r) for r in (dict(zip(old.columns, v, strict=True))
                                                                         for v in old.fetchall()))
    prepared = preparer.fast(blob, tmp_path / "new")
    assert prepared.records_read == careful.records_read
    new_rows = {}
    for piece in prepared.batches:
        new = _batch_rows(db, piece.table, piece.batch, params)
        new_rows.update(((piece.table, r["evidence_index"]), r) for r in (dict(zip(new.columns, v, strict=True))
                                                                         for v in new.fetchall()))
    return (old_rows, new_rows, {s.record_index: s.reason for s in careful.set_aside},
            {s.record_index: s.reason for s in prepared.set_aside})


def _assert_same_azure(old: dict, new: dict) -> None:
    assert sorted(old) == sorted(new)
    for key, a in old.items():
        b = new[key]
        assert a.keys() == b.keys()
        for column in a:
            if column in AZURE_JSON_COLUMNS and a[column] is not None and b[column] is not None:
                assert json.loads(a[column]) == json.loads(b[column]), (key, column)
            else:
                assert a[column] == b[column], (key, column, a[column], b[column])


@pytest.mark.parametrize("path", AZURE + AZURE_SAMPLES, ids=lambda p: p.name)
def test_demo_and_sample_azure_files_give_the_same_rows(azure_db, tmp_path, path):
    blob = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
    old, new, old_reasons, new_reasons = _azure_both(azure_db, blob, tmp_path)
    _assert_same_azure(old, new)
    assert old_reasons.keys() == new_reasons.keys()
    for index, reason in old_reasons.items():  # a syntax error is named in the extractor's words
        assert new_reasons[index] == reason or reason.startswith("invalid JSON") and new_reasons[index].startswith(
            "invalid JSON: expected a member name in double quotes, found '}' at byte offset 941"), index
    assert new or "invalid" in path.name


def _azure_branches() -> list:
    """Records that reach every branch of azure_activity.sql, azure_resource.sql and the router."""
    when = datetime(2026, 9, 1, 12, tzinfo=UTC)
    kv, st = keyvault_record, storage_record

    def without(record, *keys):
        return {k: v for k, v in record.items() if k not in keys}

    rest = activity_rest_event(when)
    export = {"time": "2026-09-01T10:00:00Z", "resourceId": "/SUBSCRIPTIONS/S1/RESOURCEGROUPS/RG-ACME-KEYS-WEU/"
              "PROVIDERS/MICROSOFT.STORAGE/STORAGEACCOUNTS/A1", "operationName":
              "MICROSOFT.STORAGE/STORAGEACCOUNTS/OBJECTREPLICATIONPOLICIES/WRITE", "category": "Administrative",
              "resultType": "Failure", "resultSignature": "Forbidden", "durationMs": "17", "callerIpAddress": "10.0.0.1",
              "identity": {"claims": {"upn": "ops@contoso.eu", "tid": "T1", "ipaddr": "10.1.1.1"},
                           "authorization": {"scope": "/subscriptions/s1/x"}},
              "properties": {"statusCode": "Forbidden", "userAgent": "az-cli",
                             "requestbody": json.dumps({"properties": {"destinationAccount":
                                                        "/subscriptions/s1/resourcegroups/rg-acme-keys-weu/b"}})}}
    records = [
        rest, activity_rest_event(when, "Microsoft.Storage/storageAccounts/listKeys/action", n=1, status="Failed"),
        {**rest, "eventDataId": "", "id": "", "status": {"value": "Failed"}, "subStatus": {"value": "Conflict"},
         "claims": {"http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn": "u@x", "oid": "o1"},
         "eventName": "BeginRequest", "category": {"value": "Administrative"}, "resourceProviderName": "MICROSOFT.SQL",
         "resourceType": {"value": "Microsoft.Sql/servers"}, "durationMs": 12.0, "location": "West Europe",
         "httpRequest": {"clientIpAddress": "[2001:db8::1]:443"}},
        without({**rest, "operationName": {"value": "Microsoft.KeyVault/vaults/delete"}}, "eventDataId", "id"),
        {**rest, "eventTimestamp": "2026-12-03T00:00:00Z"}, {**rest, "eventTimestamp": "yesterday"},
        without(rest, "eventTimestamp"), {**rest, "eventDataId": None, "properties": {"eventDataId": "p-1"}},
        export, {**export, "category": "Policy", "identity": None, "properties": {"requestbody": "{not json"}},
        {**export, "category": 7, "operationName": "Microsoft.Authorization/roleAssignments/write"},
        {**export, "operationName": "Microsoft.Compute/virtualMachines/read", "category": "Security"},
        kv(when, "KeyDecrypt"), kv(when, "VaultPatch", status=403, location=None), kv(when, "SecretList"),
        kv(when, "KeyPurge", upn=None), kv(when, "KeyCreate"), kv(when, "VaultAccessPolicyChangedEventGridNotification"),
        kv(when, "KeyRotate"), {**kv(when, "KeyGet"), "identity": {"claims": {"oid": "o2", "tid": "T2"}}},
        without(kv(when, "KeyGet"), "identity"), {**kv(when, "KeyGet"), "time": "2026-13-01T00:00:00Z"},
        without(kv(when, "KeyGet"), "time"), {**kv(when, "KeyGet"), "time": "2026-12-09T00:00:00Z"},
        st(when, "GetBlob"), st(when, "PutBlob"), st(when, "DeleteBlob", category="StorageDelete"),
        st(when, "SetContainerACL"), st(when, "SetBlobProperties"), st(when, "SetBlobServiceProperties"),
        st(when, "CopyBlob", source_uri="https://other.blob.core.windows.net/c/b?sig=secret"),
        st(when, "GetBlob", status=404, status_text="BlobNotFound"), st(when, "GetUserDelegationKey"),
        {**st(when, "ListBlobs"), "uri": "https://customersneu.blob.core.windows.net/a%20b/c%2Fd?restype=x"},
        {"properties": {"serviceType": "blob", "accountName": "a", "requestUrl": "https://a.blob/x/y?sig=s"}},
        {"time": "2026-09-01T00:00:00Z", "resourceId": "/subscriptions/s/providers/Microsoft.Web/sites/w",
         "category": "AppServiceHTTPLogs", "operationName": "QueryLogs", "statusCode": "500", "level": 4},
        {"time": "2026-09-01T00:00:00Z", "operationName": "DeleteThing", "Properties": {"id": "ignored"}},
        {"time": "2026-09-01T00:00:00Z", "operationName": "PutThing", "Properties": {"id": "b"},
         "properties": {"id": "a", "httpStatusCode": "201"}},
        {"time": "2026-09-01T00:00:00Z", "operationName": "Other", "resultType": "failed", "identity": "opaque"},
        {"eventTimestamp": None, "resourceId": "/subscriptions/s/x", "time": "2026-09-01T00:00:00Z"},
        {"eventID": "not azure"}, {"properties": {"serviceType": "blob"}},
    ]
    return records


def test_every_branch_of_the_azure_mappings_and_the_router_gives_the_same_rows(azure_db, tmp_path):
    records = _azure_branches()
    blob = json.dumps({"records": records}, indent=1).encode()
    old, new, old_reasons, new_reasons = _azure_both(azure_db, blob, tmp_path)
    _assert_same_azure(old, new)
    assert old_reasons == new_reasons and sorted(new_reasons) == [len(records) - 2, len(records) - 1]
    tables = {table for table, _ in new}
    assert tables == {"azure_activity", "azure_resource"}
    assert len(new) == len(records) - 2
    classes = {r["action_class"] for r in new.values()}
    assert {"config", "auth", "delete", "read", "write", "key_use", "other"} <= classes
    assert sum(r["_problem"] is not None for r in new.values()) >= 6
    assert any(r["event_uid"].startswith("sha256:") for r in new.values())
    assert any(r["dest_region"] == "westeurope" for r in new.values())


def _with_body(n: int, operation: str, **properties) -> dict:
    event = activity_rest_event(datetime(2026, 9, 1, 12, tzinfo=UTC), operation, n=n)
    event["properties"] = {**event["properties"], **{k: json.dumps(v) if isinstance(v, dict | list) else v
                                                     for k, v in properties.items()}}
    return event


BODY_RECORDS = [
    _with_body(0, "Microsoft.Storage/storageAccounts/managementPolicies/write", requestbody={"properties": {"policy": {
        "rules": [{"name": "expire", "enabled": True, "definition": {"actions": {"baseBlob": {"delete": {
            "daysAfterModificationGreaterThan": 30, "daysAfterCreationGreaterThan": "400"}}}}},
                  {"name": "off", "enabled": False}, 5]}}}),
    # '{}' says nothing: the responseBody is the body; its rules are no list
    _with_body(1, "Microsoft.Storage/storageAccounts/managementPolicies/write", requestbody="{}",
               responseBody={"properties": {"policy": {"rules": {"name": "one"}}}}),
    # requestBody as an object, not a JSON string
    {**(e := _with_body(2, "Microsoft.Insights/diagnosticSettings/write")), "properties": {**e["properties"],
        "requestBody": {"properties": {"logs": [{"category": "AuditEvent", "enabled": True},
                                                {"categoryGroup": "audit"}], "workspaceId": "/w/1"}}}},
    _with_body(3, "Microsoft.KeyVault/vaults/accessPolicies/write", requestbody={"properties": {"accessPolicies": [
        {"objectId": "o-1", "permissions": {"keys": ["get", "unwrapKey"]}}, {"objectId": "o-2"}]}}),
    _with_body(4, "Microsoft.RecoveryServices/vaults/backupstorageconfig/write",
               requestbody={"properties": {"crossRegionRestoreFlag": True}}),
    _with_body(5, "Microsoft.RecoveryServices/vaults/write",
               requestbody={"properties": {"redundancySettings": {"crossRegionRestore": "Enabled"}}}),
    _with_body(6, "Microsoft.RecoveryServices/vaults/backupFabrics/protectionContainers/protectedItems/write",
               requestbody={"properties": {"sourceResourceId": "/subscriptions/s/x/storageAccounts/A"}}),
    _with_body(7, "Microsoft.Authorization/policyExemptions/write", requestbody={"properties": {
        "displayName": "<script>alert(1)</script>", "exemptionCategory": "Waiver", "policyAssignmentId": "/a/1"}}),
    _with_body(8, "Microsoft.Storage/storageAccounts/write", requestbody={"location": "East US",
                                                                         "sku": {"name": "Standard_GRS"}}),
    _with_body(9, "Microsoft.Storage/storageAccounts/objectReplicationPolicies/write",
               responseBody={"properties": {"destinationAccount": "/subscriptions/s/d"}}),
    # no body: not JSON, empty; and a member outside its provider's operations is not read
    _with_body(10, "Microsoft.Storage/storageAccounts/write", requestbody="{not json", responseBody=""),
    _with_body(11, "Microsoft.Network/networkSecurityGroups/write", requestbody={"location": "westeurope",
        "properties": {"policy": {"rules": []}, "logs": [], "accessPolicies": [{"objectId": "x"}]}}),
]


def test_the_body_columns_are_the_same_on_both_paths_and_hold_what_the_body_says(azure_db, tmp_path):
    blob = json.dumps({"records": BODY_RECORDS}).encode()
    old, new, old_reasons, new_reasons = _azure_both(azure_db, blob, tmp_path)
    _assert_same_azure(old, new)
    assert not old_reasons and not new_reasons
    rows = [new[("azure_activity", i)] for i in range(len(BODY_RECORDS))]
    assert [r["body_field"] for r in rows] == ["requestbody", "responseBody", "requestBody", *["requestbody"] * 6,
                                               "responseBody", None, "requestbody"]
    assert rows[0]["lifecycle_rules"] == [
        {"name": "expire", "enabled": True, "delete_after_modification_days": 30.0,
         "delete_after_creation_days": 400.0, "delete_after_last_access_days": None},
        {"name": "off", "enabled": False, "delete_after_modification_days": None, "delete_after_creation_days": None,
         "delete_after_last_access_days": None},
        {"name": None, "enabled": True, "delete_after_modification_days": None, "delete_after_creation_days": None,
         "delete_after_last_access_days": None}]
    assert rows[1]["lifecycle_rules"] is None and json.loads(rows[1]["body"]) == {
        "properties": {"policy": {"rules": {"name": "one"}}}}
    assert rows[2]["diagnostic_logs"] == [{"category": "AuditEvent", "category_group": None, "enabled": True},
                                          {"category": None, "category_group": "audit", "enabled": False}]
    assert rows[2]["diagnostic_destination"] == "/w/1"
    assert (rows[3]["access_policy_object_ids"], rows[3]["access_policy_key_permissions"]) == (
        ["o-1", "o-2"], ["get", "unwrapKey"])
    assert [rows[4]["cross_region_restore"], rows[5]["cross_region_restore"]] == ["true", "Enabled"]
    assert rows[6]["backup_source_resource_id"] == "/subscriptions/s/x/storageAccounts/A"
    assert (rows[7]["policy_display_name"], rows[7]["policy_exemption_category"], rows[7]["policy_assignment_id"]) == (
        "<script>alert(1)</script>", "Waiver", "/a/1")
    assert (rows[8]["body_location"], rows[8]["body_sku_name"]) == ("East US", "Standard_GRS")
    assert rows[9]["replication_destination_account"] == "/subscriptions/s/d" and rows[9]["dest_resource"] is None
    assert all(v is None for k, v in rows[10].items() if k.startswith(("body", "lifecycle", "diagnostic", "access")))
    assert rows[11]["body_location"] == "westeurope"
    assert (rows[11]["lifecycle_rules"], rows[11]["diagnostic_logs"], rows[11]["access_policy_object_ids"]) == (
        None, None, None)
    assert [r["status_code"] for r in rows] == [BODY_RECORDS[0]["properties"]["statusCode"]] * len(rows)


def test_the_azure_routing_rule_is_one_rule_on_a_record_and_on_a_batch():
    """`route` gives each combination of facts the same table whether it runs on one record (detect_table) or on
    a batch's columns."""
    import itertools

    import pyarrow as pa

    from sovaudit.sources.azure.preparer import _Arrow, route

    combos = list(itertools.product([False, True], [False, True], [None, "Administrative", "AuditEvent", "POLICY"],
                                    [False, True]))
    columns = [pa.array([c[i] for c in combos], pa.string() if i == 2 else pa.bool_()) for i in range(4)]
    assert route(*columns, _Arrow).to_pylist() == [route(*c) for c in combos]
    assert {route(*c) for c in combos} == {"azure_activity", "azure_resource", None}
