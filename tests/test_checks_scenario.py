"""Every built-in check against the Acme Retail scenario: it fires on its planted case, citing the planted
event ids; it stays silent on clean traffic (with an allowed transfer in it); it says NOT_ASSESSED when its
data, policy or baseline is missing."""

from pathlib import Path

import pytest

from sovaudit.checks.catalogue import discover
from sovaudit.checks.runner import run_checks
from sovaudit.checks.session import open_session, view_name
from sovaudit.config import load_config, parse_config

CATALOGUE = discover()
CHECK_IDS = [c.id for c in CATALOGUE]
BY_ID = {c.id: c for c in CATALOGUE}


@pytest.fixture(scope="module")
def planted_run(planted_scenario):
    _, lake, config = planted_scenario
    run = run_checks(lake, load_config(config))
    return {r.check.id: r for r in run.results}


@pytest.fixture(scope="module")
def full_evidence(planted_scenario):
    """Each check's complete evidence lists, read back through SQL (the JSON keeps at most 50)."""
    _, lake, config = planted_scenario
    con, _, broken = open_session(lake, load_config(config).config, CATALOGUE)
    assert not broken
    try:
        query = 'SELECT evidence FROM checks."{}"'  # noqa: S608 (check ids from our catalogue)
        return {c.id: [set(row[0]) for row in con.sql(query.format(view_name(c))).fetchall()] for c in CATALOGUE}
    finally:
        con.close()


@pytest.fixture(scope="module")
def clean_run(clean_scenario):
    _, lake, config = clean_scenario
    run = run_checks(lake, load_config(config))
    return {r.check.id: r for r in run.results}


def test_the_scenario_plants_a_case_for_every_check(planted_scenario):
    scenario, _, _ = planted_scenario
    assert set(scenario.expected) == set(CHECK_IDS)


@pytest.mark.parametrize("check_id", CHECK_IDS)
def test_fires_on_its_planted_case(check_id, planted_run, full_evidence, planted_scenario):
    scenario, _, _ = planted_scenario
    result = planted_run[check_id]
    assert result.status == "FAIL", result.status_reason
    cited = set().union(*full_evidence[check_id])
    assert scenario.expected[check_id] <= cited
    for finding in result.findings:
        assert finding.reason and finding.first_seen is not None
        assert len(finding.evidence) == min(finding.evidence_total, 50)


def test_evidence_is_ordered_by_time(planted_run, planted_scenario):
    scenario, _, _ = planted_scenario
    when = {uid: (time, uid) for uid, time in scenario.event_times().items()}
    for result in planted_run.values():
        for finding in result.findings:
            times = [when[uid] for uid in finding.evidence]
            assert times == sorted(times), (result.check.id, finding.evidence)


@pytest.mark.parametrize("check_id", CHECK_IDS)
def test_every_finding_comes_from_a_planted_case(check_id, full_evidence, planted_scenario):
    """Clean traffic around the planted cases yields no finding of its own."""
    scenario, _, _ = planted_scenario
    for evidence in full_evidence[check_id]:
        assert evidence & scenario.expected[check_id], evidence


@pytest.mark.parametrize("check_id", CHECK_IDS)
def test_silent_on_clean_traffic(check_id, clean_run):
    result = clean_run[check_id]
    assert result.status == "PASS", (result.status_reason, [f.reason for f in result.findings])
    # The reason names every source the check judged, with its count.
    for source in BY_ID[check_id].requires:
        assert f" {source} events" in result.status_reason, result.status_reason


def test_clean_traffic_holds_the_allowed_uk_transfer(clean_scenario):
    """The UK support copies and topic reads would be findings without the class's allowed transfer: it is
    what keeps XR-001, EG-002 and XR-004 quiet, not an absence of cross-border traffic."""
    _, lake, config = clean_scenario
    text = "\n".join(line for line in Path(config).read_text().splitlines()
                     if not line.startswith("allowed_transfers"))
    run = run_checks(lake, _loaded(text, config), check_ids=["XR-001", "EG-002", "XR-002", "XR-004"])
    statuses = {r.check.id: r for r in run.results}
    assert statuses["EG-002"].status == "FAIL"
    assert "eu-west-2" in statuses["XR-001"].findings[0].reason
    assert {f.region for f in statuses["EG-002"].findings} == {"eu-west-2"}
    assert statuses["XR-002"].status == "FAIL"
    assert {f.details["src_country"] for f in statuses["XR-002"].findings} == {"GB"}
    assert [(f.actor, f.details["src_country"]) for f in statuses["XR-004"].findings] == [
        ("User:uk-support-agent", "GB")]


