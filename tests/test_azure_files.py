"""Azure Monitor logs from local files: the published samples, every wrapper, schema detection and the
mapping of each record shape onto the common columns."""

import gzip
import hashlib
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from azure_fixtures import (
    AZURE_SAMPLES,
    KEY_VAULT_ID,
    SUBSCRIPTION,
    TENANT,
    activity_rest_event,
    json_lines,
    keyvault_record,
    sample,
    storage_record,
)
from conftest import assert_counts_add_up, run_cli, write_trail_file

from sovaudit import open_lake
from sovaudit.config import parse_config
from sovaudit.errors import ConfigError
from sovaudit.lake import Lake
from sovaudit.pull import pull_source
from sovaudit.schema import COMMON_COLUMNS
from sovaudit.sources import config_from_flags

WHEN = datetime(2026, 3, 2, 9, 15, tzinfo=UTC)


def pull_path(lake_dir: Path, path: Path | str, **locations: str):
    spec = config_from_flags("azure", path=str(path), locations=dict(locations))
    return pull_source(Lake(lake_dir), spec)


def rows_by_uid(lake_dir: Path, table: str = "events") -> dict[str, dict]:
    rel = open_lake(lake_dir).sql(f"SELECT * FROM {table}")  # noqa: S608 (a test's own table name)
    return {row["event_uid"]: row for row in (dict(zip(rel.columns, t, strict=True)) for t in rel.fetchall())}


def test_every_published_sample_ingests_and_the_invalid_fragment_is_quarantined(lake_dir):
    result = pull_path(lake_dir, AZURE_SAMPLES)
    assert result.counts == {"read": 7, "stored": 6, "duplicate": 0, "quarantined": 1}
    assert result.exit_code == 3  # the evidence is partial: the invalid fragment is not a record
    lake = open_lake(lake_dir)
    quarantined = dict(lake.sql("SELECT regexp_extract(origin, '[^/]+$'), reason FROM quarantine").fetchall())
    invalid = quarantined.pop("storage-resourcelog-identity-fragment.invalid.json")
    assert invalid.startswith("invalid JSON: ") and "line 25 column 1" in invalid
    assert "the document is one record that cannot be read" in invalid
    assert quarantined == {}

    stored = dict(lake.sql("SELECT evidence_blob, source FROM events").fetchall())
    by_file = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in AZURE_SAMPLES.glob("*.json")}
    assert stored == {
        by_file["activity-log-rest-administrative.json"]: "azure_activity",
        by_file["activity-log-storage-eventhub-records.json"]: "azure_activity",
        by_file["keyvault-auditevent-vaultget.azure-docs-2020.json"]: "azure_resource",
        by_file["keyvault-auditevent-vaultget.azure-security-docs.json"]: "azure_resource",
        by_file["storage-resourcelog-operation-fields-putblob.json"]: "azure_resource",
        by_file["storage-resourcelog-properties-fragment.json"]: "azure_resource",
    }
    # The properties fragment has no time and no resource id: stored with a NULL time (outside every check
    # window), its request URL as the resource, its response size and user agent kept.
    [fragment] = lake.sql("SELECT time, resource, user_agent, event_uid FROM events WHERE time IS NULL").fetchall()
    assert fragment[1] == "https://testaccount1.blob.core.windows.net:443/upload"
    assert fragment[2].startswith("Mozilla/5.0") and fragment[3].startswith("sha256:")
    again = pull_path(lake_dir, AZURE_SAMPLES)
    assert again.counts["stored"] == 0
    assert [tuple(r[:2]) for r in lake.sql("DESCRIBE events").fetchall()] == list(COMMON_COLUMNS)


def test_the_fixtures_are_the_published_samples_unchanged():
    """fixtures/azure/SHA256SUMS was taken from ../shared/samples/azure when the samples were copied."""
    import hashlib

    sums = dict(line.split()[::-1] for line in (AZURE_SAMPLES / "SHA256SUMS").read_text().splitlines())
    copied = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in AZURE_SAMPLES.iterdir()
              if p.name not in ("SOURCES.md", "LICENSE-NOTICE.md", "SHA256SUMS")}
    assert copied == sums and len(sums) == 7
    shared = Path(__file__).resolve().parents[2] / "shared" / "samples" / "azure"
    if shared.is_dir():  # beside a working copy: the originals too
        assert {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in shared.glob("*.json")} == sums


