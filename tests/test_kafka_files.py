"""Confluent audit events from files: the published samples, CloudEvents 0.3 and 1.0 (Platform and Cloud shapes),
authorization and authentication events on the common columns, bad input and bad config."""

import gzip
import json
from pathlib import Path

import pytest
from conftest import assert_counts_add_up, run_cli
from kafka_fixtures import KAFKA_SAMPLES, audit_event

from sovaudit import open_lake
from sovaudit.config import parse_config
from sovaudit.errors import ConfigError
from sovaudit.ingest.records import MAX_RECORD_BYTES
from sovaudit.lake import Lake
from sovaudit.pull import pull_source
from sovaudit.schema import COMMON_COLUMNS
from sovaudit.sources import config_from_flags

CLOUD = "crn://confluent.cloud/organization=9bb441c4-edef-46ac-8a41-c49e44a3fd9a/environment=env-q1w2e/cloud-cluster=lkc-a1b2c"


def pull_path(lake_dir: Path, path: Path | str, region: str | None = "eu-west-1"):
    return pull_source(Lake(lake_dir), config_from_flags("kafka-audit", path=str(path), region=region))


def rows(lake_dir: Path, query: str = "SELECT * FROM kafka_audit") -> dict[str, dict]:
    rel = open_lake(lake_dir).sql(query)
    return {r["event_uid"]: r for r in (dict(zip(rel.columns, t, strict=True)) for t in rel.fetchall())}


def cloud_authentication(n: int, status: str = "SUCCESS", ip: str = "8.8.8.8") -> dict:
    """Confluent Cloud's documented authentication event (specversion 1.0), with a client address list."""
    cluster = f"{CLOUD}/kafka=lkc-a1b2c"
    return {
        "type": "io.confluent.kafka.server/authentication", "specversion": "1.0", "id": f"cc-authn-{n}",
        "source": cluster, "subject": cluster, "time": f"2026-03-02T10:00:0{n}.123Z",
        "datacontenttype": "application/json",
        "data": {"methodName": "kafka.Authentication", "serviceName": cluster, "resourceName": cluster,
                 "authenticationInfo": {"principal": "User:123456",
                                        "metadata": {"mechanism": "SASL_SSL/PLAIN", "identifier": "MAIDSRFG53RXYTKR"}},
                 "requestMetadata": {"clientAddress": [{"ip": ip, "port": 51234}]},
                 "result": {"status": status, "message": "" if status == "SUCCESS" else "Authentication failed"}},
    }


def cloud_authorization(granted: bool) -> dict:
    cluster = f"{CLOUD}/kafka=lkc-a1b2c"
    return {
        "id": f"cc-authz-{granted}", "source": cluster, "specversion": "1.0",
        "type": "io.confluent.kafka.server/authorization", "datacontenttype": "application/json",
        "subject": f"{cluster}/topic=departures", "time": "2026-03-02T10:01:00.000Z",
        "data": {"serviceName": cluster, "methodName": "kafka.CreateTopics", "resourceName": f"{cluster}/topic=departures",
                 "authenticationInfo": {"principal": "User:sa-ops"},
                 "authorizationInfo": {"granted": granted, "operation": "Create", "resourceType": "Topic",
                                       "resourceName": "departures", "patternType": "LITERAL"},
                 "request": {"correlationId": "123", "clientId": "adminclient-42"},
                 "requestMetadata": {"client_address": "/[2001:4860:4860::8888]:40022"}},
    }


def test_every_json_sample_ingests_and_the_java_map_dump_is_quarantined(lake_dir):
    result = pull_path(lake_dir, KAFKA_SAMPLES)
    # 5 single-event files + the same 5 events as NDJSON (duplicates) + the non-JSON Java map dump.
    assert result.counts == {"read": 11, "stored": 5, "duplicate": 5, "quarantined": 1}
    assert result.exit_code == 3
    lake = open_lake(lake_dir)
    [(origin, reason)] = lake.sql("SELECT origin, reason FROM quarantine").fetchall()
    assert origin.endswith("kdp-ccloud-mds-authorize-specversion1.0.javamap.txt")
    assert reason.startswith("not JSON: a Java Map.toString() dump") and "JsonConverter" in reason
    ids = {json.loads(p.read_text())["id"] for p in KAFKA_SAMPLES.glob("kdp-0*.json")}
    assert set(rows(lake_dir)) == ids
    assert [tuple(r[:2]) for r in lake.sql("DESCRIBE events").fetchall()] == list(COMMON_COLUMNS)


