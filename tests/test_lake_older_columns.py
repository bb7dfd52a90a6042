"""A lake pulled before the cloudtrail table had the typed columns the copies, guardrails, replicas, stores and combined
session views read (queries/schema/cloudtrail.sql): its files lack them, and the session still opens, reads them as
NULL, and runs the checks that read them, on both of the lake's connections (DuckDB reading the files, and the
read-only one through Arrow)."""

import shutil
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from conftest import ct_event, write_trail_file

from sovaudit.checks.runner import run_checks
from sovaudit.config import LoadedConfig, parse_config
from sovaudit.lake import Lake
from sovaudit.pull import pull_source
from sovaudit.sources import config_from_flags

ACCOUNT = "111122223333"
# The columns added for those views, in the order the schema declares them.
TYPED = ["copy_call_fields", "bucket_location_constraint", "volume_id", "db_cluster_identifier",
         "db_instance_identifier", "global_cluster_identifier", "source_db_cluster_identifier",
         "replication_source_identifier", "source_db_instance_identifier", "table_name", "global_table_name",
         "replica_regions", "org_policy", "org_unit", "policy_id", "policy_type", "policy_content", "policy_target_id",
         "replication_destinations"]
POLICY = f"""\
[[data_classes]]
name = "db-backups"
home = "EU"
tier = 2
retention_days = 35
resources = ["arn:aws:backup:eu-west-1:{ACCOUNT}:backup-vault:db-*", "arn:aws:dynamodb:eu-west-1:{ACCOUNT}:table/*"]
"""
MANAGEMENT = {"eventCategory": "Management", "managementEvent": True, "readOnly": False,
              "additionalEventData": None, "responseElements": None}
EVENTS = [
    # A plan copying the vault's recovery points to Sydney (EG-005), and a table given a US replica (XR-006).
    ct_event("plan", eventSource="backup.amazonaws.com", eventName="CreateBackupPlan", **MANAGEMENT,
             requestParameters={"backupPlan": {"backupPlanName": "nightly", "rules": [
                 {"ruleName": "away", "targetBackupVaultName": "db-vault", "copyActions": [
                     {"destinationBackupVaultArn": f"arn:aws:backup:ap-southeast-2:{ACCOUNT}:backup-vault:db-syd"}]}]}}),
    ct_event("replica", eventSource="dynamodb.amazonaws.com", eventName="UpdateTable", **MANAGEMENT,
             requestParameters={"tableName": "members", "replicaUpdates": [{"create": {"regionName": "us-east-1"}}]}),
]
CHECKS = ["EG-005", "XR-006"]


def _run(root: Path):
    return run_checks(Lake(root / "lake"), LoadedConfig(config=parse_config(POLICY, root / "sovaudit.toml"),
                                                       path=root / "sovaudit.toml"),
                      check_ids=CHECKS, since="2024-01-01", until="2024-01-03")


def _statuses(root: Path) -> dict[str, tuple[str, list[list[str]]]]:
    return {r.check.id: (r.status, [f.evidence for f in r.findings]) for r in _run(root).results}


@pytest.fixture(scope="module")
def lake_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("older-columns")
    write_trail_file(root / "logs" / "t.json.gz", EVENTS)
    result = pull_source(Lake(root / "lake"), config_from_flags("cloudtrail", path=str(root / "logs")))
    assert result.counts["stored"] == len(EVENTS)
    return root


def test_a_new_lake_fills_the_columns_and_the_checks_find_both(lake_root):
    assert _statuses(lake_root) == {"EG-005": ("FAIL", [["plan"]]), "XR-006": ("FAIL", [["replica"]])}


def test_a_lake_written_without_the_columns_reads_them_as_null(lake_root, tmp_path):
    old = tmp_path / "old"
    (old / "lake").mkdir(parents=True)
    for part in ("ledger.jsonl", "raw"):
        source = lake_root / "lake" / part
        target = old / "lake" / part
        if source.is_dir():
            shutil.copytree(source, target)
        else:
            target.write_bytes(source.read_bytes())
    files = sorted((lake_root / "lake" / "tables" / "cloudtrail").rglob("*.parquet"))
    assert files
    for path in files:
        table = pq.read_table(path)
        assert set(TYPED) <= set(table.column_names)
        target = old / "lake" / path.relative_to(lake_root / "lake")
        target.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(table.drop_columns(TYPED), target)
        assert not set(TYPED) & set(pq.read_schema(target).names)

    lake = Lake(old / "lake")
    with lake.connect() as con:
        any_set = " OR ".join(f"{c} IS NOT NULL" for c in TYPED)  # our own column names
        assert con.sql(f"SELECT count(*) FROM cloudtrail WHERE {any_set}").fetchall() == [(0,)]  # noqa: S608
        assert con.sql("SELECT count(*) FROM cloudtrail").fetchall() == [(len(EVENTS),)]
    declared = {name for name, _ in lake.table_columns()["cloudtrail"]}  # the read-only connection, through Arrow
    assert set(TYPED) <= declared
    assert lake.sql("SELECT count(*) FROM cloudtrail WHERE org_policy IS NULL AND copy_call_fields IS NULL"
                    ).fetchall() == [(len(EVENTS),)]
    # The checks run without an error; the facts those columns held are not in this lake, so nothing is found,
    # and the run says its evidence is partial and why (no data must not read as compliant).
    run = _run(old)
    assert {r.check.id: r.status for r in run.results} == {"EG-005": "PASS", "XR-006": "PASS"}
    assert lake.files_without_columns() == {"cloudtrail": (len(files), len(files), TYPED)}
    assert [r for r in run.partial_reasons if "older sovaudit" in r] == [
        f"{len(files)} of {len(files)} cloudtrail file(s) were written by an older sovaudit, without the column(s) "
        "copy_call_fields, bucket_location_constraint, volume_id, db_cluster_identifier, db_instance_identifier "
        f"and {len(TYPED) - 5} more: there they read as empty, so checks that read them can miss findings (pull "
        "those days again into a new lake to fill them)"]
    assert not [r for r in _run(lake_root).partial_reasons if "older sovaudit" in r]
