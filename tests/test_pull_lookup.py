"""Pulling CloudTrail through LookupEvents: boto3 against a local JSON 1.1 server over real HTTP.

Moto does not implement LookupEvents, so tests.aws_fixtures.LookupEventsServer speaks it.
"""
# ruff: noqa: F811 (pytest fixtures imported from tests.aws_fixtures are test arguments)

import gzip
import json
from datetime import UTC, datetime, timedelta

from aws_fixtures import (  # noqa: F401 (aws_env, lookup_server are fixtures)
    LOOKUP_TARGET,
    SAMPLE_DIR,
    aws_env,
    fake_aws_environ,
    lookup_event,
    lookup_server,
    run_cli,
)
from conftest import assert_counts_add_up, lake_rows

from sovaudit.lake import Lake
from sovaudit.pull import pull_source
from sovaudit.sources import config_from_flags
from sovaudit.sources.cloudtrail.lookup import LOOKUP_NOTE

SAMPLE = SAMPLE_DIR / "218007301253_CloudTrail_us-east-1_20230710T1145Z_s7dpHbl38neqZbm2.json.gz"
THROTTLED = (400, {"__type": "ThrottlingException", "message": "Rate exceeded"})


def _parse(ts: str) -> datetime:
    return datetime.strptime(ts, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def recent_sample_events() -> tuple[list[dict], datetime, datetime]:
    """The sample file's records, moved two days back from now (LookupEvents only sees 90 days), as
    LookupEvents entries; plus a window that covers them."""
    records = json.loads(gzip.decompress(SAMPLE.read_bytes()))["Records"]
    first = min(_parse(r["eventTime"]) for r in records)
    base = (datetime.now(UTC) - timedelta(days=2)).replace(microsecond=0)
    for record in records:
        record["eventTime"] = (base + (_parse(record["eventTime"]) - first)).strftime("%Y-%m-%dT%H:%M:%SZ")
    last = max(_parse(r["eventTime"]) for r in records)
    return [lookup_event(r) for r in records], base - timedelta(hours=1), last + timedelta(hours=1)


def _iso(ts: datetime) -> str:
    return ts.strftime("%Y-%m-%dT%H:%M:%SZ")


def _page_bytes(page: list[dict]) -> bytes:
    return b"\n".join(e["CloudTrailEvent"].encode("utf-8") for e in page)




def test_lookup_pages_are_archived_verbatim_after_a_throttled_first_request(aws_env, lookup_server, tmp_path):
    events, since, until = recent_sample_events()
    assert len(events) == 51
    server = lookup_server(events, page_size=17, canned=[THROTTLED])

    lake = Lake(tmp_path / "lake")
    spec = config_from_flags("cloudtrail", lookup=True, regions=["us-east-1"], endpoint_url=server.url)
    result = pull_source(lake, spec, since=_iso(since), until=_iso(until))

    assert result.exit_code == 0, result.entry["failures"]
    assert result.counts == {"read": 51, "stored": 51, "duplicate": 0, "quarantined": 0}
    assert lake_rows(lake) == 51
    assert LOOKUP_NOTE in result.notes and any("90 days" in note for note in result.notes)

    # The throttled request, its retry, then the two pages after it; each one a LookupEvents call.
    assert len(server.requests) == 4, server.requests
    assert all(r["target"] == LOOKUP_TARGET for r in server.requests)
    assert server.requests[0]["body"] == server.requests[1]["body"]
    assert "NextToken" not in server.requests[1]["body"]
    assert [r["body"].get("NextToken") for r in server.requests[2:]] == ["page-17", "page-34"]
    assert server.requests[1]["body"]["StartTime"] == int(since.timestamp())
    assert server.requests[1]["body"]["EndTime"] == int(until.timestamp())
    assert [len(page) for page in server.served] == [17, 17, 17]

    ingested = [i for i in result.entry["inputs"] if i["status"] == "ingested"]
    assert [i["page"] for i in ingested] == [0, 1, 2]
    page_lines = {}
    for item in ingested:
        assert item["kind"] == "lookup" and item["region"] == "us-east-1"
        served = _page_bytes(server.served[item["page"]])
        archived = lake.archive.read(item["blob"])
        assert archived in (served, served + b"\n"), item
        page_lines[item["blob"]] = archived.split(b"\n")

    rows = lake.sql("SELECT event_uid, evidence_blob, evidence_index FROM cloudtrail").fetchall()
    assert len(rows) == 51
    for uid, blob, index in rows:
        assert json.loads(page_lines[blob][index])["eventID"] == uid
    assert {r[0] for r in rows} == {e["EventId"] for e in events}


def test_lookup_repull_adds_no_rows_and_counts_duplicates(aws_env, lookup_server, tmp_path):
    events, since, until = recent_sample_events()
    server = lookup_server(events, page_size=17)
    lake = Lake(tmp_path / "lake")
    spec = config_from_flags("cloudtrail", lookup=True, regions=["us-east-1"], endpoint_url=server.url)
    window = {"since": _iso(since), "until": _iso(until)}

    first = pull_source(lake, spec, **window)
    assert first.counts["stored"] == 51 and first.exit_code == 0

    # The same pages again: already archived and ingested, so nothing is read twice.
    same = pull_source(lake, spec, **window)
    assert same.exit_code == 0
    assert same.counts["stored"] == 0
    assert_counts_add_up(same)
    assert same.entry["blobs"]["blobs_skipped"] == 3
    assert lake_rows(lake) == 51

    # The API pages differently this time: new blobs, the same events, all duplicates.
    server.page_size = 20
    repaged = pull_source(lake, spec, **window)
    assert repaged.exit_code == 0
    assert repaged.counts == {"read": 51, "stored": 0, "duplicate": 51, "quarantined": 0}
    assert lake_rows(lake) == 51

    # One more event arrives: only it is stored.
    newest = json.loads(events[0]["CloudTrailEvent"])
    newest["eventID"] = "0f1e2d3c-0000-4000-8000-000000000001"
    newest["eventTime"] = _iso(until - timedelta(minutes=5))
    server.events.append(lookup_event(newest))
    grown = pull_source(lake, spec, **window)
    assert grown.exit_code == 0
    assert grown.counts == {"read": 52, "stored": 1, "duplicate": 51, "quarantined": 0}
    assert lake_rows(lake) == 52
    assert lake.sql("SELECT count(*) FROM cloudtrail WHERE event_uid = ?",
                    [newest["eventID"]]).fetchall() == [(1,)]


def test_lookup_access_denied_exits_3_naming_the_call_and_region(lookup_server, tmp_path):
    denied = (403, {"__type": "AccessDeniedException",
                    "message": "User: arn:aws:iam::111122223333:user/auditor is not authorized to perform: "
                               "cloudtrail:LookupEvents"})
    server = lookup_server([], page_size=50, canned=[denied])
    lake_dir = tmp_path / "lake"
    proc = run_cli(["pull", "cloudtrail", "--lookup", "--region", "eu-west-1", "--endpoint-url", server.url,
                    "--lake", str(lake_dir), "--since", "2d", "--format", "json"],
                   env=fake_aws_environ(tmp_path), cwd=tmp_path / "cwd", timeout=60)

    assert proc.returncode == 3, proc.stdout + proc.stderr
    report = json.loads(proc.stdout)[0]
    assert report["counts"]["stored"] == 0
    assert len(report["failures"]) == 1
    message = report["failures"][0]["error"]
    assert "LookupEvents" in message and "eu-west-1" in message, message
    assert "AccessDenied" in message or "access denied" in message, message
    assert len(server.requests) == 1  # a refusal is not retried
    assert Lake(lake_dir).ledger.entries()[-1]["failures"][0]["error"] == message


def test_an_api_event_without_its_record_is_quarantined_naming_its_lookup_fields(aws_env, lookup_server, tmp_path):
    events, since, until = recent_sample_events()
    events = events[:6]
    hollow = dict(events[2])
    del hollow["CloudTrailEvent"]
    events[2] = hollow
    server = lookup_server(events, page_size=50)
    lake = Lake(tmp_path / "lake")
    spec = config_from_flags("cloudtrail", lookup=True, regions=["us-east-1"], endpoint_url=server.url)
    result = pull_source(lake, spec, since=_iso(since), until=_iso(until))

    assert result.exit_code == 3
    assert result.counts == {"read": 6, "stored": 5, "duplicate": 0, "quarantined": 1}
    [(index, reason)] = lake.sql("SELECT record_index, reason FROM quarantine").fetchall()
    assert reason == ("no eventID; found keys: EventId, EventName, EventSource, EventTime, ReadOnly, Resources, "
                      "Username")
    # The API serves newest first: the line of the quarantined event is where the hollow one was served.
    assert [e.get("EventId") for e in server.served[0]].index(hollow["EventId"]) == index
