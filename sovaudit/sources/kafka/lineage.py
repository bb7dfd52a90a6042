"""Lineage headers of messages on data topics: region_origin, encryption_key_id, processing_timestamp and
the configured extra names. Only `Message.headers()` is called; the value is never read, so it goes no
further than the client's own fetch buffer and the message objects of one poll, dropped after it.
Or a header export taken elsewhere, from files (`path`): each file one blob, read as it is."""

import base64
import json
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

from confluent_kafka import TIMESTAMP_NOT_AVAILABLE, Message

from sovaudit.ingest.blobs import FailedInput, ListingDone, RawBlob
from sovaudit.sources.kafka.client import make_consumer
from sovaudit.sources.kafka.config import KafkaLineageSourceConfig
from sovaudit.sources.kafka.reader import read_topics
from sovaudit.sources.local_files import local_blobs


def envelope(cluster_id: str, message: Message) -> dict[str, Any]:
    kind, ms = message.timestamp()
    return {"kafka": {"cluster_id": cluster_id, "topic": message.topic(), "partition": message.partition(),
                      "offset": message.offset(), "timestamp": None if kind == TIMESTAMP_NOT_AVAILABLE else ms}}


def _text(value: bytes | None) -> str | dict[str, str] | None:
    if value is None:
        return None
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError:
        return {"base64": base64.b64encode(value).decode()}


def header_line(names: tuple[str, ...]) -> Callable[[str], Callable[[Message], bytes]]:
    wanted = set(names)

    def for_cluster(cluster_id: str) -> Callable[[Message], bytes]:
        def line(message: Message) -> bytes:
            # A repeated header keeps its last value, as Kafka clients' lastHeader() does.
            kept = {name: _text(value) for name, value in (message.headers() or []) if name in wanted}
            return json.dumps({**envelope(cluster_id, message), "headers": kept}, separators=(",", ":")).encode()

        return line

    return for_cluster


def lineage_blobs(spec: KafkaLineageSourceConfig, entries: list[dict[str, Any]], since: datetime | None,
                  until: datetime | None, notes: list[str]) -> Iterator[RawBlob | FailedInput | ListingDone]:
    if spec.path:
        if spec.topics:
            notes.append(f"source {spec.name}: topics ({', '.join(spec.topics)}) only choose what is read from a "
                         "broker; from files every record is pulled, whatever its topic")
        yield from local_blobs(spec.path, "Kafka lineage")
        return
    consumer = make_consumer(spec)
    try:
        yield from read_topics(spec, consumer, spec.topics, header_line(spec.header_names), entries, since, until,
                               notes)
    finally:
        consumer.close()