def test_a_classed_secret_read_from_its_replica_abroad_fires_xr_001_and_its_home_twin_does_not(
        planted_run, planted_scenario):
    """GetSecretValue names the loyalty database's secret: by name every morning in eu-west-1, by the ARN of its
    replica once from us-east-1. Both are classed (the class's secretsmanager pattern); only the read abroad is a
    finding."""
    from sovaudit.demo.scenario import EU_ACCOUNT, LOYALTY_SECRET, LOYALTY_SECRET_REPLICA

    scenario, lake, config = planted_scenario
    home = f"arn:aws:secretsmanager:eu-west-1:{EU_ACCOUNT}:secret:{LOYALTY_SECRET}"
    [abroad] = [e["eventID"] for e in scenario.events
                if e["eventName"] == "GetSecretValue" and e["awsRegion"] == "us-east-1"]
    reads = lake.sql("SELECT resource, region, count(*) FROM cloudtrail WHERE event_name = 'GetSecretValue' "
                     "GROUP BY ALL ORDER BY 2").fetchall()
    # 60 mornings, less the one inside IN-003's planted silent hours.
    assert reads == [(home, "eu-west-1", 59), (LOYALTY_SECRET_REPLICA, "us-east-1", 1)]
    secret = [f for f in planted_run["XR-001"].findings if ":secretsmanager:" in f.resource]
    assert [(f.resource, f.region, f.region_jurisdiction, f.evidence) for f in secret] == [
        (LOYALTY_SECRET_REPLICA, "us-east-1", "US", [abroad])]
    assert abroad in scenario.expected["XR-001"]
    assert secret[0].details["data_class"] == "customer-pii"
    con, _, _ = open_session(lake, load_config(config).config, CATALOGUE)
    try:
        classed = con.sql("SELECT resource, class_name FROM checks.resource_class WHERE resource LIKE '%:secret:%' "
                          "ORDER BY 1").fetchall()
    finally:
        con.close()
    assert classed == [(home, "customer-pii"), (LOYALTY_SECRET_REPLICA, "customer-pii")]


def _loaded(text: str, path):
    from sovaudit.config import LoadedConfig

    return LoadedConfig(config=parse_config(text, path), path=Path(path))


@pytest.fixture(scope="module")
def empty_window_run(planted_scenario):
    _, lake, config = planted_scenario
    return run_checks(lake, load_config(config), since="2020-01-01", until="2020-02-01")


@pytest.mark.parametrize("check_id", CHECK_IDS)
def test_not_assessed_when_its_source_has_no_events_in_the_window(check_id, empty_window_run):
    result = next(r for r in empty_window_run.results if r.check.id == check_id)
    check = BY_ID[check_id]
    assert result.status == "NOT_ASSESSED" and not result.out_of_scope
    # Every source was pulled, but the ledger shows none collected for 2020: not collected, not quiet.
    sources = list(check.requires)
    named = sources[0] if len(sources) == 1 else (", ".join(sources[:-1]) + (" or " if check.requires_any else " and ")
                                                  + sources[-1])
    assert result.status_reason == (f"not collected: no {named} pull covers the window 2020-01-01T00:00:00Z – "
                                    "2020-02-01T00:00:00Z; pull "
                                    + ("one of those sources" if check.requires_any else "that source")
                                    + " for the window first")
    assert empty_window_run.exit_code() == 3  # pulled sources not collected for the window: the evidence is partial
    assert empty_window_run.coverage == [{"source": s, "events": 0, "first": None, "last": None, "collected": []}
                                         for s in ("azure_activity", "azure_resource", "cloudtrail", "kafka_audit",
                                                   "kafka_lineage", "kafka_topics")]


POLICY_CHECKS = [c.id for c in CATALOGUE if c.policy]
BASELINE_CHECKS = [c.id for c in CATALOGUE if c.baseline]


@pytest.fixture(scope="module")
def no_policy_run(planted_scenario):
    _, lake, config = planted_scenario
    return {r.check.id: r for r in run_checks(lake, _loaded("[thresholds]\nbaseline_days = 30\n", config)).results}


