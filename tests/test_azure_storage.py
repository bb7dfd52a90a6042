"""Pulling Azure Monitor diagnostic exports: azure-storage-blob against a real Azurite on 127.0.0.1."""
# ruff: noqa: F811 (pytest fixtures imported from tests.azure_fixtures are test arguments)

import hashlib
import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from azure.storage.blob import AccountSasPermissions, ResourceTypes, generate_account_sas
from azure_fixtures import (  # noqa: F401 (azurite, storage_account are fixtures)
    AZURITE_ACCOUNT,
    AZURITE_KEY,
    KEY_VAULT_ID,
    STORAGE_ID,
    SUBSCRIPTION,
    activity_rest_event,
    append_export,
    azurite,
    connection_string,
    export_name,
    free_port,
    keyvault_record,
    put_export,
    storage_account,
    storage_record,
)
from conftest import assert_counts_add_up

from sovaudit.lake import Lake
from sovaudit.pull import pull_source
from sovaudit.sources import config_from_flags

HOUR = datetime(2026, 3, 2, 9, tzinfo=UTC)
ACTIVITY_ROOT = f"/SUBSCRIPTIONS/{SUBSCRIPTION.upper()}"
CONN_VAR = "SOVAUDIT_TEST_AZURE_LOGS"


def _activity_export_record(when: datetime, n: int) -> dict:
    """An activity event as the insights-activity-logs export writes it (resource-log shape)."""
    event = activity_rest_event(when, n=n)
    return {"time": event["eventTimestamp"], "resourceId": event["resourceId"].upper(),
            "operationName": event["operationName"]["value"].upper(), "category": "Administrative",
            "resultType": "Success", "resultSignature": "Succeeded.Created", "durationMs": 2826,
            "callerIpAddress": "111.111.111.11", "correlationId": event["correlationId"],
            "identity": {"authorization": event["authorization"], "claims": event["claims"]},
            "level": "Information", "location": "global", "properties": {"statusCode": "Created"}}


def _spec(account_url: str, since: str | None = None, **extra):
    return config_from_flags("azure-storage", account_url=account_url, connection_string_env=CONN_VAR, **extra)


def _env(monkeypatch, account_url: str) -> None:
    monkeypatch.setenv(CONN_VAR, connection_string(account_url))


def _ingested(result) -> list[dict]:
    return [i for i in result.entry["inputs"] if i["status"] == "ingested"]


def _standard_exports(service) -> dict[str, bytes]:
    """Two hours of Key Vault, Storage and activity exports in the documented layout."""
    written = {}
    for hour in (HOUR, HOUR + timedelta(hours=1)):
        written[("insights-logs-auditevent", export_name(KEY_VAULT_ID, hour))] = put_export(
            service, "insights-logs-auditevent", export_name(KEY_VAULT_ID, hour),
            [keyvault_record(hour + timedelta(minutes=m), op) for m, op in ((1, "KeyDecrypt"), (2, "KeyUnwrap"),
                                                                              (3, "VaultGet"))])
        written[("insights-logs-storageread", export_name(STORAGE_ID.upper(), hour))] = put_export(
            service, "insights-logs-storageread", export_name(STORAGE_ID.upper(), hour),
            [storage_record(hour + timedelta(minutes=m), "GetBlob", size=1000 * m) for m in (5, 6)])
        written[("insights-activity-logs", export_name(ACTIVITY_ROOT, hour))] = put_export(
            service, "insights-activity-logs", export_name(ACTIVITY_ROOT, hour),
            [_activity_export_record(hour + timedelta(minutes=9), n) for n in range(2)])
    return written


