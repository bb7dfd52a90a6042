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
    when = {e["eventID"]: (e["eventTime"], e["eventID"]) for e in scenario.events}
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
    assert "cloudtrail events" in result.status_reason


def test_clean_traffic_holds_the_allowed_uk_transfer(clean_scenario):
    """The UK support copies would be findings without the class's allowed transfer: it is what keeps
    XR-001 and EG-002 quiet, not an absence of cross-border traffic."""
    _, lake, config = clean_scenario
    text = "\n".join(line for line in Path(config).read_text().splitlines()
                     if not line.startswith("allowed_transfers"))
    run = run_checks(lake, _loaded(text, config), check_ids=["XR-001", "EG-002", "XR-002"])
    statuses = {r.check.id: r for r in run.results}
    assert statuses["EG-002"].status == "FAIL"
    assert "eu-west-2" in statuses["XR-001"].findings[0].reason
    assert {f.region for f in statuses["EG-002"].findings} == {"eu-west-2"}
    assert statuses["XR-002"].status == "FAIL"
    assert {f.details["src_country"] for f in statuses["XR-002"].findings} == {"GB"}


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
    assert result.status == "NOT_ASSESSED"
    assert "no cloudtrail events in the window 2020-01-01T00:00:00Z – 2020-02-01T00:00:00Z" in result.status_reason
    assert empty_window_run.exit_code() == 3
    assert empty_window_run.coverage == [{"source": "cloudtrail", "events": 0, "first": None, "last": None}]


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
    for check_id in ("IN-001", "IN-002", "IN-003", "KU-005"):
        assert no_policy_run[check_id].status == "FAIL"


def test_not_assessed_when_class_patterns_match_nothing(planted_scenario):
    _, lake, config = planted_scenario
    text = Path(config).read_text().replace("arn:aws:s3:::acme-", "arn:aws:s3:::typo-acme-")
    run = run_checks(lake, _loaded(text, config), check_ids=["XR-001", "RT-001"])
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
    assert no_baseline_run[check_id].status_reason.startswith("no baseline: no cloudtrail events in the 30 days before")


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
    regions = {f.region for f in run.results[0].findings}
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