def test_a_platform_sample_maps_onto_the_common_columns(lake_dir):
    pull_path(lake_dir, KAFKA_SAMPLES / "kdp-01-fetchconsumer-metadata-auth-456.json")
    [row] = rows(lake_dir, "SELECT * FROM events").values()
    assert row["event_uid"] == "7a1bd9a9-7923-4550-8603-dc48fbc5772f"
    assert (row["source"], row["account"], row["region"], row["service"]) == (
        "kafka_audit", "qL97v6UYSyOOwnIPIHurGg", "eu-west-1", "kafka")
    assert (row["action"], row["action_class"], row["outcome"], row["error_code"]) == (
        "kafka.FetchConsumer", "read", "success", None)
    assert (row["actor"], row["src_ip"], row["src_country"]) == ("User:admin", "192.168.176.4", None)  # private
    assert row["resource"] == "crn:///kafka=qL97v6UYSyOOwnIPIHurGg/topic=_confluent-metadata-auth"
    assert row["resource_region"] == "eu-west-1" and row["user_agent"] == "_confluent-metadata-auth-consumer-1"
    assert str(row["time"]) == "2020-03-31 10:00:03.532000+00:00"
    [native] = rows(lake_dir).values()
    assert (native["specversion"], native["ce_type"], native["route"], native["granted"], native["operation"],
            native["resource_type"], native["authz_resource_name"], native["correlation_id"]) == (
        "0.3", "io.confluent.kafka.server/authorization", "confluent-audit-log-events", True, "Read", "Topic",
        "_confluent-metadata-auth", "456")
    assert native["kafka_offset"] is None  # read from a file, not a broker


