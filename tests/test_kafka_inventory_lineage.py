"""`pull kafka-inventory` and `pull kafka-lineage` against the real broker, with topics the tests create."""

import json
import uuid
from datetime import UTC, datetime, timedelta

from conftest import run_cli

import sovaudit.sources.kafka.lineage as kafka_lineage
from sovaudit import open_lake
from sovaudit.lake import Lake
from sovaudit.pull import pull_source
from sovaudit.sources import config_from_flags

WEEK_MS = str(7 * 24 * 3600 * 1000)


def test_inventory_snapshots_retention_and_mirrormaker2_artefacts(kafka_broker, tmp_path):
    run = uuid.uuid4().hex[:6]
    eu, ap = f"eu{run}", f"ap{run}"  # source-cluster aliases, unique to this test on the shared broker
    topics = {
        f"{eu}.loyalty.transactions": {"retention.ms": "-1", "cleanup.policy": "delete"},  # mirrored from eu
        f"{eu}.heartbeats": {},
        f"{eu}.checkpoints.internal": {"cleanup.policy": "compact"},
        f"mm2-offset-syncs.{eu}.internal": {"cleanup.policy": "compact"},
        f"mm2-configs.{eu}.internal": {"cleanup.policy": "compact"},
        f"{ap}.metrics": {},  # mirrored from ap: known only from the configured alias
        f"orders{run}.v2": {"retention.ms": WEEK_MS, "retention.bytes": "1073741824", "cleanup.policy": "compact,delete"},
    }
    for name, config in topics.items():
        kafka_broker.create_topic(name, 1, config)
    if "heartbeats" not in kafka_broker.admin().list_topics(timeout=10).topics:
        kafka_broker.create_topic("heartbeats")

    lake_dir = tmp_path / "lake"
    cli = run_cli("pull", "kafka-inventory", "--bootstrap", kafka_broker.bootstrap, "--region", "us-east-1",
                  "--mirror-alias", ap, "--lake", str(lake_dir), "--format", "json")
    assert cli.returncode == 0, cli.stderr
    [summary] = json.loads(cli.stdout)
    assert summary["counts"]["stored"] == summary["counts"]["read"] >= len(topics) + 1
    lake = open_lake(lake_dir)
    got = {r[0]: r[1:] for r in lake.sql(
        "SELECT topic, mm2_role, mirror_alias, mirrored_topic, retention_ms, retention_bytes, cleanup_policy "
        "FROM kafka_topics").fetchall()}
    assert got[f"{eu}.loyalty.transactions"] == ("remote_topic", eu, "loyalty.transactions", -1, -1, "delete")
    assert got[f"{ap}.metrics"][:3] == ("remote_topic", ap, "metrics")
    assert got[f"{eu}.heartbeats"][0] == "remote_heartbeats"
    assert got["heartbeats"][0] == "heartbeats"
    assert got[f"{eu}.checkpoints.internal"][:2] == ("checkpoints", None)
    assert got[f"mm2-offset-syncs.{eu}.internal"][0] == "offset_syncs"
    assert got[f"mm2-configs.{eu}.internal"][0] == "mm2_internal"
    assert got[f"orders{run}.v2"] == (None, None, None, int(WEEK_MS), 1073741824, "compact,delete")
    [(cluster, region, snapshot, configs)] = lake.sql(
        "SELECT cluster_id, region, snapshot_time, configs FROM kafka_topics WHERE topic = ?",
        [f"orders{run}.v2"]).fetchall()
    assert (cluster, region) == (kafka_broker.cluster_id, "us-east-1")
    assert datetime.now(UTC) - snapshot < timedelta(minutes=5)
    assert json.loads(configs)["min.insync.replicas"] == "1"
    assert lake.sql("SELECT count(*) FROM events").fetchall() == [(0,)]  # not audit events

    again = run_cli("pull", "kafka-inventory", "--bootstrap", kafka_broker.bootstrap, "--lake", str(lake_dir))
    assert again.returncode == 0, again.stderr
    assert open_lake(lake_dir).sql("SELECT count(DISTINCT snapshot_time) FROM kafka_topics WHERE topic = ?",
                                   [f"orders{run}.v2"]).fetchall() == [(2,)]


