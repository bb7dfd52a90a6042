"""The inputs `pull cloudtrail --path` and `pull azure --path` read besides trail files and Azure exports: the output
of `aws cloudtrail lookup-events`, Elasticsearch/OpenSearch exports (raw records in `_source`, or Elastic's ECS
documents with the raw record in `event.original`), and `.log`/`.ndjson` files found by a directory scan; and the keys
the reason of an unreadable record names. Every pull is the CLI in a subprocess, with a bad record between good ones.

The AWS CLI's own example and Elastic's test data are in fixtures/ (aws/lookup-events, elastic). No public export of
raw CloudTrail hits was found, so the Elasticsearch shapes are built here from real records: the Invictus trail
files (fixtures/aws/cloudtrail) and Elastic's documents, wrapped the way Elasticsearch, elasticdump and Kibana
write them."""

import gzip
import hashlib
import json
import shutil
from pathlib import Path
from typing import Any

from azure_fixtures import sample
from conftest import REPO, run_cli, sample_records

from sovaudit import open_lake
from sovaudit.lake import Lake

LOOKUP_EVENTS = REPO / "fixtures" / "aws" / "lookup-events"
CLI_EXAMPLE = LOOKUP_EVENTS / "aws-cli-lookup-events-consolelogin.json"
DOCS_EXAMPLE = LOOKUP_EVENTS / "awsdocs-lookup-events-consolelogin.readable.invalid.json"
ELASTIC = REPO / "fixtures" / "elastic"
ELASTIC_CT_LOG = ELASTIC / "cloudtrail" / "test-copy-object-json-minimal.log"
ELASTIC_CT_DOCS = ELASTIC / "cloudtrail" / "test-copy-object-json-minimal.log-expected.json"
ELASTIC_AZ_LOG = ELASTIC / "azure" / "test-activitylogs-raw.log"
ELASTIC_AZ_DOCS = ELASTIC / "azure" / "test-activitylogs-raw.log-expected.json"

REAL = [record for records in sample_records().values() for record in records]  # 1,817 Invictus records


def pull(verb: str, path: Path, lake: Path) -> tuple[int, dict[str, int]]:
    proc = run_cli("pull", verb, "--path", str(path), "--lake", str(lake), "--format", "json")
    assert "Traceback" not in proc.stderr and proc.returncode in (0, 3), proc.stderr
    counts = json.loads(proc.stdout)[0]["counts"]
    assert counts["read"] == counts["stored"] + counts["duplicate"] + counts["quarantined"], counts
    return proc.returncode, counts


def query(lake: Path, sql: str) -> list[tuple]:
    return open_lake(lake).sql(sql).fetchall()


def quarantined(lake: Path) -> dict[tuple[str, int | None], str]:
    """(file name, record_index) -> reason."""
    return {(Path(origin).name, index): reason
            for origin, index, reason in query(lake, "SELECT origin, record_index, reason FROM quarantine")}


def blob_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def cli_event(record: dict[str, Any]) -> dict[str, Any]:
    """A record as `aws cloudtrail lookup-events` prints it (the fields and order of the CLI's example)."""
    return {"EventId": record["eventID"], "Username": (record.get("userIdentity") or {}).get("userName", ""),
            "EventTime": record["eventTime"], "CloudTrailEvent": json.dumps(record, separators=(",", ":")),
            "EventName": record["eventName"], "Resources": []}


def hit(n: int, source: dict[str, Any], index: str = "cloudtrail-2023.07.10") -> dict[str, Any]:
    return {"_index": index, "_type": "_doc", "_id": f"doc-{n}", "_score": 1.0, "_source": source}


def search_response(hits: list[dict[str, Any]]) -> dict[str, Any]:
    return {"took": 4, "timed_out": False, "_shards": {"total": 1, "successful": 1, "skipped": 0, "failed": 0},
            "hits": {"total": {"value": len(hits), "relation": "eq"}, "max_score": 1.0, "hits": hits}}


# -- the fixtures ---------------------------------------------------------------------------------------------

