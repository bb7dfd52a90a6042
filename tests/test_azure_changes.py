"""checks.azure_changes (queries/session/azure.sql) over real pulls: which record's body judges an operation, from the
typed body columns written at normalize, and a lake pulled before those columns existed, which still opens and is
judged as one whose activity log carries no bodies."""

import json
from datetime import UTC, datetime, timedelta

import pyarrow.parquet as pq
from azure_fixtures import SUBSCRIPTION, activity_rest_event

from sovaudit.checks.catalogue import discover
from sovaudit.checks.runner import run_checks
from sovaudit.checks.session import open_session
from sovaudit.config import LoadedConfig, parse_config
from sovaudit.lake import Lake
from sovaudit.pull import pull_source
from sovaudit.sources import config_from_flags

WHEN = datetime(2026, 9, 1, 12, tzinfo=UTC)
GROUP = f"/subscriptions/{SUBSCRIPTION}/resourceGroups/rg-eu/providers"
POLICY = f"{GROUP}/Microsoft.Storage/storageAccounts/membersneu/managementPolicies/default"
CONFIG = """\
[[data_classes]]
name = "members"
home = "EU"
tier = 1
retention_days = 365
resources = ["/subscriptions/*/resourcegroups/rg-eu/providers/microsoft.storage/storageaccounts/membersneu*"]
"""
BODY_COLUMNS = ("status_code", "body", "body_field", "body_location", "body_sku_name", "lifecycle_rules",
                "diagnostic_logs", "diagnostic_destination", "access_policy_object_ids",
                "access_policy_key_permissions", "cross_region_restore", "backup_source_resource_id",
                "policy_display_name", "policy_exemption_category", "policy_assignment_id",
                "replication_destination_account")


def _record(n: int, operation: str, resource: str, correlation: str, status: str = "Succeeded", **properties) -> dict:
    event = activity_rest_event(WHEN + timedelta(minutes=n), operation, n=n, status=status)
    event.update(resourceId=resource, correlationId=correlation)
    event["authorization"]["scope"] = resource
    event["properties"] = {**event["properties"], **{k: json.dumps(v) for k, v in properties.items()}}
    return event


def _rules(days: int) -> dict:
    return {"properties": {"policy": {"rules": [{"name": "expire", "enabled": True, "definition": {"actions": {
        "baseBlob": {"delete": {"daysAfterModificationGreaterThan": days}}}}}]}}}


def _pulled(tmp_path, records: list[dict]) -> Lake:
    (tmp_path / "az").mkdir()
    (tmp_path / "az" / "activity.json").write_text("\n".join(json.dumps(r) for r in records) + "\n")
    lake = Lake(tmp_path / "lake")
    result = pull_source(lake, config_from_flags("azure", path=str(tmp_path / "az")))
    assert result.counts["stored"] == len(records) and not result.counts["quarantined"], result.counts
    return lake


def _changes(lake: Lake) -> dict[str, tuple]:
    con, _, _ = open_session(lake, parse_config(CONFIG), discover(), since="2026-08-01", until="2026-10-01")
    try:
        rows = con.sql("SELECT correlation, CAST(body AS VARCHAR), body_location, body_sku_name, lifecycle_rules, "
                       "records, evidence FROM checks.azure_changes").fetchall()
    finally:
        con.close()
    return {row[0]: row[1:] for row in rows}


def _rt_003(lake: Lake) -> list[tuple[str, list[str]]]:
    loaded = LoadedConfig(config=parse_config(CONFIG), path=None)
    [result] = run_checks(lake, loaded, check_ids=["RT-003"], since="2026-08-01", until="2026-10-01").results
    assert result.status == "FAIL", result.status_reason
    return sorted((f.reason, f.evidence) for f in result.findings)