@pytest.mark.parametrize("check_id", POLICY_CHECKS)
def test_not_assessed_without_data_classes(check_id, no_policy_run):
    assert no_policy_run[check_id].status == "NOT_ASSESSED"
    assert no_policy_run[check_id].status_reason.startswith("policy missing: no ")


def test_checks_that_need_no_policy_still_run_without_data_classes(no_policy_run):
    for check_id in ("IN-001", "IN-002", "IN-003", "IN-004", "IN-005", "IN-007", "KU-005"):
        assert no_policy_run[check_id].status == "FAIL"


def test_not_assessed_when_class_patterns_match_nothing(planted_scenario):
    _, lake, config = planted_scenario
    text = (Path(config).read_text().replace("arn:aws:s3:::acme-", "arn:aws:s3:::typo-acme-")
            .replace(":secret:acme-", ":secret:typo-acme-")
            .replace(":table/acme-", ":table/typo-acme-").replace(":cluster:acme-", ":cluster:typo-acme-")
            .replace("storageaccounts/acmeloyalty", "storageaccounts/typo-acmeloyalty")
            .replace("https://acmeloyalty", "https://typo-acmeloyalty")
            .replace("backup-vault:acme-", "backup-vault:typo-acme-").replace("::snapshot/*", "::snapshot/typo-*")
            .replace(":snapshot:acme-", ":snapshot:typo-acme-"))
    run = run_checks(lake, _loaded(text, config), check_ids=["XR-001", "RT-001", "RT-003", "EG-006", "EG-007"])
    for result in run.results:
        assert result.status == "NOT_ASSESSED"
        assert "matching a [[data_classes]] pattern" in result.status_reason


@pytest.fixture(scope="module")
def no_baseline_run(planted_scenario):
    scenario, lake, config = planted_scenario
    first = min(e["eventTime"] for e in scenario.events)
    return {r.check.id: r for r in run_checks(lake, load_config(config), check_ids=BASELINE_CHECKS,
                                              since=first).results}


@pytest.mark.parametrize("check_id", BASELINE_CHECKS)
def test_not_assessed_without_a_baseline(check_id, no_baseline_run):
    assert no_baseline_run[check_id].status == "NOT_ASSESSED"
    wanted = " or ".join(s for s in BY_ID[check_id].requires if s in ("cloudtrail", "azure_resource"))
    assert no_baseline_run[check_id].status_reason.startswith(f"no baseline: no {wanted} events in the 30 days before")


def test_events_outside_the_window_are_not_judged(planted_scenario):
    scenario, lake, config = planted_scenario
    until = scenario.window_start.isoformat()
    run = run_checks(lake, load_config(config), since="2026-08-20", until=until,
                     check_ids=["XR-002", "IN-001", "KU-004"])
    assert [r.status for r in run.results] == ["PASS", "PASS", "PASS"]


def test_policy_is_joined_at_query_time(planted_scenario):
    """Moving the loyalty class's home to the US changes the verdicts without re-pulling anything."""
    _, lake, config = planted_scenario
    text = Path(config).read_text().replace('name = "customer-pii"\nhome = "EU"', 'name = "customer-pii"\nhome = "US"')
    run = run_checks(lake, _loaded(text, config), check_ids=["XR-001"])
    regions = {f.region for f in run.results[0].findings if f.details["data_class"] == "customer-pii"}
    assert "eu-west-1" in regions and "us-east-1" not in regions


def test_policy_values_are_data_not_sql(planted_scenario):
    _, lake, config = planted_scenario
    hostile = "pii'); DROP TABLE policy_regions; --\""
    text = Path(config).read_text().replace('name = "customer-pii"', f"name = '''{hostile}'''").replace(
        'data_classes = ["customer-pii"]', f"data_classes = ['''{hostile}''']")
    run = run_checks(lake, _loaded(text, config), check_ids=["XR-002"])
    assert run.results[0].status == "FAIL"
    assert hostile in run.results[0].findings[0].reason


def test_full_evidence_is_reachable_with_sovaudit_sql(planted_scenario, full_evidence):
    from conftest import run_cli

    _, lake, config = planted_scenario
    proc = run_cli("sql", "--lake", str(lake.root), "--config", str(config), "--format", "json",
                   "SELECT unnest(evidence) AS uid FROM checks.ku_003")
    assert proc.returncode == 0, proc.stderr
    import json

    uids = {row["uid"] for row in json.loads(proc.stdout)}
    assert uids == set().union(*full_evidence["KU-003"])
    assert len(uids) > 50


