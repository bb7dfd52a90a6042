"""The Kafka checks end to end against the real broker: topics, audit events and lineage headers made on it,
pulled through the broker inputs by `sovaudit scan`, which judges them and writes the report set."""

import json
import uuid
from datetime import UTC, datetime, timedelta

from conftest import run_cli
from kafka_fixtures import audit_event, encoded

DAY_MS = 86_400_000


def test_a_live_cluster_mirroring_a_classed_topic_abroad_is_found(kafka_broker, tmp_path):
    run = uuid.uuid4().hex[:6]
    classed, mirror, audit_topic = f"pii{run}.orders", f"emea{run}.pii{run}.orders", f"audit{run}"
    kafka_broker.create_topic(classed, 1, {"retention.ms": str(400 * DAY_MS), "cleanup.policy": "delete"})
    kafka_broker.create_topic(mirror, 1, {"retention.ms": str(7 * DAY_MS), "cleanup.policy": "delete"})
    kafka_broker.create_topic(audit_topic, 1, {"retention.ms": str(3 * DAY_MS)})
    kafka_broker.create_topic(f"public{run}.catalogue", 1, {"retention.ms": "-1"})
    kafka_broker.produce(classed, [b"{}", b"{}"], partition=0,
                         headers=[[("region_origin", b"eu-central-1")], [("region_origin", b"us-west-2")]])
    now = datetime.now(UTC)
    stamp = lambda n: (now - timedelta(minutes=10 - n)).strftime("%Y-%m-%dT%H:%M:%S.000Z")  # noqa: E731
    events = [audit_event(n, cluster="lkc-live", topic=classed, principal="User:mm2", address="/12.0.0.77",
                          time_text=stamp(n)) for n in range(3)]
    for event in events:
        event["data"]["request"]["client_id"] = f"emea{run}->us|MirrorSourceConnector|replication-consumer"
    kafka_broker.produce(audit_topic, encoded(events), partition=0)

    lake, config = tmp_path / "lake", tmp_path / "sovaudit.toml"
    config.write_text(f"""
[organisation]
evidence_period_days = 30

[[data_classes]]
name = "pii"
home = "EU"
tier = 1
retention_days = 365
topics = ["pii{run}.*"]

[[sources]]
name = "audit"
type = "kafka-audit"
bootstrap = "{kafka_broker.bootstrap}"
topic = "{audit_topic}"
region = "eu-west-1"

[[sources]]
name = "inventory"
type = "kafka-inventory"
bootstrap = "{kafka_broker.bootstrap}"
region = "us-east-1"
mirror_aliases = ["emea{run}"]

[[sources]]
name = "lineage"
type = "kafka-lineage"
bootstrap = "{kafka_broker.bootstrap}"
topics = ["{classed}"]
region = "eu-west-1"
""")
    since, until = (now - timedelta(hours=1)).isoformat(), (now + timedelta(hours=1)).isoformat()
    proc = run_cli("scan", "--config", str(config), "--lake", str(lake), "--out", str(tmp_path / "out"),
                   "--since", since, "--until", until)
    assert proc.returncode == 1, proc.stdout[-2000:] + proc.stderr[-2000:]
    doc = json.loads((tmp_path / "out" / "findings.json").read_text())
    assert {c["source"] for c in doc["coverage"]} == {"kafka_audit", "kafka_topics", "kafka_lineage"}
    assert {c["id"] for c in doc["checks"] if c["status"] == "NOT_ASSESSED"} == {
        c["id"] for c in doc["checks"] if c.get("out_of_scope")}  # only the clouds never pulled
    results = {c["id"]: c for c in doc["checks"]}
    assert {c: results[c]["status"] for c in ("EG-004", "RT-004", "XR-005", "IN-006")} == {
        "EG-004": "FAIL", "RT-004": "FAIL", "XR-005": "FAIL", "IN-006": "FAIL"}
    assert {c: results[c]["status"] for c in ("XR-004", "IN-005", "IN-007")} == {
        "XR-004": "PASS", "IN-005": "PASS", "IN-007": "PASS"}
    assert (tmp_path / "out" / "report.pdf").exists()
    eg = sorted(f["reason"] for f in results["EG-004"]["findings"])
    assert eg[0].startswith(f"MirrorMaker 2 flow emea{run}->us replicated topic {classed} (pii data, home EU)")
    assert eg[0].endswith("to a consumer from an address registered to US, address 12.0.0.77")
    assert eg[1] == (f"topic pii{run}.orders (pii data, home EU) is mirrored by MirrorMaker 2 (alias emea{run}) as "
                     f"{mirror} on cluster {kafka_broker.cluster_id} in us-east-1 (US)")
    [retention] = results["RT-004"]["findings"]  # the mirror keeps a week: within the class's limit
    assert retention["resource"] == f"{kafka_broker.cluster_id}/{classed}"
    assert "retention.ms=34560000000 keeps messages 400.0 days, longer than the 365 days" in retention["reason"]
    [origin] = results["XR-005"]["findings"]
    assert origin["evidence"] == [f"{kafka_broker.cluster_id}/{classed}/0@1"] and origin["counterpart_jurisdiction"] == "US"
    # The broker is shared: other tests' audit-log topics may be judged too.
    assert f"{kafka_broker.cluster_id}/{audit_topic}" in {f["resource"] for f in results["IN-006"]["findings"]}