def test_export_layout_is_read_verbatim_into_both_tables(storage_account, azurite, monkeypatch, tmp_path):
    _env(monkeypatch, azurite)
    written = _standard_exports(storage_account)
    lake = Lake(tmp_path / "lake")
    result = pull_source(lake, _spec(azurite))

    assert result.exit_code == 0, result.entry["failures"]
    assert result.counts == {"read": 14, "stored": 14, "duplicate": 0, "quarantined": 0}
    ingested = _ingested(result)
    assert {(i["container"], i["name"]) for i in ingested} == set(written)
    for item in ingested:
        assert lake.archive.read(item["blob"]) == written[(item["container"], item["name"])]
        assert item["kind"] == "azure_blob" and item["offset"] == 0 and item["end"] == len(lake.archive.read(item["blob"]))
    # The containers this account does not export to are a note, not a failure.
    assert any("insights-logs-storagewrite" in n and "not exported" in n for n in result.notes)
    counts = dict(lake.sql("SELECT source, count(*) FROM events GROUP BY 1").fetchall())
    assert counts == {"azure_resource": 10, "azure_activity": 4}
    rows = lake.sql("SELECT event_uid, evidence_blob, evidence_index FROM events").fetchall()
    assert len(rows) == 14
    for uid, blob, index in rows:
        # Exports carry no eventDataId: the uid is the hash of the very line the row points at.
        line = lake.archive.read(blob).split(b"\n")[index]
        assert uid == "sha256:" + hashlib.sha256(json.dumps(json.loads(line), separators=(",", ":")).encode()).hexdigest()
    key_use = lake.sql("SELECT count(*), min(key_id), min(region) FROM events WHERE action_class = 'key_use'").fetchall()
    assert key_use == [(4, "https://kv-customers-weu.vault.azure.net/keys/customer-master/0f6a1c2b3d4e5f60718293a4b5c6d7e8",
                        "westeurope")]
    assert lake.sql("SELECT sum(bytes_out) FROM events WHERE action = 'GetBlob'").fetchall() == [(22000,)]


def test_second_pull_fetches_nothing_and_a_grown_append_blob_is_read_from_where_it_stopped(
        storage_account, azurite, monkeypatch, tmp_path):
    _env(monkeypatch, azurite)
    written = _standard_exports(storage_account)
    lake = Lake(tmp_path / "lake")
    first = pull_source(lake, _spec(azurite))
    assert first.counts["stored"] == 14

    again = pull_source(lake, _spec(azurite))
    assert again.exit_code == 0
    assert again.counts == {"read": 0, "stored": 0, "duplicate": 0, "quarantined": 0}
    assert again.entry["inputs"] == []
    assert any(f"{len(written)} blob(s) already ingested" in n for n in again.notes), again.notes

    # Azure Monitor appends to the current hour's blob: only the new bytes are read and stored.
    name = export_name(KEY_VAULT_ID, HOUR + timedelta(hours=1))
    before = len(written[("insights-logs-auditevent", name)])
    tail = append_export(storage_account, "insights-logs-auditevent", name,
                         [keyvault_record(HOUR + timedelta(hours=1, minutes=m), "KeySign") for m in (30, 31)])
    grown = pull_source(lake, _spec(azurite))
    assert grown.exit_code == 0
    [item] = _ingested(grown)
    assert (item["container"], item["name"], item["offset"], item["end"]) == (
        "insights-logs-auditevent", name, before, before + len(tail))
    assert lake.archive.read(item["blob"]) == tail
    assert grown.counts == {"read": 2, "stored": 2, "duplicate": 0, "quarantined": 0}
    assert any("read from where the last pull stopped" in n for n in grown.notes)
    assert lake.sql("SELECT count(*), count(DISTINCT event_uid) FROM events").fetchall() == [(16, 16)]
    signs = lake.sql("SELECT evidence_index FROM azure_resource WHERE action = 'KeySign' ORDER BY 1").fetchall()
    assert signs == [(0,), (1,)]  # positions inside the tail blob, which is what the archive holds

    # A block blob rewritten in place (another etag) is read whole; the records already held are duplicates.
    rewritten = export_name(STORAGE_ID.upper(), HOUR)
    records = [storage_record(HOUR + timedelta(minutes=m), "GetBlob", size=1000 * m) for m in (5, 6)]
    put_export(storage_account, "insights-logs-storageread", rewritten, records, append=False)
    last = pull_source(lake, _spec(azurite))
    [item] = _ingested(last)
    assert item["offset"] == 0 and item["name"] == rewritten
    assert last.counts["stored"] == 2  # new correlation ids, so new events; the counts still add up
    assert_counts_add_up(last)


