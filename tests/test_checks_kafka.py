"""Kafka check paths the Acme Retail scenario does not plant: a compacted or over-long classed topic (RT-004),
a region_origin that names no place and one given as a country code (XR-005), a mirror on a cluster whose
region is not configured (EG-004), a denied truncation of a configured audit-log topic (IN-007) and that
topic's short retention (IN-006), denied reads from abroad (XR-004 stays quiet) and the MirrorMaker 2
client-id parser."""

import json
from pathlib import Path

import pytest

from sovaudit.checks.runner import run_checks
from sovaudit.config import LoadedConfig, parse_config
from sovaudit.lake import Lake
from sovaudit.pull import pull_source
from sovaudit.sources.kafka.config import (
    KafkaInventorySourceConfig,
    KafkaLineageSourceConfig,
)

DAY_MS = 86_400_000
EU, NOWHERE = "ClusterEu0000000000001", "ClusterXx0000000000001"
POLICY = """\
[organisation]
evidence_period_days = 90

[[data_classes]]
name = "pii"
home = "EU"
tier = 1
retention_days = 30
topics = ["pii.*"]

[[sources]]
name = "audit"
type = "kafka-audit"
path = "{audit}"
topic = "acme-audit"
region = "eu-west-1"
"""


def _lines(path: Path, records: list[dict]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def _topic(cluster: str, topic: str, retention_ms: int, cleanup: str, at: str = "2024-01-02T00:00:00Z") -> dict:
    return {"snapshot_time": at, "cluster_id": cluster, "topic": topic, "partitions": 3, "replication_factor": 3,
            "configs": {"retention.ms": str(retention_ms), "retention.bytes": "1073741824" if topic == "acme-audit"
                        else "-1", "cleanup.policy": cleanup}}


def _message(offset: int, origin: str) -> dict:
    return {"kafka": {"cluster_id": EU, "topic": "pii.orders", "partition": 0, "offset": offset,
                      "timestamp": 1704189600000 + offset * 1000},
            "headers": {"region_origin": origin}}


def _audit(uid: str, method: str, operation: str, topic: str, ip: str, granted: bool, client_id: str = "app-1") -> dict:
    crn = f"crn://mds.example/kafka={EU}"
    return {"specversion": "1.0", "id": uid, "source": crn, "type": "io.confluent.kafka.server/authorization",
            "time": "2024-01-02T12:00:00.000Z", "subject": f"{crn}/topic={topic}",
            "data": {"serviceName": crn, "methodName": method, "resourceName": f"{crn}/topic={topic}",
                     "authenticationInfo": {"principal": "User:ops"},
                     "authorizationInfo": {"granted": granted, "operation": operation, "resourceType": "Topic",
                                           "resourceName": topic, "patternType": "LITERAL"},
                     "request": {"client_id": client_id, "correlation_id": "1"},
                     "requestMetadata": {"client_address": f"/{ip}"}}}


@pytest.fixture(scope="module")
def kafka_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("kafka-checks")
    _lines(root / "inventory-eu" / "s.ndjson", [
        _topic(EU, "pii.orders", 400 * DAY_MS, "delete"),           # RT-004: longer than 30 days
        _topic(EU, "pii.profiles", -1, "compact"),                   # RT-004: compacted, kept by key forever
        _topic(EU, "pii.sessions", 7 * DAY_MS, "delete"),            # quiet
        _topic(EU, "public.catalogue", -1, "delete"),                # not classed: quiet
        _topic(EU, "acme-audit", 30 * DAY_MS, "delete"),             # IN-006: the configured audit topic, 30 < 90 days
        _topic(EU, "confluent-audit-log-events_denied", -1, "delete"),  # kept forever: quiet
    ])
    _lines(root / "inventory-nowhere" / "s.ndjson", [
        _topic(NOWHERE, "eu.pii.orders", 7 * DAY_MS, "delete"),      # EG-004: a cluster with no region
        _topic(NOWHERE, "eu.heartbeats", DAY_MS, "delete"),
    ])
    _lines(root / "lineage" / "m.ndjson", [
        _message(0, "eu-west-1"), _message(1, "DE"), _message(2, "westeurope"),  # quiet: all EU
        _message(3, "Mars-1"), _message(4, "Mars-1"),                            # unplaceable
        _message(5, "US"),                                                       # a country code abroad
    ])
    _lines(root / "audit" / "a.ndjson", [
        _audit("truncate", "kafka.DeleteRecords", "Delete", "acme-audit", "10.0.0.5", granted=False),
        _audit("read-denied", "kafka.FetchConsumer", "Read", "pii.orders", "12.0.0.77", granted=False),
        _audit("read-eu", "kafka.FetchConsumer", "Read", "pii.orders", "217.0.0.41", granted=True),
    ])
    config = root / "sovaudit.toml"
    config.write_text(POLICY.format(audit=root / "audit"), encoding="utf-8")
    loaded = LoadedConfig(config=parse_config(config.read_text(), config), path=config)
    lake = Lake(root / "lake")
    for spec in [*loaded.config.sources,
                 KafkaInventorySourceConfig(name="inv-eu", type="kafka-inventory", path=str(root / "inventory-eu"),
                                            region="eu-west-1"),
                 KafkaInventorySourceConfig(name="inv-x", type="kafka-inventory", path=str(root / "inventory-nowhere")),
                 KafkaLineageSourceConfig(name="lineage", type="kafka-lineage", path=str(root / "lineage"),
                                          region="eu-west-1")]:
        counts = pull_source(lake, spec).counts
        assert counts["read"] == counts["stored"] and not counts["quarantined"], (spec.name, counts)
    run = run_checks(lake, loaded, since="2024-01-01", until="2024-01-03",
                     check_ids=["XR-004", "XR-005", "EG-004", "RT-004", "IN-006", "IN-007"])
    return {r.check.id: r for r in run.results}


def test_retention_of_compacted_and_over_long_classed_topics(kafka_run):
    reasons = sorted(f.reason for f in kafka_run["RT-004"].findings)
    assert reasons == [
        f"topic pii.orders on cluster {EU}: retention.ms=34560000000 keeps messages 400.0 days, longer than the 30 "
        "days pii data may be kept",
        f"topic pii.profiles on cluster {EU}: cleanup.policy=compact: the latest message of every key is kept with no "
        "time limit; pii data must be deleted after 30 days"]
    assert {f.region_jurisdiction for f in kafka_run["RT-004"].findings} == {"EU"}


def test_a_region_origin_that_names_no_place_is_reported_not_read_as_home(kafka_run):
    findings = {f.details["region_origin"]: f for f in kafka_run["XR-005"].findings}
    assert set(findings) == {"Mars-1", "US"}
    assert findings["Mars-1"].counterpart_jurisdiction is None and findings["Mars-1"].event_count == 2
    assert "region_origin Mars-1, which names no known region or country" in findings["Mars-1"].reason
    assert findings["US"].counterpart_jurisdiction == "US" and findings["US"].region_jurisdiction == "EU"
    assert findings["US"].evidence == [f"{EU}/pii.orders/0@5"]


def test_a_mirror_on_a_cluster_without_a_region_cannot_be_placed(kafka_run):
    [finding] = kafka_run["EG-004"].findings
    assert finding.resource == f"{NOWHERE}/eu.pii.orders" and finding.region_jurisdiction is None
    assert finding.reason == (f"topic pii.orders (pii data, home EU) is mirrored by MirrorMaker 2 (alias eu) as "
                              f"eu.pii.orders on cluster {NOWHERE}, whose region is not configured and cannot be "
                              "placed in a jurisdiction")


def test_the_audit_topic_named_by_a_source_is_watched(kafka_run):
    [short] = kafka_run["IN-006"].findings
    assert short.resource == f"{EU}/acme-audit"
    assert short.reason == (f"audit-log topic acme-audit on cluster {EU} deletes events after 30.0 days "
                            "(retention.ms=2592000000), or beyond 1073741824 bytes per partition, before the 90-day "
                            "evidence period the organisation declares")
    [truncation] = kafka_run["IN-007"].findings
    assert truncation.evidence == ["truncate"]
    assert "kafka.DeleteRecords on audit-log topic acme-audit" in truncation.reason
    assert "attempted and denied (DENIED) by User:ops from 10.0.0.5" in truncation.reason


def test_denied_reads_from_abroad_are_not_reads(kafka_run):
    assert kafka_run["XR-004"].status == "PASS"
    assert kafka_run["XR-004"].status_reason == "no findings in 3 kafka_audit events"


@pytest.mark.parametrize(("client_id", "flow"), [
    ("emea->us|MirrorSourceConnector|replication-consumer", {"source": "emea", "target": "us",
                                                              "connector": "MirrorSourceConnector"}),
    ("my-id|a->b|MirrorSourceConnector", {"source": "a", "target": "b", "connector": "MirrorSourceConnector"}),
    ("consumer-loyalty-1", None),
    ("a->b", None),
    (None, None),
])
def test_mirror_flow_reads_mirrormaker_client_ids(client_id, flow, tmp_path):
    from sovaudit.checks.session import open_session

    config = parse_config("", tmp_path / "sovaudit.toml")
    con, _, _ = open_session(Lake(tmp_path / "lake"), config, [])
    try:
        assert con.execute("SELECT checks.mirror_flow(?)", [client_id]).fetchall()[0][0] == flow
    finally:
        con.close()
