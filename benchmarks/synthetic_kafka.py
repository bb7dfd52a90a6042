"""Deterministic synthetic Kafka exports for the file-ingest benchmark (ingest_files.py), for
`sovaudit pull kafka-audit --path` and `pull kafka-lineage --path`.

audit    Confluent authorization events as CloudEvents (specversion 0.3 and 1.0 mixed), one JSON object a line,
         shaped like the demo's data (sovaudit/demo/data/kafka/audit) and tests/kafka_fixtures.py, which follow the
         kafka-docker-playground samples (fixtures/kafka): produce and fetch on 400 topics of an EU cluster
         (~45% kafka.FetchConsumer, ~35% kafka.Produce), consumer-group calls (JoinGroup, OffsetCommit,
         OffsetFetch), DescribeConfigs, a few CreateTopics and DeleteTopics; ~1% denied; 60 principals, client
         addresses in the cluster's VPC and a few abroad, MirrorMaker 2 replication clients. ~0.95 KB a record.
lineage  header records as a broker pull writes them: {"kafka": {cluster_id, topic, partition, offset,
         timestamp}, "headers": {region_origin, encryption_key_id, processing_timestamp}}, ~0.3 KB a record.

Files: audit/audit-<index>.ndjson.gz and lineage/lineage-<index>.ndjson.gz, `per_file` records each (5,000 by
default), time-sorted, each file its own slot of March 2025. Every audit event has a unique id; every lineage
record a unique (topic, partition, offset). Each file comes from its own seeded RNG: the output is byte-identical
for the same (kind, seed, events, per_file).
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import synthetic_files
from synthetic_files import json_lines, uuid_text

GENERATOR_VERSION = 1
RECORDS_PER_FILE = 5_000
KINDS = ("audit", "lineage")
START = datetime(2025, 3, 1, tzinfo=UTC)
SPAN = timedelta(days=30)

CLUSTER = "AcmeEuKafkaCluster0001"
CRN = f"crn://mds.acme-retail.example/kafka={CLUSTER}"
TOPICS = [f"eu.customer.t{n:03d}" for n in range(200)] + [f"eu.ops.t{n:03d}" for n in range(200)]
PARTITIONS = 6
ADDRESSES = ["/10.20.1.7", "/10.20.1.8", "/10.20.6.31", "/10.20.7.12", "/10.21.0.44", "/217.0.0.41",
             "/81.2.69.142", "/12.0.0.77"]
# (methodName, operation, resource type, weight)
METHODS = [("kafka.FetchConsumer", "Read", "Topic", 45), ("kafka.Produce", "Write", "Topic", 35),
           ("kafka.JoinGroup", "Read", "Group", 5), ("kafka.OffsetCommit", "Read", "Group", 7),
           ("kafka.OffsetFetch", "Describe", "Group", 4), ("kafka.DescribeConfigs", "DescribeConfigs", "Topic", 3),
           ("kafka.CreateTopics", "Create", "Topic", 0.6), ("kafka.DeleteTopics", "Delete", "Topic", 0.4)]
KEYS = ["arn:aws:kms:eu-west-1:111122223333:key/mrk-1a2b3c4d5e6f47a8b9c0d1e2f3a4b5c6",
        "arn:aws:kms:eu-central-1:111122223333:key/mrk-7f6e5d4c3b2a41908f7e6d5c4b3a2910"]


def _stamp(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


def _slot(index: int, n_files: int) -> tuple[datetime, timedelta]:
    slot = SPAN / n_files
    return START + slot * index, slot


def audit_event(rng: random.Random, t: datetime, n: int) -> dict:
    method, operation, resource_type, _ = rng.choices(METHODS, [m[3] for m in METHODS])[0]
    topic = rng.choice(TOPICS)
    group = f"{topic.rsplit('.', 1)[0]}-consumers-{rng.randrange(12)}"
    name = group if resource_type == "Group" else topic
    kind = "group" if resource_type == "Group" else "topic"
    mirror = method == "kafka.FetchConsumer" and rng.random() < 0.02
    client = ("eu->us|MirrorSourceConnector|replication-consumer" if mirror else
              f"app-{rng.randrange(60)}-{'producer' if method == 'kafka.Produce' else 'consumer'}-{rng.randrange(4)}")
    return {
        "id": uuid_text(rng), "source": CRN, "specversion": "1.0" if rng.random() < 0.5 else "0.3",
        "type": "io.confluent.kafka.server/authorization", "time": _stamp(t),
        "datacontenttype": "application/json", "subject": f"{CRN}/{kind}={name}",
        "confluentRouting": {"route": "confluent-audit-log-events"},
        "data": {
            "serviceName": CRN, "methodName": method, "resourceName": f"{CRN}/{kind}={name}",
            "authenticationInfo": {"principal": "User:mm2-replicator" if mirror else f"User:svc-{rng.randrange(60)}"},
            "authorizationInfo": {"granted": rng.random() > 0.01, "operation": operation,
                                  "resourceType": resource_type, "resourceName": name, "patternType": "LITERAL",
                                  "superUserAuthorization": False},
            "request": {"correlation_id": str(n), "client_id": client},
            "requestMetadata": {"client_address": rng.choice(ADDRESSES)},
        },
    }


def lineage_record(rng: random.Random, t: datetime, index: int, n: int) -> dict:
    # Offsets index * 10^7 + n: unique across files (up to 10^7 records a file).
    topic = TOPICS[n % 200]
    origin = "us-east-1" if rng.random() < 0.001 else rng.choice(["eu-west-1", "eu-central-1"])
    return {"kafka": {"cluster_id": CLUSTER, "topic": topic, "partition": rng.randrange(PARTITIONS),
                      "offset": index * 10_000_000 + n, "timestamp": int(t.timestamp() * 1000)},
            "headers": {"region_origin": origin, "encryption_key_id": rng.choice(KEYS),
                        "processing_timestamp": _stamp(t + timedelta(seconds=rng.randrange(1, 30)))}}


def _make(kind: str, seed: int, index: int, count: int, n_files: int) -> tuple[str, bytes]:
    rng = random.Random(f"sovaudit-bench-kafka-{kind}:{seed}:{index}")
    t0, slot = _slot(index, n_files)
    offsets = sorted(rng.random() * slot.total_seconds() for _ in range(count))
    records = [audit_event(rng, t0 + timedelta(seconds=o), n) if kind == "audit" else
               lineage_record(rng, t0 + timedelta(seconds=o), index, n) for n, o in enumerate(offsets)]
    return file_name(kind, index), json_lines(records)


def make_audit(seed: int, index: int, count: int, n_files: int) -> tuple[str, bytes]:
    return _make("audit", seed, index, count, n_files)


def make_lineage(seed: int, index: int, count: int, n_files: int) -> tuple[str, bytes]:
    return _make("lineage", seed, index, count, n_files)


def file_name(kind: str, index: int) -> str:
    return f"{kind}/{kind}-{index:06d}.ndjson.gz"


def data_dir_name(kind: str, events: int, seed: int) -> str:
    return f"kafka-{kind}-{events}-seed{seed}"


def generate(kind: str, out_dir: str | Path, events: int, *, seed: int = 42, per_file: int = RECORDS_PER_FILE,
             workers: int | None = None, log=None) -> dict:
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, not {kind!r}")
    make = make_audit if kind == "audit" else make_lineage
    return synthetic_files.generate(out_dir, events, make, lambda index, _: file_name(kind, index),
                                    {"source": f"kafka-{kind}", "generator_version": GENERATOR_VERSION},
                                    seed=seed, per_file=per_file, workers=workers, log=log)
