"""The Kafka half of the Acme Retail scenario (sovaudit.demo.scenario).

Acme Retail streams loyalty transactions through Kafka: an EU cluster in eu-west-1 holds
`eu.loyalty.transactions` (customer PII), and a US cluster in us-east-1 receives MirrorMaker 2 copies of
EU topics under the EU cluster's alias `emea`. The clean traffic, over the same sixty days: the loyalty
service produces and its points service consumes every hour from the EU network, analysts read from EU
offices, UK support reads (the class's allowed transfer), a MirrorMaker 2 flow copies the topic to an EU
disaster-recovery cluster, and the US cluster mirrors only the unclassed product catalogue. A few denied
authorizations a day come from a misconfigured client, below a burst.

Logs, as the file inputs of `sovaudit pull kafka-audit|kafka-inventory|kafka-lineage --path` read them:
- the EU cluster's audit-log topic, exported as CloudEvents (Confluent Platform shapes, specversion 0.3
  and 1.0), one NDJSON file per ten days;
- a daily inventory snapshot of each cluster (one JSON line per topic with its configs);
- the lineage headers of messages on `eu.loyalty.transactions`.

`planted=True` adds a case for each Kafka check, with ids `planted-<check>-k<n>` for audit events; the
inventory and lineage rows carry the ids the lake gives them (cluster/topic@snapshot time,
cluster/topic/partition@offset).
"""

import gzip
import json
import random
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

EU_CLUSTER, US_CLUSTER = "AcmeEuKafkaCluster0001", "AcmeUsKafkaCluster0001"
EU_REGION, US_REGION = "eu-west-1", "us-east-1"
EU_ALIAS = "emea"  # the EU cluster's alias in MirrorMaker 2 flows
MDS = "crn://mds.acme-retail.example"
AUDIT_TOPIC = "confluent-audit-log-events"
LOYALTY_TOPIC = "eu.loyalty.transactions"
PII_TOPICS = ["eu.loyalty.*"]  # the customer-pii class's topic pattern
DAY_MS = 86_400_000
EU_NET, EU_OFFICE, UK_OFFICE, US_OFFICE, US_PARTNER = "10.20.6.31", "217.0.0.41", "81.2.69.142", "12.0.0.77", "12.0.0.78"
ATTACKER = "95.108.128.1"

# Each cluster's topics: retention.ms, cleanup.policy. Kafka's own and MirrorMaker 2's topics included, as an
# AdminClient snapshot lists them.
_EU_TOPICS = {
    LOYALTY_TOPIC: (30 * DAY_MS, "delete"),
    "eu.loyalty.members": (365 * DAY_MS, "compact,delete"),
    "eu.product-catalogue": (-1, "delete"),
    AUDIT_TOPIC: (400 * DAY_MS, "delete"),
    "__consumer_offsets": (7 * DAY_MS, "compact"),
    "heartbeats": (1 * DAY_MS, "delete"),
    "mm2-offset-syncs.dr.internal": (-1, "compact"),
}
_US_TOPICS = {
    "us.purchase-orders": (2555 * DAY_MS, "delete"),
    f"{EU_ALIAS}.eu.product-catalogue": (-1, "delete"),
    f"{EU_ALIAS}.heartbeats": (1 * DAY_MS, "delete"),
    "heartbeats": (1 * DAY_MS, "delete"),
    "__consumer_offsets": (7 * DAY_MS, "compact"),
}


@dataclass
class KafkaHalf:
    audit: list[dict[str, Any]] = field(default_factory=list)  # the EU cluster's audit events
    inventory: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # cluster id -> snapshot rows
    lineage: list[dict[str, Any]] = field(default_factory=list)  # header records of EU messages
    times: dict[str, datetime] = field(default_factory=dict)  # every row's lake event_uid -> its time