def test_sample_records_map_onto_the_common_columns(lake_dir):
    pull_path(lake_dir, AZURE_SAMPLES, **{"/subscriptions/*/resourcegroups/contosogroup/*": "West Europe"})
    rows = rows_by_uid(lake_dir)
    rest = rows["aaaa0a0a-bb1b-cc2c-dd3d-eeeeee4e4e4e"]  # eventDataId
    assert (rest["source"], rest["action"], rest["action_class"], rest["outcome"], rest["service"]) == (
        "azure_activity", "Microsoft.Network/networkSecurityGroups/write", "config", "success", "Microsoft.Network")
    assert (rest["actor"], rest["actor_account"], rest["src_ip"]) == (
        "rob@contoso.com", "aaaabbbb-0000-cccc-1111-dddd2222eeee", "111.111.1.111")
    assert str(rest["time"]).startswith("2018-01-29 20:42:31.381067")

    by_action = {r["action"]: r for r in rows.values()}
    support = by_action["microsoft.support/supporttickets/write"]  # activity log in the resource-log shape
    assert support["source"] == "azure_activity" and support["actor"] == "admin@contoso.com"
    assert support["account"] == "s1" and support["region"] is None  # location "global" says nothing
    assert support["event_uid"].startswith("sha256:")

    put = by_action["PutBlob"]
    assert (put["source"], put["action_class"], put["service"], put["region"]) == (
        "azure_resource", "write", "Microsoft.Storage", "uswestcentral")
    assert put["src_ip"] == "192.168.0.1"  # "192.168.0.1:11111", port stripped
    assert put["resource"].endswith("/storageaccounts/testaccount1/blobservices/default/containers/cont1/blobs/blobname")

    vaults = [r for r in rows.values() if r["action"] == "VaultGet"]
    assert len(vaults) == 2 and {v["action_class"] for v in vaults} == {"read"}
    # Key Vault records carry no location: the config's `locations` gives it, and says so by being the only source.
    assert {v["region"] for v in vaults} == {"westeurope"}
    assert {v["actor"] for v in vaults} == {"live.com#username@outlook.com"}
    assert {v["user_agent"] for v in vaults} == {"azure-resource-manager/2.0"}


def test_the_documented_storage_record_assembled_from_its_three_fragments_ingests_whole(lake_dir, tmp_path):
    record = sample("storage-resourcelog-operation-fields-putblob.json")
    record.update(sample("storage-resourcelog-properties-fragment.json"))
    invalid = (AZURE_SAMPLES / "storage-resourcelog-identity-fragment.invalid.json").read_text()
    record.update(json.loads(invalid.replace("},\n}", "}\n}")))  # the published trailing comma, removed
    record["operationName"], record["category"] = "GetBlob", "StorageRead"
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "assembled.json").write_text(json.dumps(record, indent=2))
    assert pull_path(lake_dir, tmp_path / "in").counts["stored"] == 1
    [row] = rows_by_uid(lake_dir).values()
    assert row["bytes_out"] == 2018  # properties.responseBodySize of a GetBlob
    assert row["actor"] == "fde5ba15-4355-4223-b811-cccccccccccc"  # identity.requester.objectId (no upn)
    assert row["actor_account"] == "72f988bf-86f1-41af-91ab-dddddddddddd"
    assert row["user_agent"].startswith("Mozilla/5.0") and row["action_class"] == "read"