def test_since_and_until_prune_by_the_hour_folders(storage_account, azurite, monkeypatch, tmp_path):
    _env(monkeypatch, azurite)
    for day_offset in range(0, 4):
        hour = HOUR + timedelta(days=day_offset)
        put_export(storage_account, "insights-logs-auditevent", export_name(KEY_VAULT_ID, hour),
                   [keyvault_record(hour + timedelta(minutes=1), "KeyDecrypt")])
    lake = Lake(tmp_path / "lake")
    spec = _spec(azurite, containers=["insights-logs-auditevent"])
    result = pull_source(lake, spec, since=(HOUR + timedelta(days=1)).isoformat(),
                         until=(HOUR + timedelta(days=2, minutes=30)).isoformat())
    assert result.exit_code == 0, result.entry["failures"]
    names = sorted(i["name"] for i in _ingested(result))
    assert names == [export_name(KEY_VAULT_ID, HOUR + timedelta(days=d)) for d in (1, 2)]
    assert result.counts["stored"] == 2


def test_damaged_lines_are_quarantined_and_the_rest_ingests(storage_account, azurite, monkeypatch, tmp_path):
    _env(monkeypatch, azurite)
    good = json.dumps(keyvault_record(HOUR, "KeyDecrypt")).encode()
    bad_utf8 = json.dumps(keyvault_record(HOUR, "KeyEncrypt", upn="agent-XX")).encode().replace(b"XX", b"\xff\xfe")
    cloudtrail = json.dumps({"eventID": "e1", "eventTime": "2026-03-02T09:00:00Z", "eventName": "GetObject"}).encode()
    no_time = json.dumps({k: v for k, v in keyvault_record(HOUR, "KeyGet").items() if k != "time"}).encode()
    body = b"\n".join([good, b'{"time": "2026-03-02T09:01:00Z", "operationName": ', bad_utf8, cloudtrail, no_time]) + b"\n"
    client = storage_account.get_container_client("insights-logs-auditevent")
    client.create_container()
    client.upload_blob(export_name(KEY_VAULT_ID, HOUR), body)

    result = pull_source(Lake(tmp_path / "lake"), _spec(azurite))
    assert result.exit_code == 3
    assert result.counts == {"read": 5, "stored": 1, "duplicate": 0, "quarantined": 4}
    lake = Lake(tmp_path / "lake")
    reasons = dict(lake.sql("SELECT record_index, reason FROM quarantine").fetchall())
    assert reasons[1].startswith("invalid JSON on line 2")
    assert reasons[2].startswith("non-UTF-8 byte 0xff")
    assert reasons[3].startswith("not an Azure Monitor record") and "eventID" in reasons[3]
    assert reasons[4] == "record has no time"


