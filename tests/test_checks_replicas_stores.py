"""XR-006 (replicas abroad), XR-007 (stores created outside their account's jurisdiction) and IN-008 (guardrails
weakened) on the Acme Retail scenario: what each planted case says, that its twin inside the home stays quiet,
the report's transfers, and the [[accounts]] table."""

import re
from pathlib import Path

import pytest

from sovaudit.checks.catalogue import discover
from sovaudit.checks.runner import run_checks
from sovaudit.checks.session import open_session
from sovaudit.config import LoadedConfig, load_config, parse_config
from sovaudit.demo.scenario import EU_ACCOUNT
from sovaudit.demo.scenario_azure import SUBSCRIPTION
from sovaudit.errors import ConfigError

CHECKS = ["XR-006", "XR-007", "IN-008"]


@pytest.fixture(scope="module")
def results(planted_scenario):
    _, lake, config = planted_scenario
    return {r.check.id: r for r in run_checks(lake, load_config(config), check_ids=CHECKS).results}


def test_xr_006_names_each_replica_abroad_and_not_its_eu_twins(results, planted_scenario):
    _, lake, config = planted_scenario
    table = f"arn:aws:dynamodb:eu-west-1:{EU_ACCOUNT}:table/acme-loyalty-members"
    export = (f"/subscriptions/{SUBSCRIPTION}/resourcegroups/rg-acme-partner-us/providers/microsoft.storage/"
              "storageaccounts/acmeloyaltyexportus")
    found = {(f.resource, f.region, f.region_jurisdiction, f.counterpart_jurisdiction, f.details["dest_region"])
             for f in results["XR-006"].findings}
    assert found == {
        (table, "eu-west-1", "EU", "US", "us-east-1"),
        (f"arn:aws:rds:eu-west-1:{EU_ACCOUNT}:cluster:acme-loyalty-db", "eu-west-1", "EU", "US", "us-east-1"),
        (export, "eastus", "US", "US", "westus"),
    }
    reasons = {f.resource: f.reason for f in results["XR-006"].findings}
    assert reasons[table] == (f"DynamoDB table {table} (class customer-pii, home EU) given the replica "
                              f"arn:aws:dynamodb:us-east-1:{EU_ACCOUNT}:table/acme-loyalty-members in us-east-1 (US), "
                              "by UpdateTable")
    assert reasons[export].endswith("(class customer-pii, home EU) set to Standard_GRS: Azure keeps a geo-redundant "
                                    "copy in westus (US), by MICROSOFT.STORAGE/STORAGEACCOUNTS/WRITE")
    # The twins are replicas too, seen and classed, inside the EU: the eu-central-1 table replica and Aurora
    # secondary, and the loyalty account's RA-GRS copy in West Europe.
    con, _, _ = open_session(lake, load_config(config).config, discover())
    try:
        quiet = con.sql("SELECT kind, replica_region, replica_jurisdiction FROM checks.db_replicas "
                        "WHERE class_name = 'customer-pii' AND replica_jurisdiction = home ORDER BY 1").fetchall()
    finally:
        con.close()
    assert quiet == [("Aurora global database", "eu-central-1", "EU"), ("Azure storage account", "westeurope", "EU"),
                     ("DynamoDB table", "eu-central-1", "EU")]


def test_xr_006_is_quiet_for_a_replica_to_an_allowed_transfer(planted_scenario):
    _, lake, config = planted_scenario
    text = Path(config).read_text().replace('allowed_transfers = [{ to = "UK"', 'allowed_transfers = [{ to = "US"')
    assert 'to = "US"' in text
    run = run_checks(lake, LoadedConfig(config=parse_config(text), path=Path(config)), check_ids=["XR-006"])
    assert run.results[0].status == "PASS", [f.reason for f in run.results[0].findings]


def test_in_008_names_the_policy_and_the_target(results):
    reasons = sorted(f.reason for f in results["IN-008"].findings)
    assert reasons == [
        "region guardrail SCP p-eu0nly5cp1 (acme-deny-outside-eu) detached from OU ou-a1b2-euwrkld1 (eu-workloads) "
        f"by arn:aws:iam::{EU_ACCOUNT}:user/summer-intern from 95.108.128.1",
        "region guardrail policy assignment allowed-locations-eu deleted at "
        f"/subscriptions/{SUBSCRIPTION} by summer-intern@acme-retail.example from 217.0.0.41",
    ]


