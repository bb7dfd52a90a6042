"""IN-003 on delivery that stops: a trail bucket (boto3 against a moto server) whose log objects stop arriving
days before the window ends, judged against what the ledger says was pulled; silence at the window's start for
a trail that delivered before it; and the quiet ends a delivery allowance forgives."""
# ruff: noqa: F811 (pytest fixtures imported from tests.aws_fixtures are test arguments)

from datetime import UTC, datetime, timedelta

from aws_fixtures import aws_env, bucket, cloudtrail_gz, log_key, make_records, moto_server, put_object, s3  # noqa: F401
from conftest import write_trail_file

from sovaudit.checks.runner import run_checks
from sovaudit.config import Config, LoadedConfig, parse_config
from sovaudit.lake import Lake
from sovaudit.pull import pull_source
from sovaudit.sources import config_from_flags

SINCE = datetime(2026, 3, 1, tzinfo=UTC)
UNTIL = SINCE + timedelta(days=6)


def _hourly(first: datetime, last: datetime, *, region: str = "eu-west-1", tag: str = "") -> list[list[dict]]:
    """One log object per hour from first to last (inclusive), each with two records at minute 10."""
    out, at = [], first
    while at <= last:
        out.append(make_records(at.replace(minute=10), 2, region=region, tag=tag))
        at += timedelta(hours=1)
    return out


def _deliver(s3, bucket: str, objects: list[list[dict]]) -> None:
    for records in objects:
        when = datetime.fromisoformat(records[0]["eventTime"].replace("Z", "+00:00"))
        put_object(s3, bucket, log_key("111122223333", records[0]["awsRegion"], when), cloudtrail_gz(records))


def _in_003(lake: Lake, **window) -> object:
    [result] = run_checks(lake, LoadedConfig(config=Config(), path=None), check_ids=["IN-003"], **window).results
    return result


def test_a_trail_whose_delivery_stopped_before_until_fails_in_003(s3, bucket, moto_server, tmp_path):
    # Delivered hourly for four days, then nothing for the last two: the bucket pull asked for all six.
    stop = SINCE + timedelta(days=4, hours=-1)
    _deliver(s3, bucket, _hourly(SINCE, stop))
    lake = Lake(tmp_path / "lake")
    spec = config_from_flags("cloudtrail", bucket=bucket, endpoint_url=moto_server)
    pulled = pull_source(lake, spec, since=SINCE.isoformat(), until=UNTIL.isoformat())
    assert pulled.exit_code == 0 and pulled.counts["stored"] == 2 * 96

    result = _in_003(lake, since=SINCE.isoformat(), until=UNTIL.isoformat())
    assert result.status == "FAIL", result.status_reason
    [finding] = result.findings
    last = lake.sql("SELECT event_uid, time FROM cloudtrail ORDER BY time DESC, event_uid DESC LIMIT 1").fetchall()[0]
    assert finding.evidence == [last[0]]
    assert finding.details["silence"] == "end"
    assert finding.reason == (
        "no CloudTrail events in account 111122223333 region eu-west-1 since 2026-03-04 23:10 UTC, its last: "
        "silent for 48 hour(s) before the record collected by cli ends at 2026-03-07 00:00 UTC, beyond the "
        "2-hour delivery allowance; delivery may have stopped (it had events in 100.0% of the hours before)")
    # The silent whole hours: from the hour after the last event to the last hour before the allowance.
    assert finding.first_seen == datetime(2026, 3, 5, tzinfo=UTC)
    assert finding.last_seen == UNTIL - timedelta(hours=2)


def test_a_nightly_run_without_until_ends_its_window_where_the_pull_ended(s3, bucket, moto_server, tmp_path):
    """`check --since …` alone: the window ends at the end of what the bucket pull collected, not at the
    newest event, or a trail that went silent would end the window at its own last event and pass."""
    _deliver(s3, bucket, _hourly(SINCE, SINCE + timedelta(days=4, hours=-1)))
    lake = Lake(tmp_path / "lake")
    spec = config_from_flags("cloudtrail", bucket=bucket, endpoint_url=moto_server)
    pull_source(lake, spec, since=SINCE.isoformat(), until=UNTIL.isoformat())
    run = run_checks(lake, LoadedConfig(config=Config(), path=None), check_ids=["IN-003"], since=SINCE.isoformat())
    assert run.window.until == UNTIL
    assert run.results[0].status == "FAIL" and run.results[0].findings[0].details["silence"] == "end"