# -- the Azure half --------------------------------------------------------------------------------------

AZURE_CHECKS = ["XR-001", "XR-002", "XR-003", "EG-001", "EG-002", "EG-003", "KU-001", "KU-002", "KU-003", "KU-005",
                "KU-006", "RT-003", "IN-003", "IN-004"]


@pytest.mark.parametrize("check_id", AZURE_CHECKS)
def test_azure_planted_cases_are_cited(check_id, planted_scenario, full_evidence):
    """Every family has Azure coverage: these checks cite planted Azure records, not only CloudTrail ones."""
    scenario, _, _ = planted_scenario
    azure = {r.uid for r in scenario.azure}
    planted = scenario.expected[check_id] & azure
    assert planted, check_id
    assert planted <= set().union(*full_evidence[check_id])
    assert BY_ID[check_id].requires_any or set(BY_ID[check_id].requires) <= {"azure_activity", "azure_resource"}


def test_planted_azure_ids_are_the_lakes_event_uids(planted_scenario):
    """Resource logs carry no id: the scenario computes the uid the normalization gives them (sha256 of the
    record), and activity records carry their eventDataId in properties."""
    scenario, lake, _ = planted_scenario
    azure = {r.uid for r in scenario.azure}
    uids = {row[0] for row in lake.sql("SELECT event_uid FROM events WHERE source LIKE 'azure_%'").fetchall()}
    assert uids == azure
    assert any(u.startswith("planted-KU-006-az") for u in uids) and any(u.startswith("sha256:") for u in uids)


def _findings_citing(run: dict, check_id: str, uids: set[str]):
    return [f for f in run[check_id].findings if set(f.evidence) & uids]


def test_the_us_side_read_is_cited_by_xr_002_and_eg_001(planted_run, planted_scenario):
    """A partner app read 1.5 GB of EU member data (North Europe) from a US address."""
    scenario, _, _ = planted_scenario
    reads = {r.uid for r in scenario.azure if r.record.get("operationName") == "GetBlob"
             and r.record["callerIpAddress"].startswith("12.0.0.77:")}
    assert len(reads) == 3
    (xr,) = _findings_citing(planted_run, "XR-002", reads)
    assert xr.region == "northeurope" and xr.counterpart_jurisdiction == "US" and xr.details["src_country"] == "US"
    assert "tier-1 customer-pii data (home EU) was accessed from an address registered to US, address 12.0.0.77" in xr.reason
    assert xr.resource.endswith("/providers/microsoft.storage/storageaccounts/acmeloyaltyneu")
    (eg,) = _findings_citing(planted_run, "EG-001", reads)
    assert set(eg.evidence) == reads and eg.details["bytes_out"] == 1_500_000_003
    assert "went to an address registered to US" in eg.reason


def test_azure_findings_say_what_happened(planted_run, planted_scenario):
    scenario, _, _ = planted_scenario
    azure = {r.uid for r in scenario.azure}

    def reasons(check_id):
        return [f.reason for f in _findings_citing(planted_run, check_id, azure)]

    assert reasons("XR-001") and all("in eastus (US)" in r for r in reasons("XR-001"))
    assert any("copied from https://acmeloyaltyneu.blob.core.windows.net to " in r
               and r.endswith("acmepartnerus in eastus (US)") for r in reasons("EG-002"))
    assert any("acmepartnerus in eastus (US; region from the source config)" in r for r in reasons("XR-003"))
    assert any("used 3 time(s) through westeurope by a caller from an address registered to US, address 12.0.0.77: KeyUnwrap" in r
               for r in reasons("KU-001"))
    assert any("(Forbidden)" in r for r in reasons("KU-005"))
    assert sorted(reasons("KU-006")) == [
        "KeyDelete on vault acme-loyalty-kv (holds keys of customer-pii): key loyalty-cmk-2025 deleted",
        "MICROSOFT.KEYVAULT/VAULTS/ACCESSPOLICIES/WRITE on vault acme-loyalty-kv (holds keys of customer-pii): access "
        "policy add: object id(s) c0ffee00-1234-4abc-8def-0123456789ab granted key permissions decrypt, get, unwrapKey"]
    assert sorted(reasons("RT-003")) == [
        "lifecycle management policy deleted; customer-pii data must be deleted after 365 days",
        "lifecycle management policy deletes blobs after 730 days, longer than the 365 days customer-pii data may be kept"]
    assert any(r.startswith("diagnostic setting audit-to-storage of microsoft.keyvault/vaults/acme-loyalty-kv deleted")
               for r in reasons("IN-004"))
    assert any("log categories disabled: StorageRead" in r for r in reasons("IN-004"))
    assert any(r.startswith("no Azure resource-log events for 3 hour(s) from ") and "region northeurope" in r
               for r in reasons("IN-003"))
    # An operation is judged once: its Started and Succeeded records are cited together.
    rt3 = _findings_citing(planted_run, "RT-003", azure)
    assert all(f.event_count == 2 and len(f.evidence) == 2 for f in rt3)


