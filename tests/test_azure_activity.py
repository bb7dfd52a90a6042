"""Pulling the Azure activity log: azure-mgmt-monitor against a local HTTPS server speaking the REST API.

The credential is the one stand-in (there is no Azure AD here); paging, retries, TLS and the pipeline
are the SDK's own.
"""
# ruff: noqa: F811 (pytest fixtures imported from tests.azure_fixtures are test arguments)

import json
import time
from datetime import UTC, datetime, timedelta

import pytest
from azure_fixtures import (  # noqa: F401 (activity_server, arm_certificate are fixtures)
    ACTIVITY_PATH,
    SUBSCRIPTION,
    StaticTokenCredential,
    activity_rest_event,
    activity_server,
    arm_certificate,
    free_port,
    recent,
)
from conftest import assert_counts_add_up
from typer.testing import CliRunner

import sovaudit.sources.azure.credentials
from sovaudit.cli import app
from sovaudit.lake import Lake
from sovaudit.pull import pull_source
from sovaudit.sources import config_from_flags

THROTTLED = (429, {"Retry-After": "1"}, {"error": {"code": "TooManyRequests", "message": "Rate limit exceeded"}})
REFUSED = (401, {}, {"error": {"code": "InvalidAuthenticationToken", "message": "The access token is invalid."}})


@pytest.fixture
def credential(monkeypatch: pytest.MonkeyPatch) -> StaticTokenCredential:
    token = StaticTokenCredential()
    monkeypatch.setattr(sovaudit.sources.azure.credentials, "default_credential", lambda tenant_id=None, client_id=None: token)
    return token


def _events(start: datetime, count: int, step: timedelta = timedelta(minutes=7)) -> list[dict]:
    return [activity_rest_event(start + n * step, n=n) for n in range(count)]


def _spec(server, **extra):
    return config_from_flags("azure-activity", subscription=SUBSCRIPTION, endpoint=server.url, **extra)


def _iso(ts: datetime) -> str:
    return ts.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_pages_follow_next_link_survive_a_429_and_are_archived_as_sent(activity_server, credential, tmp_path):
    start = recent(days=3)
    events = _events(start, 25)
    # The second request (the first nextLink) is throttled once; the SDK waits Retry-After and asks again.
    server = activity_server(events, page_size=10, canned={1: THROTTLED})
    lake = Lake(tmp_path / "lake")
    began = time.monotonic()
    result = pull_source(lake, _spec(server), since=_iso(start - timedelta(hours=1)), until=_iso(start + timedelta(days=1)))

    assert result.exit_code == 0, result.entry["failures"]
    assert result.counts == {"read": 25, "stored": 25, "duplicate": 0, "quarantined": 0}
    assert time.monotonic() - began >= 1.0  # Retry-After was honoured
    assert [r["query"].get("$skiptoken", ["0"])[0] for r in server.requests] == ["0", "10", "10", "20"]
    assert all(r["path"] == ACTIVITY_PATH and r["authorization"] == "Bearer test-token" for r in server.requests)
    first_filter = server.requests[0]["query"]["$filter"][0]
    assert first_filter == (f"eventTimestamp ge '{_iso(start - timedelta(hours=1))}' and "
                            f"eventTimestamp le '{_iso(start + timedelta(days=1))}'")

    pages = [i for i in result.entry["inputs"] if i["status"] == "ingested"]
    assert [p["page"] for p in pages] == [0, 1, 2]
    assert [lake.archive.read(p["blob"]) for p in pages] == server.served  # the bytes Azure sent, not re-serialised
    assert all(p["kind"] == "azure_activity_api" and p["subscription"] == SUBSCRIPTION for p in pages)

    rows = lake.sql("SELECT event_uid, evidence_blob, evidence_index, account, action, action_class, actor, src_ip "
                    "FROM azure_activity").fetchall()
    assert {r[0] for r in rows} == {e["eventDataId"] for e in events}
    for uid, blob, index, account, action, action_class, actor, src_ip in rows:
        original = json.loads(lake.archive.read(blob))["value"][index]
        assert original["eventDataId"] == uid
        assert (account, action, action_class) == (SUBSCRIPTION, "Microsoft.Network/networkSecurityGroups/write", "config")
        assert actor == "rob@contoso.com" and src_ip == "111.111.1.111"


