"""Not assessed means not collected: whether a quiet source is judged comes from what the ledger says each pull
collected (checks.collected), not from whether events exist. The pulls are real: azure-mgmt-monitor against a
local HTTPS server speaking the Activity Log API, and local CloudTrail files."""
# ruff: noqa: F811 (pytest fixtures imported from tests.azure_fixtures are test arguments)

import json
from datetime import UTC, datetime, timedelta

import pytest
from azure_fixtures import (  # noqa: F401 (activity_server, arm_certificate are fixtures)
    SUBSCRIPTION,
    StaticTokenCredential,
    activity_rest_event,
    activity_server,
    arm_certificate,
)
from conftest import ct_event, run_cli, write_trail_file

import sovaudit.sources.azure.credentials
from sovaudit.checks.runner import run_checks
from sovaudit.config import Config, LoadedConfig
from sovaudit.lake import Lake
from sovaudit.pull import pull_source
from sovaudit.sources import config_from_flags
from sovaudit.timewindow import iso

REFUSED = (401, {}, {"error": {"code": "InvalidAuthenticationToken", "message": "The access token is invalid."}})
NOW = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
WEEK_AGO = NOW - timedelta(days=7)


@pytest.fixture(autouse=True)
def credential(monkeypatch: pytest.MonkeyPatch) -> StaticTokenCredential:
    token = StaticTokenCredential()
    monkeypatch.setattr(sovaudit.sources.azure.credentials, "default_credential",
                        lambda tenant_id=None, client_id=None: token)
    return token


def _pull(lake: Lake, server, since: datetime | None, until: datetime | None = None):
    spec = config_from_flags("azure-activity", subscription=SUBSCRIPTION, endpoint=server.url)
    return pull_source(lake, spec, since=iso(since), until=iso(until))


def _in_004(lake: Lake, since: datetime = WEEK_AGO, until: datetime = NOW):
    run = run_checks(lake, LoadedConfig(config=Config(), path=None), check_ids=["IN-004"], since=iso(since),
                     until=iso(until))
    return run, run.results[0]


def test_a_quiet_week_that_was_collected_passes(activity_server, tmp_path):
    """The activity log was pulled for the week and nothing happened: PASS, saying what was collected, and
    the run's evidence is complete (exit 0), not partial."""
    server = activity_server([activity_rest_event(NOW - timedelta(days=12))], page_size=10)
    lake = Lake(tmp_path / "lake")
    pulled = _pull(lake, server, WEEK_AGO, NOW)
    assert pulled.exit_code == 0 and pulled.counts["stored"] == 0
    run, result = _in_004(lake)
    assert result.status == "PASS", result.status_reason
    assert result.status_reason == (f"no findings in 0 azure_activity events (collected: cli pulled {iso(WEEK_AGO)} – "
                                    f"{iso(NOW)}, no events)")
    assert run.exit_code() == 0
    assert run.coverage == [{"source": "azure_activity", "events": 0, "first": None, "last": None,
                             "collected": [{"sources": "cli", "since": iso(WEEK_AGO), "until": iso(NOW)}]}]


def test_a_week_pulled_for_another_period_is_not_collected(activity_server, tmp_path):
    server = activity_server([], page_size=10)
    lake = Lake(tmp_path / "lake")
    _pull(lake, server, NOW - timedelta(days=20), NOW - timedelta(days=13))
    run, result = _in_004(lake)
    assert result.status == "NOT_ASSESSED" and not result.out_of_scope
    assert result.status_reason == (f"not collected: no azure_activity pull covers the window {iso(WEEK_AGO)} – "
                                    f"{iso(NOW)}; pull that source for the window first")
    assert run.exit_code() == 3


def test_a_week_collected_in_part_names_the_part_missing(activity_server, tmp_path):
    server = activity_server([], page_size=10)
    lake = Lake(tmp_path / "lake")
    three_days_ago = NOW - timedelta(days=3)
    _pull(lake, server, three_days_ago, NOW)
    run, result = _in_004(lake)
    assert result.status == "NOT_ASSESSED"
    assert result.status_reason == (
        f"partly collected: azure_activity was collected for only part of the window (cli pulled "
        f"{iso(three_days_ago)} – {iso(NOW)}), not {iso(WEEK_AGO)} – {iso(three_days_ago)}; pull that period first")
    assert run.exit_code() == 3