# -- sources never pulled are out of scope; pulled sources without events are partial evidence ----------

POLICY_EU = '[[data_classes]]\nname = "pii"\nhome = "EU"\ntier = 1\nretention_days = 30\nresources = ["arn:aws:s3:::bucket-eu*"]\n'


def _cloudtrail_lake(tmp_path):
    from conftest import ct_event, write_trail_file

    from sovaudit.lake import Lake
    from sovaudit.pull import pull_source
    from sovaudit.sources import config_from_flags

    write_trail_file(tmp_path / "logs" / "t.json.gz", [ct_event("e-1"), ct_event("e-2", time="2024-01-02T11:00:00Z")])
    lake = Lake(tmp_path / "lake")
    pull_source(lake, config_from_flags("cloudtrail", path=str(tmp_path / "logs")))
    return lake


def test_a_source_never_pulled_is_out_of_scope_not_partial(tmp_path):
    lake = _cloudtrail_lake(tmp_path)
    run = run_checks(lake, _loaded(POLICY_EU, tmp_path / "sovaudit.toml"),
                     check_ids=["XR-001", "IN-001", "KU-006", "RT-003", "IN-004"])
    by_id = {r.check.id: r for r in run.results}
    for check_id in ("KU-006", "RT-003", "IN-004"):
        assert by_id[check_id].status == "NOT_ASSESSED" and by_id[check_id].out_of_scope
        assert "never pulled into this lake" in by_id[check_id].status_reason
    assert by_id["KU-006"].status_reason == ("out of scope: azure_activity and azure_resource were never pulled "
                                             "into this lake")
    assert by_id["IN-004"].status_reason == "out of scope: azure_activity was never pulled into this lake"
    assert by_id["XR-001"].status == "PASS" and by_id["XR-001"].status_reason == "no findings in 2 cloudtrail events"
    assert not run.partial and run.exit_code() == 0
    assert run.as_dict()["checks"][2]["out_of_scope"] is True
    assert [c["source"] for c in run.coverage] == ["cloudtrail"]


def test_a_source_pulled_without_events_in_the_window_is_partial(tmp_path):
    from conftest import REPO

    from sovaudit.pull import pull_source
    from sovaudit.sources.azure.config import AzureFilesSourceConfig

    lake = _cloudtrail_lake(tmp_path)
    pull_source(lake, AzureFilesSourceConfig(name="samples", type="azure", path=str(REPO / "fixtures" / "azure")))
    run = run_checks(lake, _loaded(POLICY_EU, tmp_path / "sovaudit.toml"), check_ids=["XR-001", "IN-004"])
    by_id = {r.check.id: r for r in run.results}
    assert by_id["IN-004"].status == "NOT_ASSESSED" and not by_id["IN-004"].out_of_scope
    # The Azure samples are dated outside the window: pulled, but not collected for it.
    assert by_id["IN-004"].status_reason.startswith("not collected: no azure_activity pull covers the window ")
    assert by_id["XR-001"].status_reason == ("no findings in 2 cloudtrail events; not collected for the window: "
                                             "azure_resource, azure_activity")
    assert run.partial and run.exit_code() == 3