def test_server_filters_the_window_and_a_rerun_adds_only_new_events(activity_server, credential, tmp_path):
    start = recent(days=2)
    events = _events(start, 12)
    before_window = activity_rest_event(start - timedelta(days=5), n=99)
    server = activity_server([before_window, *events], page_size=5)
    lake = Lake(tmp_path / "lake")
    spec = _spec(server)

    first = pull_source(lake, spec, since=_iso(start - timedelta(hours=2)))
    assert first.counts["stored"] == 12 and first.exit_code == 0
    assert lake.sql("SELECT count(*) FROM azure_activity WHERE event_uid = ?",
                    [before_window["eventDataId"]]).fetchall() == [(0,)]

    # No --since: it goes on from where the last pull ended (less an hour for late arrivals).
    newer = [activity_rest_event(datetime.now(UTC) - timedelta(minutes=20), n=500 + n) for n in range(3)]
    server.events.extend(newer)
    asked = len(server.requests)
    second = pull_source(lake, spec)
    assert second.exit_code == 0
    assert second.counts["stored"] == 3
    assert_counts_add_up(second)
    window = server.requests[asked]["query"]["$filter"][0]
    last_end = datetime.fromisoformat(first.entry["inputs"][0]["end"].replace("Z", "+00:00"))
    assert window.startswith(f"eventTimestamp ge '{_iso(last_end - timedelta(hours=1))}'")
    assert lake.sql("SELECT count(*) FROM azure_activity").fetchall() == [(15,)]


def test_a_window_beyond_90_days_warns_and_pulls_what_exists(activity_server, credential, tmp_path):
    events = _events(recent(days=10), 4)
    server = activity_server(events, page_size=50)
    result = pull_source(Lake(tmp_path / "lake"), _spec(server), since="200d")
    assert result.exit_code == 0 and result.counts["stored"] == 4
    [warning] = [n for n in result.notes if "90 days" in n]
    assert "cannot be pulled" in warning and "azure-storage" in warning
    asked_from = server.requests[0]["query"]["$filter"][0].split("'")[1]
    oldest = datetime.fromisoformat(asked_from.replace("Z", "+00:00"))
    assert abs(oldest - (datetime.now(UTC) - timedelta(days=90))) < timedelta(minutes=5)


def test_a_401_is_one_clear_error_naming_the_subscription_and_exit_3(activity_server, credential, tmp_path):
    server = activity_server(_events(recent(days=1), 3), page_size=50, canned={0: REFUSED})
    runner = CliRunner()
    out = runner.invoke(app, ["pull", "azure-activity", "--subscription", SUBSCRIPTION, "--endpoint", server.url,
                              "--lake", str(tmp_path / "lake"), "--since", "2d", "--format", "json"])
    assert out.exit_code == 3, out.output
    [failure] = json.loads(out.stdout)[0]["failures"]
    message = failure["error"]
    assert SUBSCRIPTION in message and server.url in message
    assert "refused or have expired" in message and "401" in message and "InvalidAuthenticationToken" in message
    assert len(server.requests) == 1  # a refusal is not retried


def test_an_expired_credential_is_a_clear_error_before_any_request(activity_server, monkeypatch, tmp_path):
    expired = StaticTokenCredential(error="AADSTS700082: The refresh token has expired due to inactivity.")
    monkeypatch.setattr(sovaudit.sources.azure.credentials, "default_credential", lambda tenant_id=None, client_id=None: expired)
    server = activity_server([], page_size=50)
    result = pull_source(Lake(tmp_path / "lake"), _spec(server), since="1d")
    assert result.exit_code == 3
    [failure] = result.entry["failures"]
    assert SUBSCRIPTION in failure["error"] and "AADSTS700082" in failure["error"]
    assert "sign in again" in failure["error"]
    assert server.requests == []


def test_tenant_and_client_from_the_config_reach_the_credential(activity_server, monkeypatch, tmp_path):
    asked = {}

    def credential(tenant_id=None, client_id=None):
        asked.update(tenant_id=tenant_id, client_id=client_id)
        return StaticTokenCredential()

    monkeypatch.setattr(sovaudit.sources.azure.credentials, "default_credential", credential)
    server = activity_server(_events(recent(days=1), 2), page_size=50)
    client = "0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b"
    config = tmp_path / "sovaudit.toml"
    config.write_text(f'[[sources]]\nname = "prod-activity"\ntype = "azure-activity"\nsubscription = "{SUBSCRIPTION}"\n'
                      f'endpoint = "{server.url}"\ntenant_id = "contoso.onmicrosoft.com"\nclient_id = "{client}"\n')
    out = CliRunner().invoke(app, ["pull", "--config", str(config), "--lake", str(tmp_path / "lake"), "--since", "2d",
                                   "--format", "json"])
    assert out.exit_code == 0, out.output
    assert json.loads(out.stdout)[0]["counts"]["stored"] == 2
    assert asked == {"tenant_id": "contoso.onmicrosoft.com", "client_id": client}
    source = Lake(tmp_path / "lake").ledger.entries()[-1]["source"]
    assert source["type"] == "azure-activity" and source["subscription"] == SUBSCRIPTION


def test_an_unreachable_endpoint_exits_3_quickly_naming_it(credential, tmp_path):
    endpoint = f"https://127.0.0.1:{free_port()}"
    began = time.monotonic()
    result = pull_source(Lake(tmp_path / "lake"),
                         config_from_flags("azure-activity", subscription=SUBSCRIPTION, endpoint=endpoint),
                         since="1d")
    assert result.exit_code == 3
    assert time.monotonic() - began < 60
    [failure] = result.entry["failures"]
    assert endpoint in failure["error"] and "cannot reach" in failure["error"]