def test_xr_007_reports_stores_outside_the_account_and_its_allowed_regions(results, planted_scenario):
    _, lake, config = planted_scenario
    found = sorted((f.resource, f.region, f.details["account"]) for f in results["XR-007"].findings)
    assert found == [
        (f"/subscriptions/{SUBSCRIPTION}/resourcegroups/rg-acme-partner-us/providers/microsoft.storage/"
         "storageaccounts/acmescratchus", "eastus", SUBSCRIPTION),
        (f"arn:aws:rds:us-east-1:{EU_ACCOUNT}:cluster:acme-loyalty-db-use1", "us-east-1", EU_ACCOUNT),
        ("arn:aws:s3:::acme-scratch-use1", "us-east-1", EU_ACCOUNT),
    ]
    # An EU region outside allowed_regions is a finding too; without the list, only other jurisdictions are.
    text = Path(config).read_text()
    narrowed = text.replace('allowed_regions = ["eu-west-1", "eu-central-1"]', 'allowed_regions = ["eu-west-1"]')
    widened = text.replace('allowed_regions = ["eu-west-1", "eu-central-1"]\n', "")
    assert narrowed != text and widened != text
    runs = {name: run_checks(lake, LoadedConfig(config=parse_config(t), path=Path(config)), check_ids=["XR-007"])
            for name, t in (("narrowed", narrowed), ("widened", widened))}
    regions = {name: sorted(f.region for f in run.results[0].findings) for name, run in runs.items()}
    assert regions["narrowed"] == ["eastus", "eu-central-1", "us-east-1", "us-east-1"]
    assert regions["widened"] == ["eastus", "us-east-1", "us-east-1"]
    [fra] = [f for f in runs["narrowed"].results[0].findings if f.region == "eu-central-1"]
    assert fra.reason.endswith("but account 111122223333 belongs in EU (allowed regions: eu-west-1)")


def test_xr_007_is_not_assessed_without_accounts(planted_scenario):
    _, lake, config = planted_scenario
    text = re.sub(r"\[\[accounts\]\]\n(?:[a-z_]+ = .*\n)+", "", Path(config).read_text())
    loaded = LoadedConfig(config=parse_config(text), path=Path(config))
    assert not loaded.config.accounts
    [result] = run_checks(lake, loaded, check_ids=["XR-007"]).results
    assert result.status == "NOT_ASSESSED"
    assert "[[accounts]]" in result.status_reason and "jurisdiction" in result.status_reason


def test_the_report_lists_replicas_among_the_observed_transfers(planted_scenario):
    _, lake, config = planted_scenario
    con, _, _ = open_session(lake, load_config(config).config, discover())
    try:
        from sovaudit.resources import query_text

        con.execute("CREATE TEMP VIEW class_events AS " + query_text("report/class_events.sql"))
        rows = con.sql("SELECT class_name, destination, how, event_uid FROM (" + query_text("report/class_flows.sql")  # noqa: S608
                       + ") WHERE starts_with(how, 'replica in ') ORDER BY event_uid").fetchall()
    finally:
        con.close()
    assert rows == [("customer-pii", "US", "replica in us-east-1", "planted-XR-006-01"),
                    ("customer-pii", "US", "replica in us-east-1", "planted-XR-006-02"),
                    ("customer-pii", "US", "replica in westus", "planted-XR-006-az01"),
                    ("customer-pii", "US", "replica in westus", "planted-XR-006-az02")]


def test_accounts_are_normalised_and_unique():
    config = parse_config('[[accounts]]\nid = " 5C1D7E2A-8B3F-4A6C-9D0E-1F2A3B4C5D6E "\njurisdiction = "eu"\n'
                          'allowed_regions = ["North Europe", "westeurope"]\n')
    [account] = config.accounts
    assert (account.id, account.jurisdiction, account.allowed_regions) == (
        "5c1d7e2a-8b3f-4a6c-9d0e-1f2a3b4c5d6e", "EU", ["northeurope", "westeurope"])
    with pytest.raises(ConfigError, match="accounts: ids must be unique"):
        parse_config('[[accounts]]\nid = "1"\njurisdiction = "EU"\n[[accounts]]\nid = "1"\njurisdiction = "US"\n')
    with pytest.raises(ConfigError, match=r"accounts\[0\]\.jurisdiction: missing"):
        parse_config('[[accounts]]\nid = "1"\n')


def test_the_init_templates_accounts_example_is_valid():
    text = (Path(__file__).resolve().parents[1] / "sovaudit" / "init_template.toml").read_text()
    block = text.split("# [[accounts]]", 1)[1].split("\n\n", 1)[0]
    example = "[[accounts]]" + "\n".join(line.removeprefix("# ") for line in block.splitlines())
    [account] = parse_config(example).accounts
    assert account.jurisdiction == "EU" and account.allowed_regions == ["eu-west-1", "eu-central-1"]