def _stamp(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


class KafkaBuilder:
    def __init__(self, seed: int, expected: dict[str, set[str]]):
        self.rng = random.Random(seed)
        self.half = KafkaHalf()
        self.expected = expected
        self.offsets: dict[int, int] = {}

    def _plant(self, uid: str, planted: str | None) -> None:
        if planted:
            self.expected.setdefault(planted, set()).add(uid)

    def audit(self, when: datetime, method: str, operation: str, topic: str, principal: str, ip: str, client_id: str,
              *, granted: bool = True, planted: str | None = None) -> str:
        if planted:
            uid = f"planted-{planted}-k{sum(u.startswith(f'planted-{planted}-k') for u in self.expected.get(planted, ())) + 1:02d}"
        else:
            uid = str(uuid.UUID(int=self.rng.getrandbits(128), version=4))
        cluster = f"{MDS}/kafka={EU_CLUSTER}"
        event = {
            "id": uid, "source": cluster, "specversion": "1.0" if self.rng.random() < 0.5 else "0.3",
            "type": "io.confluent.kafka.server/authorization", "time": _stamp(when),
            "datacontenttype": "application/json", "subject": f"{cluster}/topic={topic}",
            "confluentRouting": {"route": AUDIT_TOPIC},
            "data": {
                "serviceName": cluster, "methodName": method, "resourceName": f"{cluster}/topic={topic}",
                "authenticationInfo": {"principal": principal},
                "authorizationInfo": {"granted": granted, "operation": operation, "resourceType": "Topic",
                                      "resourceName": topic, "patternType": "LITERAL"},
                "request": {"correlation_id": str(self.rng.randrange(1, 10**6)), "client_id": client_id},
                "requestMetadata": {"client_address": f"/{ip}"},
            },
        }
        self.half.audit.append(event)
        self.half.times[uid] = when
        self._plant(uid, planted)
        return uid

    def snapshot(self, when: datetime, cluster: str, topics: dict[str, tuple[int, str]],
                 planted: dict[str, str] | None = None) -> None:
        stamp = when.strftime("%Y-%m-%dT%H:%M:%SZ")
        rows = self.half.inventory.setdefault(cluster, [])
        for topic, (retention_ms, cleanup) in sorted(topics.items()):
            rows.append({"snapshot_time": stamp, "cluster_id": cluster, "topic": topic,
                         "partitions": 50 if topic == "__consumer_offsets" else 6, "replication_factor": 3,
                         "configs": {"retention.ms": str(retention_ms), "retention.bytes": "-1",
                                     "cleanup.policy": cleanup, "min.insync.replicas": "2"}})
            uid = f"{cluster}/{topic}@{stamp}"
            self.half.times[uid] = when
            self._plant(uid, (planted or {}).get(topic))

    def message(self, when: datetime, origin: str, key_id: str, planted: str | None = None) -> None:
        partition = self.rng.randrange(6)
        offset = self.offsets.get(partition, 0)
        self.offsets[partition] = offset + 1
        ms = int(when.timestamp() * 1000)
        self.half.lineage.append({
            "kafka": {"cluster_id": EU_CLUSTER, "topic": LOYALTY_TOPIC, "partition": partition, "offset": offset,
                      "timestamp": ms},
            "headers": {"region_origin": origin, "encryption_key_id": key_id,
                        "processing_timestamp": _stamp(when)}})
        uid = f"{EU_CLUSTER}/{LOYALTY_TOPIC}/{partition}@{offset}"
        self.half.times[uid] = datetime.fromtimestamp(ms / 1000, when.tzinfo)
        self._plant(uid, planted)


def build_kafka(start: datetime, days: int, window: datetime, planted: bool, seed: int, key_id: str,
                expected: dict[str, set[str]]) -> KafkaHalf:
    b = KafkaBuilder(seed, expected)
    rng = b.rng
    for day in range(days):
        midnight = start + timedelta(days=day)
        for hour in range(24):
            at = midnight + timedelta(hours=hour)
            b.audit(at + timedelta(seconds=rng.randrange(3600)), "kafka.Produce", "Write", LOYALTY_TOPIC,
                    "User:loyalty-api", EU_NET, "loyalty-api-producer-1")
            b.audit(at + timedelta(seconds=rng.randrange(3600)), "kafka.FetchConsumer", "Read", LOYALTY_TOPIC,
                    "User:loyalty-points", EU_NET, "loyalty-points-consumer-1")
            if hour % 4 == 0:
                b.message(at + timedelta(seconds=rng.randrange(3600)), rng.choice([EU_REGION, "eu-central-1"]), key_id)
        b.audit(midnight + timedelta(hours=9, seconds=rng.randrange(3600)), "kafka.FetchConsumer", "Read",
                LOYALTY_TOPIC, "User:marie.dupont", EU_OFFICE, "analyst-notebook")
        b.audit(midnight + timedelta(hours=10, seconds=rng.randrange(3600)), "kafka.FetchConsumer", "Read",
                LOYALTY_TOPIC, "User:uk-support-agent", UK_OFFICE, "support-console")
        # MirrorMaker 2 copies the topic to the EU disaster-recovery cluster: an allowed, in-home flow.
        b.audit(midnight + timedelta(hours=2, seconds=rng.randrange(3600)), "kafka.FetchConsumer", "Read",
                LOYALTY_TOPIC, "User:mm2", EU_OFFICE, f"{EU_ALIAS}->dr|MirrorSourceConnector|replication-consumer")
        for _ in range(rng.randrange(3)):
            b.audit(midnight + timedelta(hours=rng.randrange(24), seconds=rng.randrange(3600)), "kafka.FetchConsumer",
                    "Read", "eu.loyalty.members", "User:report-builder", EU_NET, "report-builder", granted=False)
        snapshot_at = midnight + timedelta(minutes=30)
        eu_topics, us_topics, plants = dict(_EU_TOPICS), dict(_US_TOPICS), {}
        if planted:
            if snapshot_at >= window + timedelta(days=8):
                # RT-004: a new classed topic that keeps messages forever.
                eu_topics["eu.loyalty.clickstream"] = (-1, "delete")
                plants["eu.loyalty.clickstream"] = "RT-004"
                # EG-004: the US cluster now mirrors the loyalty topic.
                us_topics[f"{EU_ALIAS}.{LOYALTY_TOPIC}"] = (7 * DAY_MS, "delete")
                plants[f"{EU_ALIAS}.{LOYALTY_TOPIC}"] = "EG-004"
            if snapshot_at.date() == (window + timedelta(days=19)).date():
                # IN-007: the last snapshot before the audit-log topic was deleted (at 03:00 that day) shows it.
                plants[AUDIT_TOPIC] = "IN-007"
            if snapshot_at.date() == (window + timedelta(days=20)).date():
                del eu_topics[AUDIT_TOPIC]  # deleted: the next snapshot lacks it
            if snapshot_at >= window + timedelta(days=21):
                # IN-006: recreated with a week's retention, below the 365-day evidence period.
                eu_topics[AUDIT_TOPIC] = (7 * DAY_MS, "delete")
                plants[AUDIT_TOPIC] = "IN-006"
        b.snapshot(snapshot_at, EU_CLUSTER, eu_topics, plants)
        b.snapshot(snapshot_at, US_CLUSTER, us_topics, plants)
    if planted:
        _plant(b, window, key_id)
    b.half.audit.sort(key=lambda e: (e["time"], e["id"]))
    b.half.lineage.sort(key=lambda r: (r["kafka"]["timestamp"], r["kafka"]["partition"], r["kafka"]["offset"]))
    return b.half


def _plant(b: KafkaBuilder, window: datetime, key_id: str) -> None:
    day = lambda n, h=12, m=0: window + timedelta(days=n, hours=h, minutes=m)  # noqa: E731
    # XR-004: a partner's analytics consumer reads the loyalty topic from the US.
    for n in range(3):
        b.audit(day(6, 14, n), "kafka.FetchConsumer", "Read", LOYALTY_TOPIC, "User:partner-analytics", US_PARTNER,
                "partner-analytics-1", planted="XR-004")
    # EG-004, seen in the audit log: MirrorMaker 2's replication consumer for the flow to the US cluster.
    for n in range(4):
        b.audit(day(8, 1, n * 10), "kafka.FetchConsumer", "Read", LOYALTY_TOPIC, "User:mm2", US_OFFICE,
                f"{EU_ALIAS}->us|MirrorSourceConnector|replication-consumer", planted="EG-004")
    # XR-005: messages produced in us-east-1 land on the EU topic.
    for n in range(4):
        b.message(day(11, 16, n), US_REGION, key_id, planted="XR-005")
    # IN-005: the intern probes topics and is denied 24 times within an hour.
    for n in range(24):
        topic = ["eu.loyalty.members", LOYALTY_TOPIC, "eu.loyalty.payments"][n % 3]
        b.audit(day(15, 22, n * 2), "kafka.FetchConsumer" if n % 2 else "kafka.Metadata",
                "Read" if n % 2 else "Describe", topic, "User:summer-intern", "10.20.4.66", "kcat", granted=False,
                planted="IN-005")
    # IN-007: the audit-log topic deleted, from an address in Russia (the inventory shows it gone the next day).
    b.audit(day(19, 3), "kafka.DeleteTopics", "Delete", AUDIT_TOPIC, "User:platform-admin", ATTACKER, "adminclient-1",
            planted="IN-007")


def _write_lines(path: Path, records: list[dict[str, Any]], gz: bool) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    data = "".join(json.dumps(r, separators=(",", ":")) + "\n" for r in records).encode()
    if gz:
        path = path.with_name(path.name + ".gz")
        data = gzip.compress(data, compresslevel=6, mtime=0)
    path.write_bytes(data)
    return path


def write_kafka(half: KafkaHalf, directory: Path, start: datetime, days_per_file: int = 10,
                gz: bool = False) -> list[Path]:
    """Write audit/, inventory-eu/, inventory-us/ and lineage/ under `directory`: NDJSON files, one per
    `days_per_file` days."""
    def period(text: str) -> int:
        return (datetime.fromisoformat(text.replace("Z", "+00:00")) - start).days // days_per_file

    def ms_period(ms: int) -> int:
        return int((ms / 1000 - start.timestamp()) // 86400) // days_per_file

    written = []
    groups: dict[tuple[str, int], list[dict[str, Any]]] = {}
    for event in half.audit:
        groups.setdefault(("audit", period(event["time"])), []).append(event)
    for cluster, rows in half.inventory.items():
        folder = "inventory-eu" if cluster == EU_CLUSTER else "inventory-us"
        for row in rows:
            groups.setdefault((folder, period(row["snapshot_time"])), []).append(row)
    for record in half.lineage:
        groups.setdefault(("lineage", ms_period(record["kafka"]["timestamp"])), []).append(record)
    for (folder, n), records in sorted(groups.items()):
        first = (start + timedelta(days=n * days_per_file)).strftime("%Y-%m-%d")
        written.append(_write_lines(directory / folder / f"{folder}-{first}.ndjson", records, gz))
    return written