ACCOUNT = f"{GROUP}/Microsoft.Storage/storageAccounts/membersneu"
RECORDS = [
    # one operation: the Started record's responseBody loses to the Succeeded record's requestbody
    _record(0, "Microsoft.Storage/storageAccounts/write", ACCOUNT, "op-1", status="Started",
            responseBody={"location": "eastus", "sku": {"name": "Standard_LRS"}}),
    _record(1, "Microsoft.Storage/storageAccounts/write", ACCOUNT, "op-1",
            requestbody={"location": "westeurope", "sku": {"name": "Standard_GRS"}}),
    # two requestbodies: the lesser text judges
    _record(2, "Microsoft.Storage/storageAccounts/write", ACCOUNT, "op-2", requestbody={"sku": {"name": "B"}}),
    _record(3, "Microsoft.Storage/storageAccounts/write", ACCOUNT, "op-2", requestbody={"sku": {"name": "A"}}),
    # lifecycle policies: one that keeps data too long, one without a body
    _record(4, "Microsoft.Storage/storageAccounts/managementPolicies/write", POLICY, "op-3",
            requestbody=_rules(730)),
    _record(5, "Microsoft.Storage/storageAccounts/managementPolicies/write", POLICY, "op-4"),
]


def test_an_operation_is_judged_by_the_body_of_the_first_kind_then_the_least_text(tmp_path):
    lake = _pulled(tmp_path, RECORDS)
    changes = _changes(lake)
    assert changes["op-1"][1:3] == ("westeurope", "Standard_GRS")
    assert json.loads(changes["op-1"][0]) == {"location": "westeurope", "sku": {"name": "Standard_GRS"}}
    assert changes["op-1"][4:] == (2, [RECORDS[0]["eventDataId"], RECORDS[1]["eventDataId"]])
    assert changes["op-2"][0] == '{"sku":{"name":"A"}}' and changes["op-2"][2] == "A"
    assert changes["op-3"][3] == [{"name": "expire", "enabled": True, "delete_after_modification_days": 730.0,
                                   "delete_after_creation_days": None, "delete_after_last_access_days": None}]
    assert changes["op-4"][:4] == (None, None, None, None)
    assert _rt_003(lake) == [
        ("lifecycle management policy deletes blobs after 730 days, longer than the 365 days members data may be kept",
         [RECORDS[4]["eventDataId"]]),
        ("lifecycle management policy written, but the activity log does not carry its rules, so whether members "
         "data is deleted after 365 days cannot be judged from the logs", [RECORDS[5]["eventDataId"]])]


def test_a_lake_pulled_before_the_body_columns_opens_and_reads_as_one_without_bodies(tmp_path):
    lake = _pulled(tmp_path, RECORDS)
    parts = sorted((tmp_path / "lake" / "tables" / "azure_activity").rglob("*.parquet"))
    assert parts
    for part in parts:
        old = pq.read_table(part)
        assert set(BODY_COLUMNS) <= set(old.column_names)
        pq.write_table(old.drop_columns(list(BODY_COLUMNS)), part)
    lake.refresh()
    con = lake.connect()
    try:
        assert con.sql(f"SELECT count(*), {', '.join(f'count({c})' for c in BODY_COLUMNS)} "  # noqa: S608
                       "FROM azure_activity").fetchall() == [(len(RECORDS), *[0] * len(BODY_COLUMNS))]
    finally:
        con.close()
    assert lake.sql("SELECT count(*), count(lifecycle_rules) FROM azure_activity").fetchall() == [(len(RECORDS), 0)]
    changes = _changes(lake)
    assert {c[:4] for c in changes.values()} == {(None, None, None, None)} and len(changes) == 4
    # no body is no verdict of compliance: both writes are reported, as changes that cannot be judged
    assert _rt_003(lake) == [
        ("lifecycle management policy written, but the activity log does not carry its rules, so whether members "
         "data is deleted after 365 days cannot be judged from the logs",
         [RECORDS[4]["eventDataId"], RECORDS[5]["eventDataId"]])]