def test_cloud_events_10_authentication_and_denied_authorization(lake_dir, tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    events = [cloud_authentication(1), cloud_authentication(2, "UNAUTHENTICATED", ip="81.2.69.142"),
              cloud_authorization(True), cloud_authorization(False),
              audit_event(7, granted=False, principal="User:mallory", address="/8.8.4.4:50912")]
    (src / "events.ndjson").write_text("".join(json.dumps(e) + "\n" for e in events))
    result = pull_path(lake_dir, src, region="westeurope")
    assert result.counts == {"read": 5, "stored": 5, "duplicate": 0, "quarantined": 0}
    got = rows(lake_dir)
    ok, failed = got["cc-authn-1"], got["cc-authn-2"]
    assert (ok["action_class"], ok["outcome"], ok["actor"], ok["src_ip"], ok["src_country"]) == (
        "auth", "success", "User:123456", "8.8.8.8", "US")
    assert (failed["outcome"], failed["error_code"], failed["result_message"]) == (
        "failure", "UNAUTHENTICATED", "Authentication failed")
    assert failed["src_country"] == "GB"
    assert ok["account"] == "lkc-a1b2c" and ok["actor_account"] == "9bb441c4-edef-46ac-8a41-c49e44a3fd9a"
    assert ok["specversion"] == "1.0" and ok["region"] == "westeurope"
    granted, denied = got["cc-authz-True"], got["cc-authz-False"]
    assert (granted["action_class"], granted["outcome"], granted["user_agent"], granted["correlation_id"]) == (
        "config", "success", "adminclient-42", "123")
    assert (denied["outcome"], denied["error_code"], denied["src_ip"]) == ("failure", "DENIED", "2001:4860:4860::8888")
    platform_denied = got[audit_event(7)["id"]]
    assert (platform_denied["outcome"], platform_denied["actor"], platform_denied["src_ip"]) == (
        "failure", "User:mallory", "8.8.4.4")


def test_bad_input_is_quarantined_with_reasons_and_counts_add_up(lake_dir, tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    good = [audit_event(n) for n in range(3)]
    (src / "a.ndjson").write_bytes(b"".join(json.dumps(e).encode() + b"\n" for e in good)
                                   + b'{"id": "broken", "time": \n'  # malformed JSON line
                                   + json.dumps({"hello": "world"}).encode() + b"\n"  # wrong schema
                                   + json.dumps(audit_event(9)).encode().replace(b"User:sa-loyalty", b"User:\xff") + b"\n"
                                   + json.dumps({**audit_event(10), "time": "yesterday"}).encode() + b"\n")
    (src / "b.json.gz").write_bytes(gzip.compress(json.dumps(audit_event(11)).encode())[:-12])  # truncated gzip
    huge = audit_event(12)
    huge["data"]["padding"] = "x" * (MAX_RECORD_BYTES + 1)
    (src / "c.ndjson").write_text(json.dumps(huge) + "\n" + json.dumps(audit_event(13)) + "\n")
    result = pull_path(lake_dir, src)
    assert_counts_add_up(result)
    assert result.counts == {"read": 10, "stored": 4, "duplicate": 0, "quarantined": 6}
    reasons = sorted(r for (r,) in open_lake(lake_dir).sql("SELECT reason FROM quarantine").fetchall())
    assert any(r.startswith("invalid JSON on line 4") for r in reasons)
    assert any(r.startswith("record is not a Confluent audit event (CloudEvents): no specversion, type, data") for r in reasons)
    assert any(r.startswith("non-UTF-8 byte 0xff") for r in reasons)
    assert "event time is not a timestamp: yesterday" in reasons
    assert any(r.startswith("truncated or corrupt gzip") for r in reasons)
    assert f"record of {len(json.dumps(huge))} bytes exceeds the {MAX_RECORD_BYTES}-byte limit" in reasons

    cli = run_cli("pull", "kafka-audit", "--path", str(src), "--lake", str(tmp_path / "lake2"), "--format", "json")
    assert cli.returncode == 3, cli.stderr
    assert json.loads(cli.stdout)[0]["counts"]["quarantined"] == 6


def test_bad_config_is_one_line_naming_file_and_key_and_a_literal_secret_is_refused_unshown(tmp_path):
    with pytest.raises(ConfigError) as bad_region:
        parse_config('[[sources]]\nname = "k"\ntype = "kafka-audit"\nbootstrap = "no port here"\n', "cfg.toml")
    assert str(bad_region.value).startswith("cfg.toml: sources[0].bootstrap: found 'no port here', expected")
    with pytest.raises(ConfigError) as both:
        parse_config('[[sources]]\nname = "k"\ntype = "kafka-audit"\nbootstrap = "h:9092"\npath = "x"\n', "cfg.toml")
    assert "set exactly one of bootstrap (a broker) or path (files)" in str(both.value)
    config = tmp_path / "sovaudit.toml"
    config.write_text('[[sources]]\nname = "k"\ntype = "kafka-audit"\nbootstrap = "h:9092"\n'
                      'client = { "sasl.password" = "hunter2-literal" }\n')
    cli = run_cli("pull", "--config", str(config), "--lake", str(tmp_path / "lake"))
    assert cli.returncode == 2
    message = "".join(cli.stderr.splitlines())  # Rich wraps long lines on the terminal
    assert cli.stderr.count("error:") == 1 and "hunter2" not in cli.stderr + cli.stdout
    assert message == (f"error: {config}: sources[0].client: found keys sasl.password, expected sasl.password: "
                       "a ${ENV_VAR} reference, not the secret itself")


def test_help_of_every_kafka_verb_has_an_example():
    for verb in ("kafka-audit", "kafka-inventory", "kafka-lineage"):
        shown = run_cli("pull", verb, "--help")
        assert shown.returncode == 0 and "sovaudit pull " + verb in shown.stdout, shown.stdout


def test_missing_java_or_jars_fail_the_suite_under_ci_and_skip_elsewhere(monkeypatch):
    import kafka_fixtures

    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="need a real broker under CI: no java"):
        kafka_fixtures._missing("no java")
    monkeypatch.delenv("CI")
    with pytest.raises(pytest.skip.Exception):
        kafka_fixtures._missing("no java")


def test_scan_pulls_a_configured_kafka_source(tmp_path):
    config = tmp_path / "sovaudit.toml"
    config.write_text(f'[lake]\npath = "lake"\n\n[[sources]]\nname = "kafka-files"\ntype = "kafka-audit"\n'
                      f'path = "{KAFKA_SAMPLES}"\nregion = "eu-west-1"\n')
    scan = run_cli("scan", "--config", str(config), "--out", str(tmp_path / "out"), cwd=tmp_path)
    assert scan.returncode == 3, scan.stderr  # the Java map dump is quarantined: partial evidence
    coverage = {c["source"]: c["events"] for c in json.loads((tmp_path / "out" / "findings.json").read_text())["coverage"]}
    assert coverage["kafka_audit"] == 5