def test_a_pull_that_failed_collected_nothing(activity_server, tmp_path):
    """The API refused the pull: its ledger entry has the window, but a failed input, so it vouches for no time."""
    server = activity_server([], page_size=10, canned={0: REFUSED})
    lake = Lake(tmp_path / "lake")
    pulled = _pull(lake, server, WEEK_AGO, NOW)
    assert pulled.entry["failures"]
    _, result = _in_004(lake)
    assert result.status == "NOT_ASSESSED"
    assert result.status_reason.startswith("not collected: no azure_activity pull covers the window")


def test_a_pull_without_since_goes_on_from_where_the_previous_ended(activity_server, tmp_path):
    """The second pull has no --since (the source goes on from its last pull): together they cover the week."""
    server = activity_server([], page_size=10)
    lake = Lake(tmp_path / "lake")
    _pull(lake, server, WEEK_AGO, NOW - timedelta(days=2))
    _pull(lake, server, None)
    started = datetime.fromisoformat(lake.ledger.entries()[-1]["started_at"].replace("Z", "+00:00"))
    _, result = _in_004(lake, until=started)
    assert result.status == "PASS", result.status_reason
    assert "(collected: cli pulled " + iso(WEEK_AGO) in result.status_reason


def test_a_quiet_source_the_other_checks_need_is_named_in_their_reason(activity_server, tmp_path):
    """XR-003 reads CloudTrail or the activity log: CloudTrail had events, the activity log was collected quiet."""
    write_trail_file(tmp_path / "logs" / "t.json.gz", [ct_event("e-1", iso(NOW - timedelta(days=1)))])
    lake = Lake(tmp_path / "lake")
    pull_source(lake, config_from_flags("cloudtrail", path=str(tmp_path / "logs")))
    _pull(lake, activity_server([], page_size=10), WEEK_AGO, NOW)
    [result] = run_checks(lake, LoadedConfig(config=Config(), path=None), check_ids=["XR-003"], since=iso(WEEK_AGO),
                          until=iso(NOW)).results
    assert result.status_reason == (f"no findings in 1 cloudtrail events, 0 azure_activity events (collected: cli "
                                    f"pulled {iso(WEEK_AGO)} – {iso(NOW)}, no events)")


def test_a_file_pull_collected_the_span_of_its_records(tmp_path):
    """Files are read whole, so a --path pull vouches for the time from its first to its last record, whatever
    --since/--until it was given; checks.collected says so in `sovaudit sql`."""
    write_trail_file(tmp_path / "logs" / "t.json.gz", [ct_event("e-1", "2024-01-02T10:00:00Z"),
                                                       ct_event("e-2", "2024-01-05T11:00:00Z")])
    lake = tmp_path / "lake"
    pull_source(Lake(lake), config_from_flags("cloudtrail", path=str(tmp_path / "logs")),
                since="2023-12-01", until="2024-02-01")
    proc = run_cli("sql", "--lake", str(lake), "--format", "json",
                   "SELECT table_name, source_name, since, until, basis FROM checks.collected")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == [{"table_name": "cloudtrail", "source_name": "cli",
                                        "since": "2024-01-02T10:00:00Z", "until": "2024-01-05T11:00:00Z",
                                        "basis": "the records of its files"}]


def test_ledger_values_of_the_wrong_type_collect_nothing_and_break_nothing():
    """The ledger is read as data: an entry whose values have other types than a pull writes yields rows with
    what can be read (a naive time read as UTC, failures that are not a list as one) and nothing else."""
    from sovaudit.checks.collected import pull_rows

    rows = pull_rows([
        {"run_id": 7, "tables": ["cloudtrail", {"x": 1}, "cloudtrail_digest"], "source": "not a record",
         "window": {"since": "yesterday", "until": 5}, "started_at": "2024-01-02T10:00:00", "failures": 3,
         "counts": {"stored": True}},
    ])
    assert rows == [{"seq": 1, "run_id": None, "table_name": "cloudtrail", "source_name": None, "source_type": None,
                     "source_key": "{}", "from_files": False, "window_since": None, "window_until": None,
                     "started_at": datetime(2024, 1, 2, 10, tzinfo=UTC), "failures": 1, "stored": None}]