def test_json_lines_records_and_rest_value_wrappers_and_gzip_are_all_read(lake_dir, tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    events = [activity_rest_event(WHEN + timedelta(minutes=n), n=n) for n in range(3)]
    (src / "page.json").write_text(json.dumps({"value": events[:2], "nextLink": "https://management.azure.com/x"}))
    (src / "export.json").write_text(json.dumps({"records": [keyvault_record(WHEN, "KeyDecrypt")]}))
    (src / "PT1H.json").write_bytes(json_lines([storage_record(WHEN, "GetBlob"), events[2]]))
    (src / "old.json.gz").write_bytes(gzip.compress(json_lines([keyvault_record(WHEN, "KeyWrap")])))
    result = pull_path(lake_dir, src)
    assert result.counts == {"read": 6, "stored": 6, "duplicate": 0, "quarantined": 0}
    tables = dict(open_lake(lake_dir).sql("SELECT action, source FROM events").fetchall())
    assert tables == {"Microsoft.Network/networkSecurityGroups/write": "azure_activity", "KeyDecrypt": "azure_resource",
                      "GetBlob": "azure_resource", "KeyWrap": "azure_resource"}
    # In a JSON-lines blob a record's position is its line; in a wrapper, its place in the list.
    lake = open_lake(lake_dir)
    for uid, blob, index in lake.sql("SELECT event_uid, evidence_blob, evidence_index FROM events").fetchall():
        data = lake.archive.read(blob)
        data = gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data
        lines = data.splitlines()
        if len(lines) > 1 and all(line.startswith(b"{") for line in lines):
            record = json.loads(lines[index])
        else:
            document = json.loads(data)
            record = (document.get("value") or document.get("records") or [document])[index]
        compact = json.dumps(record, separators=(",", ":")).encode()
        assert uid == (record.get("eventDataId") or "sha256:" + hashlib.sha256(compact).hexdigest())


def test_key_operations_copies_failures_and_addresses_follow_the_mapping_rules(lake_dir, tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    records = [
        keyvault_record(WHEN, "KeyDecrypt", ip="[2001:db8::7]:443"),
        keyvault_record(WHEN, "KeyUnwrap", upn=None, status=403),
        keyvault_record(WHEN, "KeyDelete"),
        keyvault_record(WHEN, "VaultPatch"),
        keyvault_record(WHEN, "SecretGet", location=None),
        storage_record(WHEN, "GetBlob", size=7340032, ip="3.5.140.2:50112"),
        storage_record(WHEN, "ListBlobs", size=2018),
        storage_record(WHEN, "CopyBlob", blob="replica/customers.csv", category="StorageWrite",
                       source_uri="https://customersweu.blob.core.windows.net/exports/customers.csv?sv=2021&sig=XXXXX"),
        storage_record(WHEN, "DeleteBlob", category="StorageDelete", status=404, status_text="BlobNotFound"),
        storage_record(WHEN, "SetBlobServiceProperties", category="StorageWrite"),
    ]
    (src / "PT1H.json").write_bytes(json_lines(records))
    # The record's own location wins; the config's globs (first match) only fill a gap.
    result = pull_path(lake_dir, src, **{"/subscriptions/*/resourcegroups/rg-us/*": "eastus", "*": "Sweden Central"})
    assert result.counts["stored"] == len(records)
    rows = sorted(rows_by_uid(lake_dir).values(), key=lambda r: r["evidence_index"])

    decrypt, unwrap, delete, patch, secret, get, listing, copy, missing, props = rows
    key_uri = "https://kv-customers-weu.vault.azure.net/keys/customer-master/0f6a1c2b3d4e5f60718293a4b5c6d7e8"
    assert (decrypt["action_class"], decrypt["key_id"], decrypt["src_ip"]) == ("key_use", key_uri, "2001:db8::7")
    assert decrypt["resource"] == KEY_VAULT_ID.lower() and decrypt["service"] == "Microsoft.KeyVault"
    assert (decrypt["account"], decrypt["region"], decrypt["actor"], decrypt["actor_account"]) == (
        SUBSCRIPTION, "westeurope", "auditor@contoso.eu", TENANT)
    assert unwrap["action_class"] == "key_use" and unwrap["actor"] == "d9da5048-2737-4770-bd64-6f2a0c1e7b01"
    assert (unwrap["outcome"], unwrap["error_code"]) == ("failure", "Forbidden")
    assert delete["action_class"] == "delete" and delete["key_id"] == key_uri
    assert patch["action_class"] == "config" and patch["key_id"] is None
    assert secret["action_class"] == "read" and secret["region"] == "swedencentral"  # from the config's "*"
    assert (get["bytes_out"], get["src_ip"], get["src_country"], get["actor"]) == (7340032, "3.5.140.2", "US",
                                                                                 "analyst@contoso.us")
    assert listing["bytes_out"] is None and listing["action_class"] == "read"
    assert copy["resource"] == "https://customersweu.blob.core.windows.net/exports/customers.csv"
    assert copy["dest_resource"].endswith("/storageaccounts/customersneu/blobservices/default/containers/replica"
                                          "/blobs/customers.csv")
    assert (copy["dest_region"], copy["action_class"]) == ("northeurope", "write")
    assert (missing["action_class"], missing["outcome"], missing["error_code"]) == ("delete", "failure", "BlobNotFound")
    assert props["action_class"] == "config"


def test_event_uid_is_event_data_id_or_id_else_a_stable_hash_of_the_record(lake_dir, tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    with_id = {k: v for k, v in activity_rest_event(WHEN, n=1).items() if k != "eventDataId"}
    hashed = keyvault_record(WHEN, "KeyDecrypt")
    (src / "a.json").write_bytes(json_lines([with_id, hashed]))
    pull_path(lake_dir, src)
    uids = set(rows_by_uid(lake_dir))
    assert with_id["id"] in uids
    [digest] = [u for u in uids if u.startswith("sha256:")]
    # The same record again, pretty-printed (other bytes, another blob): the same uid, so a duplicate.
    (src / "b.json").write_text(json.dumps(hashed, indent=4))
    again = pull_path(lake_dir, src / "b.json")
    assert again.counts == {"read": 1, "stored": 0, "duplicate": 1, "quarantined": 0}
    assert digest == "sha256:" + hashlib.sha256(json.dumps(hashed, separators=(",", ":")).encode()).hexdigest()


def test_bad_input_is_quarantined_with_reasons_and_the_cli_exits_3(lake_dir, tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    whole = gzip.compress(json_lines([keyvault_record(WHEN, "KeyDecrypt")]))
    (src / "cut.json.gz").write_bytes(whole[: len(whole) // 2])
    (src / "lines.json").write_bytes(json_lines([keyvault_record(WHEN, "KeySign")]) + b'{"time": "2026-03-02T09:00:00Z",\n'
                                     + json_lines([{**keyvault_record(WHEN, "KeyVerify"), "time": "half past nine"}]))
    write_trail_file(src / "cloudtrail.json.gz", [{"eventID": "e1", "eventTime": "2024-01-01T00:00:00Z"}])
    proc = run_cli("pull", "azure", "--path", str(src), "--lake", str(lake_dir), "--format", "json")
    assert proc.returncode == 3, proc.stderr
    [report] = json.loads(proc.stdout)
    assert report["counts"] == {"read": 5, "stored": 1, "duplicate": 0, "quarantined": 4}
    reasons = sorted(r for (r,) in open_lake(lake_dir).sql("SELECT reason FROM quarantine").fetchall())
    # The native extractor's words: where the line broke, as a byte offset in the file.
    assert reasons[0] == ("invalid JSON on line 2: expected a member name in double quotes, found the end of the "
                          "data at byte offset 1127")
    assert reasons[1].startswith("not an Azure Monitor record") and "eventID, eventTime" in reasons[1]
    assert reasons[2] == "time is not a timestamp: half past nine"
    assert reasons[3].startswith("truncated or corrupt gzip")


def test_fields_of_an_unexpected_type_still_load(lake_dir, tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    odd = {**keyvault_record(WHEN, "KeyDecrypt"), "durationMs": {"p50": 3}, "location": ["westeurope"],
           "callerIpAddress": 42, "properties": "not an object"}
    (src / "odd.json").write_bytes(json_lines([odd]))
    assert pull_path(lake_dir, src).counts["stored"] == 1
    row = open_lake(lake_dir).sql("SELECT duration_ms, location, src_ip, key_id, properties FROM azure_resource").fetchall()
    assert row == [(None, '["westeurope"]', None, None, '"not an object"')]


def test_re_pulling_adds_nothing_and_the_cli_shows_progress(lake_dir):
    first = run_cli("pull", "azure", "--path", str(AZURE_SAMPLES), "--lake", str(lake_dir))
    assert first.returncode == 3 and "7 objects" in first.stderr and "7 events" in first.stderr
    assert "1 record(s) quarantined" in first.stdout
    again = pull_path(lake_dir, AZURE_SAMPLES)
    assert again.counts == {"read": 0, "stored": 0, "duplicate": 0, "quarantined": 0}
    assert again.entry["blobs"]["blobs_skipped"] == 7
    assert_counts_add_up(again)


def test_sources_in_the_config_are_pulled_by_plain_pull(lake_dir, tmp_path):
    trail = write_trail_file(tmp_path / "ct" / "a.json.gz", [{"eventID": "ct-1", "eventTime": "2024-01-02T10:00:00Z",
                                                              "eventName": "GetObject", "awsRegion": "eu-west-1"}])
    config = tmp_path / "sovaudit.toml"
    config.write_text(f'''
[[sources]]
name = "trail"
type = "cloudtrail"
path = "{trail.parent}"

[[sources]]
name = "azure-exports"
type = "azure"
path = "{AZURE_SAMPLES}"
locations = {{ "/subscriptions/*/resourcegroups/contosogroup/*" = "westeurope" }}
''')
    proc = run_cli("pull", "--config", str(config), "--lake", str(lake_dir), "--format", "json")
    assert proc.returncode == 3, proc.stderr  # the samples hold the invalid fragment, which is quarantined
    report = {r["source"]: r["counts"] for r in json.loads(proc.stdout)}
    assert report == {"trail": {"read": 1, "stored": 1, "duplicate": 0, "quarantined": 0},
                      "azure-exports": {"read": 7, "stored": 6, "duplicate": 0, "quarantined": 1}}
    counts = dict(open_lake(lake_dir).sql("SELECT source, count(*) FROM events GROUP BY 1").fetchall())
    assert counts == {"cloudtrail": 1, "azure_activity": 2, "azure_resource": 4}


@pytest.mark.parametrize(("entry", "message"), [
    ('type = "azure-activity"\nsubscription = "prod"',
     "sources[0].subscription: found 'prod', expected an Azure subscription id, a GUID"),
    ('type = "azure-storage"\naccount_url = "https://x.blob.core.windows.net"\n'
     'connection_string_env = "DefaultEndpointsProtocol=https;AccountKey=c2VjcmV0"',
     "sources[0].connection_string_env: found a value (not shown: it may hold a secret), expected the name of an "
     "environment variable"),
    ('type = "azure-storage"\naccount_url = "blob.core.windows.net"', "sources[0].account_url: found a value"),
    ('type = "azure"', "sources[0].path: missing, expected a value"),
    ('type = "azure"\npath = "x"\nregion = "westeurope"', "sources[0].region: unknown key 'region'; expected one of: name, since, until, locations, type, path"),
    ('type = "azure-logs"', "sources[0].type: found 'azure-logs', expected one of: cloudtrail, azure-activity, "
                            "azure-storage, azure"),
])
def test_azure_source_config_errors_are_one_line_each(entry, message):
    with pytest.raises(ConfigError) as caught:
        parse_config(f'[[sources]]\nname = "s"\n{entry}\n', "sovaudit.toml")
    text = str(caught.value)
    assert len(text.splitlines()) == 1 and text.startswith("sovaudit.toml: ") and message in text, text
    assert "c2VjcmV0" not in text


def test_the_init_template_shows_every_azure_source_type_and_each_example_is_valid(tmp_path):
    proc = run_cli("init", str(tmp_path / "sovaudit.toml"))
    assert proc.returncode == 0
    text = (tmp_path / "sovaudit.toml").read_text()
    assert "azure-storage" in {s.type for s in parse_config(text, "sovaudit.toml").sources}
    commented = [block for block in text.split("\n\n") if block.startswith("# [[sources]]")]
    examples = ["\n".join(line.removeprefix("# ") for line in block.splitlines()) for block in commented]
    types = {s.type for example in examples for s in parse_config(example, "template example").sources}
    assert types == {"cloudtrail", "azure-activity", "azure"}