def _headers(n: int, region: str) -> list[tuple[str, bytes]]:
    return [("region_origin", region.encode()), ("encryption_key_id", f"kms-key-{n % 2}".encode()),
            ("processing_timestamp", f"2026-03-02T09:00:0{n}Z".encode()), ("tenant", b"acme"),
            ("not-asked-for", b"dropped"), ("x-binary", b"\xff\x00")]


class _NoValues:
    """A consumer whose messages refuse value(): the lineage pull must never ask for one."""

    class Message:
        def __init__(self, message):
            self._message = message

        def value(self):
            raise AssertionError("kafka-lineage read a message value")

        def __getattr__(self, name):
            return getattr(self._message, name)

    def __init__(self, consumer):
        self._consumer = consumer

    def consume(self, *args, **kwargs):
        return [self.Message(m) for m in self._consumer.consume(*args, **kwargs)]

    def __getattr__(self, name):
        return getattr(self._consumer, name)


def test_lineage_keeps_headers_only_and_never_reads_or_stores_values(kafka_broker, tmp_path, monkeypatch):
    topic = f"eu.loyalty.transactions.{uuid.uuid4().hex[:6]}"
    kafka_broker.create_topic(topic, 2)
    marker = f"VALUE-{uuid.uuid4().hex}"
    values = [json.dumps({"card": "4111111111111111", "marker": marker}).encode() for _ in range(6)]
    kafka_broker.produce(topic, values[:4], partition=0,
                         headers=[_headers(n, "eu-west-1" if n < 3 else "us-east-1") for n in range(4)])
    kafka_broker.produce(topic, values[4:], partition=1, headers=[[], [("region_origin", b"eu-west-1")]])

    made = []
    real_consumer = kafka_lineage.make_consumer
    monkeypatch.setattr(kafka_lineage, "make_consumer", lambda spec: made.append(1) or _NoValues(real_consumer(spec)))
    lake_dir = tmp_path / "lake"
    spec = config_from_flags("kafka-lineage", bootstrap=kafka_broker.bootstrap, topics=[topic],
                                   headers=["tenant", "x-binary"], region="eu-west-1")
    result = pull_source(Lake(lake_dir), spec)
    assert made and result.counts == {"read": 6, "stored": 6, "duplicate": 0, "quarantined": 0}

    rows = open_lake(lake_dir).sql(
        'SELECT partition, "offset", region_origin, encryption_key_id, processing_timestamp, headers, cluster_id, '
        "region, message_time FROM kafka_lineage ORDER BY partition, \"offset\"").fetchall()
    assert [(r[0], r[1], r[2]) for r in rows] == [
        (0, 0, "eu-west-1"), (0, 1, "eu-west-1"), (0, 2, "eu-west-1"), (0, 3, "us-east-1"), (1, 0, None),
        (1, 1, "eu-west-1")]
    first = rows[0]
    assert (first[3], first[4], first[6], first[7]) == ("kms-key-0", "2026-03-02T09:00:00Z", kafka_broker.cluster_id,
                                                        "eu-west-1")
    assert json.loads(first[5]) == {"region_origin": "eu-west-1", "encryption_key_id": "kms-key-0",
                                    "processing_timestamp": "2026-03-02T09:00:00Z", "tenant": "acme",
                                    "x-binary": {"base64": "/wA="}}
    assert datetime.now(UTC) - first[8] < timedelta(minutes=5)
    assert json.loads(rows[4][5]) == {}  # a message without lineage headers is a row too: unlabelled data

    needles = (marker.encode(), b"4111111111111111")
    assert [p for p in lake_dir.rglob("*") if p.is_file() and any(n in p.read_bytes() for n in needles)] == []
    assert open_lake(lake_dir).sql("SELECT count(*) FROM events").fetchall() == [(0,)]

    again = pull_source(Lake(lake_dir), spec)
    assert again.counts["read"] == 0 and again.entry["inputs"] == []