def test_paths_the_scenario_does_not_plant(tmp_path):
    """A lifecycle configuration deleted (RT-001), UpdateTrail turning log-file validation off (IN-002), and a
    replication target located by [resource_regions] in the config rather than by the lake (XR-003)."""
    from conftest import ct_event, write_trail_file

    from sovaudit.lake import Lake
    from sovaudit.pull import pull_source
    from sovaudit.sources import config_from_flags

    management = {"eventCategory": "Management", "managementEvent": True, "readOnly": False,
                  "additionalEventData": None}
    events = [
        ct_event("del-lifecycle", "2024-01-02T10:00:00Z", eventName="DeleteBucketLifecycle",
                 requestParameters={"bucketName": "pii-eu", "lifecycle": ""}, **management),
        ct_event("update-trail", "2024-01-02T11:00:00Z", eventSource="cloudtrail.amazonaws.com",
                 eventName="UpdateTrail", requestParameters={"name": "org-trail", "enableLogFileValidation": False},
                 **management),
        ct_event("replicate", "2024-01-02T12:00:00Z", eventName="PutBucketReplication", requestParameters={
            "bucketName": "pii-eu", "ReplicationConfiguration": {"Rule": {
                "Status": "Enabled", "Destination": {"Bucket": "arn:aws:s3:::dr-copy"}}}}, **management),
    ]
    write_trail_file(tmp_path / "logs" / "t.json.gz", events)
    lake = Lake(tmp_path / "lake")
    pull_source(lake, config_from_flags("cloudtrail", path=str(tmp_path / "logs")))
    policy = ('[resource_regions]\n"arn:aws:s3:::dr-copy" = "us-east-1"\n[[data_classes]]\nname = "pii"\n'
              'home = "EU"\ntier = 1\nretention_days = 30\nresources = ["arn:aws:s3:::pii-eu*"]\n')
    run = run_checks(lake, _loaded(policy, tmp_path / "sovaudit.toml"), check_ids=["RT-001", "IN-002", "XR-003"],
                     since="2024-01-01", until="2024-01-03")
    results = {r.check.id: r for r in run.results}
    assert [f.evidence for f in results["RT-001"].findings] == [["del-lifecycle"]]
    assert "lifecycle configuration deleted" in results["RT-001"].findings[0].reason
    assert results["IN-002"].findings[0].reason == "UpdateTrail: log-file validation turned off"
    [xr3] = results["XR-003"].findings
    assert xr3.evidence == ["replicate"] and "us-east-1 (US; region from the config)" in xr3.reason


# -- the Kafka half --------------------------------------------------------------------------------------

KAFKA_CHECKS = ["XR-004", "XR-005", "EG-004", "RT-004", "IN-005", "IN-006", "IN-007"]


def test_kafka_findings_say_what_happened(planted_run, planted_scenario):
    from sovaudit.demo.scenario_kafka import EU_CLUSTER, US_CLUSTER

    def reasons(check_id):
        return sorted(f.reason for f in planted_run[check_id].findings)

    assert reasons("XR-004") == [
        f"topic eu.loyalty.transactions on cluster {EU_CLUSTER} (customer-pii data, home EU) was consumed from an "
        "address registered to US, address 12.0.0.78, client id partner-analytics-1"]
    assert reasons("XR-005") == ["4 message(s) on topic eu.loyalty.transactions (customer-pii data, home EU) were "
                                 "produced in us-east-1 (US), partitions 0, 1, 2, 3"]
    assert reasons("EG-004") == [
        "MirrorMaker 2 flow emea->us replicated topic eu.loyalty.transactions (customer-pii data, home EU) from "
        f"cluster {EU_CLUSTER} to a consumer from an address registered to US, address 12.0.0.77",
        "topic eu.loyalty.transactions (customer-pii data, home EU) is mirrored by MirrorMaker 2 (alias emea) as "
        f"emea.eu.loyalty.transactions on cluster {US_CLUSTER} in us-east-1 (US)"]
    assert reasons("RT-004") == [
        f"topic eu.loyalty.clickstream on cluster {EU_CLUSTER}: retention.ms=-1: messages are kept forever; "
        "customer-pii data must be deleted after 365 days"]
    [burst] = planted_run["IN-005"].findings
    assert burst.actor == "User:summer-intern" and burst.event_count == 24
    assert "24 authorizations denied within the hour from 2026-09-17 22:00 UTC" in burst.reason
    assert reasons("IN-006") == [
        f"audit-log topic confluent-audit-log-events on cluster {EU_CLUSTER} deletes events after 7.0 days "
        "(retention.ms=604800000), before the 365-day evidence period the organisation declares"]
    assert reasons("IN-007") == [
        f"audit-log topic confluent-audit-log-events of cluster {EU_CLUSTER} is in the inventory snapshot of "
        "2026-09-21 00:30 UTC and missing from the next, of 2026-09-22 00:30 UTC: deleted in between",
        f"kafka.DeleteTopics on audit-log topic confluent-audit-log-events of cluster {EU_CLUSTER} granted by "
        "User:platform-admin from 95.108.128.1"]