def test_the_fixtures_are_the_published_files_unchanged():
    for directory in (LOOKUP_EVENTS, ELASTIC):
        sums = dict(line.split()[::-1] for line in (directory / "SHA256SUMS").read_text().splitlines())
        assert sums and {name: blob_of(directory / name) for name in sums} == sums, directory
    # Elastic's documents keep the raw line they were made from, byte for byte.
    for log, docs in ((ELASTIC_CT_LOG, ELASTIC_CT_DOCS), (ELASTIC_AZ_LOG, ELASTIC_AZ_DOCS)):
        first = json.loads(docs.read_text())["expected"][0]
        assert first["event"]["original"] == log.read_text().split("\n")[0]
    # The CLI's example is JSON, its record a JSON string; the guide's "readable" one is not JSON at all.
    [event] = json.loads(CLI_EXAMPLE.read_bytes())["Events"]
    assert json.loads(event["CloudTrailEvent"])["eventID"] == event["EventId"]
    try:
        json.loads(DOCS_EXAMPLE.read_bytes())
        raise AssertionError("the guide's example parses")
    except json.JSONDecodeError:
        pass


# -- aws cloudtrail lookup-events output ----------------------------------------------------------------------

def test_the_aws_cli_example_ingests_its_record_and_the_guides_readable_example_is_one_bad_record(tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    for example in (CLI_EXAMPLE, DOCS_EXAMPLE):
        shutil.copy(example, src)
    code, counts = pull("cloudtrail", src, tmp_path / "lake")
    assert (code, counts) == (3, {"read": 2, "stored": 1, "duplicate": 0, "quarantined": 1})
    [row] = query(tmp_path / "lake", "SELECT event_uid, event_name, actor, src_ip, region, outcome, evidence_blob, "
                                     "evidence_index FROM cloudtrail")
    assert row == ("654ccbc0-ba0d-486a-9076-dbf7274677a7", "ConsoleLogin",
                   "arn:aws:sts::123456789012:assumed-role/my-role/my-session-name", "72.21.198.70", "us-east-1",
                   "success", blob_of(CLI_EXAMPLE), 0)
    [((name, index), reason)] = quarantined(tmp_path / "lake").items()
    assert (name, index) == (DOCS_EXAMPLE.name, 0)
    assert reason.startswith("invalid JSON: Invalid control character at byte offset ")  # a raw newline in a string


def test_lookup_pages_one_after_another_or_one_per_line_ingest_every_event_and_a_bad_one_costs_itself(tmp_path):
    records = REAL[:7]
    events = [cli_event(r) for r in records]
    broken = {"EventId": "broken", "EventName": "GetObject", "CloudTrailEvent": '{"eventVersion": '}
    listed = {"EventId": "listed", "EventName": "GetObject", "CloudTrailEvent": "[1, 2]"}
    # NextToken before Events, as the CloudTrail User Guide prints a page; a token on all but the last.
    pages = [{"NextToken": "token-1", "Events": [*events[:3], broken]},
             {"Events": [*events[3:5], listed, *events[5:]]}]
    src = tmp_path / "in"
    src.mkdir()
    (src / "pages.json").write_text("".join(json.dumps(page, indent=4) + "\n" for page in pages))  # appended outputs
    (src / "pages.ndjson").write_text("".join(json.dumps(page) + "\n" for page in pages))
    lake = tmp_path / "lake"
    code, counts = pull("cloudtrail", src, lake)
    # Each file holds the 7 events and 2 bad ones; the second file's events are the first's again.
    assert (code, counts) == (3, {"read": 18, "stored": 7, "duplicate": 7, "quarantined": 4})
    truncated = "CloudTrailEvent is not valid JSON: Expecting value at character 17 of the string"
    not_object = "CloudTrailEvent holds a JSON array, expected a CloudTrail record (an object)"
    assert quarantined(lake) == {("pages.json", 3): truncated, ("pages.json", 6): not_object,
                                 ("pages.ndjson", 3): truncated, ("pages.ndjson", 6): not_object}
    # A row's evidence_index is its event's place among all the file's events, across pages.
    in_file = [event for page in pages for event in page["Events"]]
    blobs = {blob_of(src / "pages.json"), blob_of(src / "pages.ndjson")}
    rows = query(lake, "SELECT event_uid, event_name, user_agent, evidence_blob, evidence_index FROM cloudtrail")
    assert len(rows) == 7
    by_id = {r["eventID"]: r for r in records}
    for uid, name, agent, blob, index in rows:
        assert blob in blobs and in_file[index]["EventId"] == uid
        assert (name, agent) == (by_id[uid]["eventName"], by_id[uid]["userAgent"])
    assert run_cli("verify", "--lake", str(lake)).returncode == 0


# -- Elasticsearch / OpenSearch exports -----------------------------------------------------------------------

def test_raw_cloudtrail_records_in_elasticsearch_hits_ingest_from_each_export_shape(tmp_path):
    records = REAL[100:107]
    src = tmp_path / "in"
    src.mkdir()
    fields_only = {"_index": "cloudtrail-2023.07.10", "_id": "fields-only", "_score": 1.0,
                   "fields": {"eventName": ["ListBuckets"], "eventID": ["x"]}}
    # The last one indexed lookup-events output: its _source is a lookup event.
    lines = [hit(0, records[0]), fields_only, hit(1, records[1]), hit(2, records[2]), hit(6, cli_event(records[6]))]
    (src / "elasticdump.ndjson").write_text("".join(json.dumps(line) + "\n" for line in lines))
    (src / "search.json").write_text(json.dumps(search_response([hit(3, records[3]), hit(4, records[4])]), indent=2))
    discover = {**hit(5, records[5]), "_version": 1, "fields": {"eventName": [records[5]["eventName"]]}}
    (src / "discover-document.json").write_text(json.dumps(discover, indent=2))  # Kibana's Discover, JSON tab
    lake = tmp_path / "lake"
    code, counts = pull("cloudtrail", src, lake)
    assert (code, counts) == (3, {"read": 8, "stored": 7, "duplicate": 0, "quarantined": 1})
    assert quarantined(lake) == {("elasticdump.ndjson", 1): (
        "an Elasticsearch/OpenSearch hit without a _source object (export the documents with _source); found keys: "
        "_id, _index, _score, fields")}
    rows = query(lake, "SELECT event_uid, evidence_blob, evidence_index, event_name, request_parameters "
                       "FROM cloudtrail")
    where = {uid: (blob, index) for uid, blob, index, _n, _p in rows}
    dump, search, one = (blob_of(src / name) for name in ("elasticdump.ndjson", "search.json",
                                                          "discover-document.json"))
    assert where == {records[0]["eventID"]: (dump, 0), records[1]["eventID"]: (dump, 2),
                     records[2]["eventID"]: (dump, 3), records[3]["eventID"]: (search, 0),
                     records[4]["eventID"]: (search, 1), records[5]["eventID"]: (one, 0),
                     records[6]["eventID"]: (dump, 4)}
    by_id = {r["eventID"]: r for r in records}
    for uid, _b, _i, name, params in rows:
        assert name == by_id[uid]["eventName"]
        assert json.loads(params) == by_id[uid]["requestParameters"]  # the _source itself, not a re-encoding


def test_elastics_ecs_documents_give_the_raw_record_in_event_original_and_the_rest_are_set_aside(tmp_path):
    with_original, no_record = json.loads(ELASTIC_CT_DOCS.read_text())["expected"]
    mapped_only = {**with_original, "event": {k: v for k, v in with_original["event"].items() if k != "original"}}
    not_json = {**with_original, "event": {**with_original["event"], "original": "CopyObject by test@elastic.co"}}
    src = tmp_path / "in"
    src.mkdir()
    index = ".ds-logs-aws.cloudtrail-default-2024.10.08-000001"
    hits = [hit(n, doc, index) for n, doc in enumerate([with_original, no_record, mapped_only, not_json])]
    (src / "ecs-search.json").write_text(json.dumps(search_response(hits), indent=2))
    shutil.copy(ELASTIC_CT_LOG, src)  # the raw line Elastic's document was made from
    lake = tmp_path / "lake"
    code, counts = pull("cloudtrail", src, lake)
    # The record from event.original and the .log's line are one event: stored once.
    assert (code, counts) == (3, {"read": 5, "stored": 1, "duplicate": 1, "quarantined": 3})
    where = "an Elasticsearch/OpenSearch hit whose _source is not a raw CloudTrail record and keeps none in "
    assert quarantined(lake) == {
        ("ecs-search.json", 1): where + "event.original; found keys: @timestamp, cloud, ecs, event, tags",
        ("ecs-search.json", 2): where + "event.original; found keys: @timestamp, actor, aws, cloud, ecs, event, "
                                        "related, service (and 6 more)",
        ("ecs-search.json", 3): "an Elasticsearch/OpenSearch hit whose event.original is not JSON: Expecting value "
                                "at character 0"}
    [row] = query(lake, "SELECT event_uid, event_name, aws_region, src_ip, bytes_out, user_identity_arn "
                        "FROM cloudtrail")
    assert row == ("0c06e2ff-5e88-44e6-a081-57871bbe770b", "CopyObject", "us-east-1", "216.160.83.56", 224,
                   "arn:aws:iam::000000000:user/test@elastic.co")


def test_azure_path_reads_elastics_log_files_and_azure_records_in_elasticsearch_hits(tmp_path):
    [ecs] = json.loads(ELASTIC_AZ_DOCS.read_text())["expected"]
    mapped_only = {**ecs, "event": {k: v for k, v in ecs["event"].items() if k != "original"}}
    key_vault = sample("keyvault-auditevent-vaultget.azure-security-docs.json")["records"][0]
    src = tmp_path / "in"
    (src / "exports").mkdir(parents=True)
    shutil.copy(ELASTIC_AZ_LOG, src)
    index = ".ds-logs-azure.activitylogs-default-2019.10.24-000001"
    lines = [hit(0, ecs, index), hit(1, mapped_only, index), hit(2, key_vault, "azure-keyvault")]
    (src / "exports" / "hits.ndjson").write_text("".join(json.dumps(line) + "\n" for line in lines))
    lake = tmp_path / "lake"
    code, counts = pull("azure", src, lake)
    # The .log's three records, the Key Vault record from its hit, and the ECS document's original, which is the
    # .log's first line again.
    assert (code, counts) == (3, {"read": 6, "stored": 4, "duplicate": 1, "quarantined": 1})
    assert quarantined(lake) == {("hits.ndjson", 1): (
        "an Elasticsearch/OpenSearch hit whose _source is not a raw Azure Monitor record and keeps none in "
        "event.original; found keys: @timestamp, azure, client, cloud, ecs, event, geo, log (and 3 more)")}
    rows = query(lake, "SELECT source, action, src_ip FROM events ORDER BY action")
    assert rows == [("azure_activity", "MICROSOFT.EVENTHUB/NAMESPACES/AUTHORIZATIONRULES/LISTKEYS/ACTION",
                     "81.2.69.144"),
                    ("azure_activity", "Microsoft.Resourcehealth/healthevent/Updated/action", None),
                    ("azure_activity", "Microsoft.Resourcehealth/healthevent/Updated/action", None),
                    ("azure_resource", "VaultGet", key_vault["callerIpAddress"])]


# -- the directory scan ---------------------------------------------------------------------------------------

def test_a_directory_scan_finds_log_and_ndjson_files_plain_or_gzipped(tmp_path):
    src = tmp_path / "in"
    (src / "exports" / "2023").mkdir(parents=True)
    shutil.copy(ELASTIC_CT_LOG, src)
    (src / "exports" / "events.ndjson").write_text("".join(json.dumps(r) + "\n" for r in REAL[200:202]))
    lines = "".join(json.dumps(r, indent=None) + "\n" for r in REAL[200:204])  # the first two again, and two more
    (src / "exports" / "2023" / "events.log.gz").write_bytes(gzip.compress(lines.encode()))
    (src / "exports" / "notes.txt").write_text("not a log\n")
    (src / "README.md").write_text("# not a log either\n")
    lake = tmp_path / "lake"
    code, counts = pull("cloudtrail", src, lake)
    assert (code, counts) == (0, {"read": 7, "stored": 5, "duplicate": 2, "quarantined": 0})
    [entry] = Lake(lake).ledger.entries()
    assert sorted(Path(i["path"]).relative_to(src.resolve()).as_posix() for i in entry["inputs"]) == [
        "exports/2023/events.log.gz", "exports/events.ndjson", "test-copy-object-json-minimal.log"]
    uids = {uid for (uid,) in query(lake, "SELECT event_uid FROM cloudtrail")}
    assert uids == {r["eventID"] for r in REAL[200:204]} | {"0c06e2ff-5e88-44e6-a081-57871bbe770b"}


# -- what an unreadable record's reason says ------------------------------------------------------------------

def test_an_unreadable_cloudtrail_record_is_quarantined_naming_its_keys_sorted_and_cut(tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    (src / "page.json").write_text(json.dumps({"NextToken": "abc", "Events": "none today"}))
    hostile = {"\x1b[31mred": 1, "eventTime": "2023-07-10T11:45:00Z", "k" * 200: 2, "\u00e9": 3, "eventName": "x"}
    many = {f"key{n:02}": n for n in range(12)}
    # A lone surrogate, even in a key, makes the record say nothing certain: the extractor sets it aside for that.
    surrogate = {"\ud800": 3, "eventName": "x"}
    lines = [json.dumps(REAL[300]), json.dumps(hostile), json.dumps(many), json.dumps(REAL[301]), json.dumps(surrogate)]
    (src / "odd.ndjson").write_text("\n".join(lines) + "\n")
    lake = tmp_path / "lake"
    code, counts = pull("cloudtrail", src, lake)
    assert (code, counts) == (3, {"read": 6, "stored": 2, "duplicate": 0, "quarantined": 4})
    offset = len("\n".join(lines[:4])) + 1 + len('{"')
    assert quarantined(lake) == {
        ("page.json", 0): "no eventID; found keys: Events, NextToken",
        ("odd.ndjson", 1): "no eventID; found keys: \x1b[31mred, eventName, eventTime, " + "k" * 63 + "…, \u00e9",
        ("odd.ndjson", 2): "no eventID; found keys: key00, key01, key02, key03, key04, key05, key06, key07 "
                           "(and 4 more)",
        ("odd.ndjson", 4): f"a lone surrogate escape \\ud800 at byte offset {offset}"}
    # Shown to a person, the control character is its escape form, never obeyed.
    shown = run_cli("sql", "SELECT reason FROM quarantine WHERE reason LIKE '%red%'", "--lake", str(lake))
    assert shown.returncode == 0 and "\x1b" not in shown.stdout and "\\x1b[31mred" in shown.stdout


def test_an_object_that_is_no_azure_record_is_quarantined_naming_its_keys_sorted(tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    good = sample("keyvault-auditevent-vaultget.azure-security-docs.json")["records"][0]
    (src / "mixed.ndjson").write_text(json.dumps(good) + "\n" + json.dumps({"value": 3, "Events": []}) + "\n")
    code, counts = pull("azure", src, tmp_path / "lake")
    assert (code, counts) == (3, {"read": 2, "stored": 1, "duplicate": 0, "quarantined": 1})
    [reason] = quarantined(tmp_path / "lake").values()
    assert reason.endswith("(resource-log shape); found keys: Events, value")


def test_shapes_mixed_line_by_line_keep_every_record_at_a_position_of_its_own(tmp_path):
    a, b, c, d, e = REAL[400:405]
    lines = [json.dumps(a), json.dumps(hit(0, b)), json.dumps({"Events": [cli_event(c), cli_event(d)]}),
             "{not json", json.dumps(e)]
    src = tmp_path / "in"
    src.mkdir()
    (src / "mixed.log").write_text("\n".join(lines) + "\n")
    lake = tmp_path / "lake"
    code, counts = pull("cloudtrail", src, lake)
    assert (code, counts) == (3, {"read": 6, "stored": 5, "duplicate": 0, "quarantined": 1})
    # The page's two events take positions 2 and 3, so the lines after it move up by one.
    assert quarantined(lake) == {("mixed.log", 4): "invalid JSON on line 4: Expecting property name enclosed in "
                                                   "double quotes"}
    positions = dict(query(lake, "SELECT event_uid, evidence_index FROM cloudtrail"))
    assert positions == {a["eventID"]: 0, b["eventID"]: 1, c["eventID"]: 2, d["eventID"]: 3, e["eventID"]: 5}