def test_silence_within_the_delivery_allowance_is_not_a_finding(s3, bucket, moto_server, tmp_path):
    # The last object is from 23:10 on the last day; the pull ended at midnight, inside the two hours.
    _deliver(s3, bucket, _hourly(SINCE, UNTIL - timedelta(minutes=50)))
    lake = Lake(tmp_path / "lake")
    spec = config_from_flags("cloudtrail", bucket=bucket, endpoint_url=moto_server)
    pull_source(lake, spec, since=SINCE.isoformat(), until=UNTIL.isoformat())
    result = _in_003(lake, since=SINCE.isoformat(), until=UNTIL.isoformat())
    assert result.status == "PASS", [f.reason for f in result.findings]


def test_the_allowance_is_a_threshold(tmp_path):
    """Four silent hours at the end of a file pull whose other region goes on: PASS with a 5-hour allowance,
    FAIL with the 2-hour default."""
    busy = [r for hour in _hourly(SINCE, UNTIL - timedelta(hours=1), region="eu-west-1") for r in hour]
    stopping = [r for hour in _hourly(SINCE, UNTIL - timedelta(hours=6), region="eu-central-1", tag="b") for r in hour]
    write_trail_file(tmp_path / "logs" / "t.json.gz", busy + stopping)
    lake = Lake(tmp_path / "lake")
    pull_source(lake, config_from_flags("cloudtrail", path=str(tmp_path / "logs")))
    window = {"since": SINCE.isoformat(), "until": UNTIL.isoformat()}
    default = _in_003(lake, **window)
    assert [f.region for f in default.findings] == ["eu-central-1"]
    assert "silent for 5 hour(s) before the record collected by cli ends at 2026-03-06 23:10 UTC" in \
        default.findings[0].reason
    lenient = run_checks(lake, LoadedConfig(config=parse_config("[thresholds]\ndelivery_delay_hours = 5\n", None),
                                            path=None), check_ids=["IN-003"], **window).results[0]
    assert lenient.status == "PASS", [f.reason for f in lenient.findings]


def test_silence_at_the_window_start_of_a_trail_that_delivered_before_it(tmp_path):
    """Hourly through the baseline, then nothing for the first 20 hours of the window: a finding citing the
    last event before the window and the first after the silence. The same silence in a region that never
    delivered before the window is a region starting, not a gap."""
    start = SINCE + timedelta(days=3)
    before = [r for hour in _hourly(SINCE, start - timedelta(hours=1)) for r in hour]
    after = [r for hour in _hourly(start + timedelta(hours=20), UNTIL - timedelta(hours=1)) for r in hour]
    new_region = [r for hour in _hourly(start + timedelta(hours=20), UNTIL - timedelta(hours=1),
                                        region="eu-north-1", tag="new") for r in hour]
    write_trail_file(tmp_path / "logs" / "t.json.gz", before + after + new_region)
    lake = Lake(tmp_path / "lake")
    pull_source(lake, config_from_flags("cloudtrail", path=str(tmp_path / "logs")))
    result = _in_003(lake, since=start.isoformat(), until=UNTIL.isoformat())
    assert result.status == "FAIL"
    [finding] = result.findings
    assert finding.region == "eu-west-1" and finding.details["silence"] == "start"
    assert finding.evidence == [before[-1]["eventID"], after[0]["eventID"]]
    assert finding.reason == (
        "no CloudTrail events in account 111122223333 region eu-west-1 for 20 hour(s) from the start of the window, "
        "2026-03-04 00:00 UTC, to 2026-03-04 20:00 UTC, though it delivered before the window (its last event "
        "before it at 2026-03-03 23:10 UTC)")


def test_a_region_silent_for_the_whole_window_after_delivering_before_it(tmp_path):
    """A region busy in the baseline with no event at all in the window, while another region of the trail
    goes on: silent since its last event, which lies before the window."""
    start = SINCE + timedelta(days=3)
    gone = [r for hour in _hourly(SINCE, start - timedelta(hours=5), region="eu-central-1", tag="gone") for r in hour]
    staying = [r for hour in _hourly(SINCE, UNTIL - timedelta(hours=1)) for r in hour]
    write_trail_file(tmp_path / "logs" / "t.json.gz", gone + staying)
    lake = Lake(tmp_path / "lake")
    pull_source(lake, config_from_flags("cloudtrail", path=str(tmp_path / "logs")))
    result = _in_003(lake, since=start.isoformat(), until=UNTIL.isoformat())
    [finding] = result.findings
    assert finding.region == "eu-central-1" and finding.evidence == [gone[-1]["eventID"]]
    assert "since 2026-03-03 19:10 UTC, its last: silent for 76 hour(s)" in finding.reason