def _cli(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess:
    cwd.mkdir(parents=True, exist_ok=True)
    return subprocess.run([sys.executable, "-P", "-m", "sovaudit.cli", *args], env={**env, "COLUMNS": "200", "NO_COLOR": "1"},
                          cwd=cwd, capture_output=True, text=True, timeout=120, check=False)


def _everything_written(root: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file())


def test_connection_strings_and_sas_tokens_never_reach_ledger_lake_or_output(storage_account, azurite, tmp_path):
    _standard_exports(storage_account)
    lake_dir = tmp_path / "lake"
    env = {**os.environ, CONN_VAR: connection_string(azurite)}
    by_key = _cli(["pull", "azure-storage", "--account-url", azurite, "--connection-string-env", CONN_VAR,
                   "--lake", str(lake_dir)], env, tmp_path / "cwd")
    assert by_key.returncode == 0, by_key.stderr

    sas = generate_account_sas(AZURITE_ACCOUNT, AZURITE_KEY, ResourceTypes(container=True, object=True),
                               AccountSasPermissions(read=True, list=True),
                               expiry=datetime.now(UTC) + timedelta(hours=1))
    signature = dict(part.split("=", 1) for part in sas.split("&"))["sig"]
    by_sas = _cli(["pull", "azure-storage", "--account-url", f"{azurite}?{sas}", "--lake", str(tmp_path / "lake2"),
                   "--format", "json"], {**os.environ}, tmp_path / "cwd")
    assert by_sas.returncode == 0, by_sas.stderr
    assert json.loads(by_sas.stdout)[0]["counts"]["stored"] == 14

    written = _everything_written(lake_dir) + _everything_written(tmp_path / "lake2")
    output = (by_key.stdout + by_key.stderr + by_sas.stdout + by_sas.stderr).encode()
    for secret in (AZURITE_KEY, AZURITE_KEY[:20], signature):
        assert secret.encode() not in written, secret
        assert secret.encode() not in output, secret
    ledger_source = Lake(tmp_path / "lake2").ledger.entries()[-1]["source"]
    assert ledger_source["account_url"] == azurite  # the SAS query is cut off
    assert Lake(lake_dir).ledger.entries()[-1]["source"]["connection_string_env"] == CONN_VAR  # the name only


def test_a_wrong_account_key_is_one_clear_error_and_exit_3(storage_account, azurite, tmp_path):
    _standard_exports(storage_account)
    wrong = AZURITE_KEY[:-8] + "AAAAAAA="
    env = {**os.environ, CONN_VAR: connection_string(azurite, key=wrong)}
    proc = _cli(["pull", "azure-storage", "--account-url", azurite, "--connection-string-env", CONN_VAR,
                 "--container", "insights-logs-auditevent", "--lake", str(tmp_path / "lake")], env, tmp_path / "cwd")
    output = proc.stdout + proc.stderr
    assert proc.returncode == 3, output
    assert f"{azurite}/insights-logs-auditevent" in output and "refused" in output, output
    assert "Traceback" not in output and wrong not in output


def test_an_unreachable_account_exits_3_quickly_naming_it(tmp_path):
    account_url = f"http://127.0.0.1:{free_port()}/{AZURITE_ACCOUNT}"
    env = {**os.environ, CONN_VAR: connection_string(account_url)}
    began = time.monotonic()
    proc = _cli(["pull", "azure-storage", "--account-url", account_url, "--connection-string-env", CONN_VAR,
                 "--lake", str(tmp_path / "lake")], env, tmp_path / "cwd")
    output = proc.stdout + proc.stderr
    assert proc.returncode == 3, output
    assert time.monotonic() - began < 60
    assert account_url in output and "cannot reach" in output
    assert "Traceback" not in output

    # A SAS token in the URL: the failure names the account, and the signature is nowhere.
    sas = "sv=2025-01-05&ss=b&srt=co&sp=rl&se=2030-01-01T00%3A00%3A00Z&sig=c2VjcmV0LXNpZ25hdHVyZQ%3D%3D"
    proc = _cli(["pull", "azure-storage", "--account-url", f"{account_url}?{sas}", "--lake", str(tmp_path / "lake"),
                 "--format", "json"], {**os.environ}, tmp_path / "cwd")
    assert proc.returncode == 3
    assert account_url in proc.stdout and "c2VjcmV0LXNpZ25hdHVyZQ" not in proc.stdout + proc.stderr
    ledger = (tmp_path / "lake" / "ledger.jsonl").read_text()
    assert "c2VjcmV0LXNpZ25hdHVyZQ" not in ledger and "cannot reach" in ledger


def test_a_missing_connection_string_variable_is_a_usage_error(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != CONN_VAR}
    proc = _cli(["pull", "azure-storage", "--account-url", "https://logs.blob.core.windows.net",
                 "--connection-string-env", CONN_VAR, "--lake", str(tmp_path / "lake")], env, tmp_path / "cwd")
    assert proc.returncode == 2 and f"environment variable {CONN_VAR}" in proc.stderr
