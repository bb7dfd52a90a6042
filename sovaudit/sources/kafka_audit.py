"""Confluent audit events from the audit-log topic, or from files a sink connector or a person wrote.

From a broker, each record becomes one line of a blob: a small envelope with where it was read (cluster,
topic, partition, offset, timestamp) around the message value, which is embedded byte-for-byte when it
is one line of JSON-looking UTF-8 text, and base64-encoded otherwise, so the archive can always give
back the exact bytes the broker delivered.
"""

import base64
import json
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

from confluent_kafka import TIMESTAMP_NOT_AVAILABLE, Message

from sovaudit.ingest.blobs import FailedInput, ListingDone, RawBlob
from sovaudit.sources.kafka_client import make_consumer
from sovaudit.sources.kafka_config import KafkaAuditSourceConfig
from sovaudit.sources.kafka_reader import read_topics
from sovaudit.sources.local_files import local_blobs

# A sink connector's files (FileStreamSink writes .txt) are read too; non-JSON ones are quarantined.
FILE_SUFFIXES = (".json", ".json.gz", ".gz", ".jsonl", ".ndjson", ".jsonl.gz", ".ndjson.gz", ".txt", ".log")


def envelope(cluster_id: str, message: Message) -> dict[str, Any]:
    kind, ms = message.timestamp()
    return {"kafka": {"cluster_id": cluster_id, "topic": message.topic(), "partition": message.partition(),
                      "offset": message.offset(), "timestamp": None if kind == TIMESTAMP_NOT_AVAILABLE else ms}}


def _embeddable(value: bytes) -> bool:
    if not (value[:1] == b"{" and value[-1:] == b"}") or b"\n" in value or b"\r" in value:
        return False
    try:
        value.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def audit_line(cluster_id: str) -> Callable[[Message], bytes]:
    def line(message: Message) -> bytes:
        head = json.dumps(envelope(cluster_id, message), separators=(",", ":")).encode()[:-1]
        value = message.value()
        if value is None:
            return head + b',"value":null}'
        if _embeddable(value):
            return head + b',"value":' + value + b"}"
        return head + b',"value_base64":"' + base64.b64encode(value) + b'"}'

    return line


def audit_blobs(spec: KafkaAuditSourceConfig, entries: list[dict[str, Any]], since: datetime | None,
                until: datetime | None, notes: list[str]) -> Iterator[RawBlob | FailedInput | ListingDone]:
    if spec.path:
        yield from local_blobs(spec.path, "Kafka audit", suffixes=FILE_SUFFIXES)
        return
    consumer = make_consumer(spec)
    try:
        yield from read_topics(spec, consumer, [spec.topic], audit_line, entries, since, until, notes)
    finally:
        consumer.close()