def test_kafka_inventory_findings_cite_every_snapshot_that_shows_them(planted_run, planted_scenario):
    """A finding from the inventory cites each daily snapshot in the window that shows the problem, and none
    before it appeared: the snapshots are the evidence of how long it lasted."""
    scenario, _, _ = planted_scenario
    times = scenario.event_times()
    [retention] = planted_run["RT-004"].findings
    assert retention.evidence_total == 22 == len(scenario.expected["RT-004"])
    assert retention.first_seen == min(times[u] for u in scenario.expected["RT-004"])
    [audit_topic] = planted_run["IN-006"].findings
    assert set(audit_topic.evidence) == scenario.expected["IN-006"] and audit_topic.region == "eu-west-1"


def test_not_assessed_when_topic_patterns_match_nothing(planted_scenario):
    _, lake, config = planted_scenario
    text = Path(config).read_text().replace('topics = ["eu.loyalty.*"]', 'topics = ["typo.loyalty.*"]')
    run = run_checks(lake, _loaded(text, config), check_ids=KAFKA_CHECKS)
    by_id = {r.check.id: r for r in run.results}
    for check_id in ("XR-004", "XR-005", "EG-004", "RT-004"):
        assert by_id[check_id].status == "NOT_ASSESSED"
        assert by_id[check_id].status_reason == ("policy missing: no Kafka topic in the lake matches a "
                                                 "[[data_classes]] topics pattern")
    assert {by_id[c].status for c in ("IN-005", "IN-006", "IN-007")} == {"FAIL"}


def test_not_assessed_without_an_evidence_period(planted_scenario):
    _, lake, config = planted_scenario
    text = Path(config).read_text().replace("evidence_period_days = 365\n", "")
    [result] = run_checks(lake, _loaded(text, config), check_ids=["IN-006"]).results
    assert result.status == "NOT_ASSESSED"
    assert result.status_reason == ("policy missing: no evidence period is declared ([organisation] "
                                    "evidence_period_days)")


def test_an_ec2_caller_in_the_eu_is_no_transfer(planted_run, planted_scenario):
    """The segment builder reads tier-1 loyalty data daily from an EC2 instance's public address in
    eu-west-1. AWS registers the address to the US, so by registration alone XR-002 and the flow matrix
    would call it an EU→US transfer; AWS's published ranges place it in eu-west-1."""
    from sovaudit.demo.scenario import EC2_EU_IP

    _, lake, _ = planted_scenario
    rows = lake.sql("SELECT event_uid, src_country, src_cloud, src_cloud_region, src_cloud_service FROM events "
                    "WHERE src_ip = ?", [EC2_EU_IP]).fetchall()
    assert len(rows) >= 30 and {r[1:] for r in rows} == {("US", "aws", "eu-west-1", "EC2")}
    uids = {r[0] for r in rows}
    # The checks that judge where a caller is. (EG-003, a spike in a bucket's bytes out, cites every read of
    # the day, wherever from.)
    for check_id in ("XR-002", "EG-001", "KU-001"):
        assert not _findings_citing(planted_run, check_id, uids), check_id


def test_a_read_through_azure_storage_in_east_us_is_a_transfer_and_says_so(planted_run, planted_scenario):
    """An Azure Storage front-end address (tag Storage.EastUS) reading a North Europe account: a real
    cross-border read, placed by Microsoft's service tags rather than by registration."""
    from sovaudit.demo.scenario_azure import AZURE_STORAGE_EASTUS_IP

    scenario, _, _ = planted_scenario
    reads = {r.uid for r in scenario.azure if r.record.get("callerIpAddress", "").startswith(AZURE_STORAGE_EASTUS_IP)}
    assert len(reads) == 1
    (xr,) = _findings_citing(planted_run, "XR-002", reads)
    assert f"was accessed from Azure Storage in eastus (US), address {AZURE_STORAGE_EASTUS_IP}" in xr.reason
    assert (xr.region, xr.region_jurisdiction, xr.counterpart_jurisdiction) == ("northeurope", "EU", "US")
    assert xr.details["src_cloud_service"] == "AzureStorage"


def test_reasons_never_double_a_place(planted_run):
    """"from CN (CN)" said the same thing twice; a jurisdiction is shown only where it adds something."""
    import re

    for result in planted_run.values():
        for f in result.findings:
            assert not re.search(r"\b([A-Z]{2}) \(\1\)", f.reason), f.reason
