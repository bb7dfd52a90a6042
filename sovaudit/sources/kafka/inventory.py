"""A snapshot of a cluster's topics through the AdminClient: one blob per snapshot, one JSON line per topic
with its partitions, replication and every topic config (retention.ms, retention.bytes, cleanup.policy, …).
Or such snapshots taken elsewhere, from files (`path`): each file one blob, read as it is.
Recognising MirrorMaker 2's artefacts among the names is the normalize SQL's job."""

import json
from collections.abc import Iterator
from datetime import UTC, datetime

from confluent_kafka import KafkaException
from confluent_kafka.admin import ConfigResource, ResourceType

from sovaudit.errors import SourceError
from sovaudit.ingest.blobs import FailedInput, ListingDone, RawBlob
from sovaudit.sources.kafka.client import CONNECT_TIMEOUT, cluster_metadata, make_admin
from sovaudit.sources.kafka.config import KafkaInventorySourceConfig
from sovaudit.sources.local_files import local_blobs
from sovaudit.timewindow import iso


def _topic_configs(admin, names: list[str], spec: KafkaInventorySourceConfig) -> dict[str, dict[str, str | None]]:
    if not names:
        return {}
    futures = admin.describe_configs([ConfigResource(ResourceType.TOPIC, name) for name in names],
                                     request_timeout=CONNECT_TIMEOUT)
    configs = {}
    for resource, future in futures.items():
        try:
            entries = future.result(timeout=CONNECT_TIMEOUT * 3)
        except KafkaException as exc:
            raise SourceError(f"cannot describe the configs of topic {resource.name} at {spec.bootstrap}: "
                              f"{exc.args[0].str()}") from None
        configs[resource.name] = {name: None if entry.is_sensitive else entry.value for name, entry in entries.items()}
    return configs


def inventory_blobs(spec: KafkaInventorySourceConfig, now: datetime | None = None
                    ) -> Iterator[RawBlob | FailedInput | ListingDone]:
    if spec.path:
        yield from local_blobs(spec.path, "Kafka inventory")
        return
    now = now or datetime.now(UTC)
    admin = make_admin(spec)
    metadata = cluster_metadata(admin, spec)
    cluster_id = metadata.cluster_id or spec.bootstrap
    names = sorted(metadata.topics)
    configs = _topic_configs(admin, names, spec)
    lines = []
    for name in names:
        partitions = metadata.topics[name].partitions
        replicas = {len(p.replicas) for p in partitions.values()}
        lines.append(json.dumps({
            "snapshot_time": iso(now), "cluster_id": cluster_id, "topic": name, "partitions": len(partitions),
            "replication_factor": max(replicas) if replicas else None, "configs": configs.get(name, {}),
        }, separators=(",", ":"), sort_keys=False).encode())
    origin = {"kind": "kafka-admin", "cluster_id": cluster_id, "snapshot_time": iso(now), "topics": len(names)}
    yield RawBlob(b"".join(line + b"\n" for line in lines), origin, f"kafka://{cluster_id}/inventory@{iso(now)}")
