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
from sovaudit.sources.kafka.client import make_consumer
from sovaudit.sources.kafka.config import KafkaAuditSourceConfig
from sovaudit.sources.kafka.reader import read_topics
from sovaudit.sources.local_files import SUFFIXES, local_blobs

# A sink connector's files (FileStreamSink writes .txt) are read too; non-JSON ones are quarantined.
FILE_SUFFIXES = (*SUFFIXES, ".txt")


def _embeddable(value: bytes) -> bool:
    if not (value[:1] == b"{" and value[-1:] == b"}") or b"\n" in value or b"\r" in value:
        return False
    try:
        value.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def audit_line(cluster_id: str) -> Callable[[Message], bytes]:
    cluster = json.dumps(cluster_id).encode()
    topics: dict[str, bytes] = {}

    def line(message: Message) -> bytes:
        # The envelope, written by hand: json.dumps per record was a third of a pull's time.
        topic = topics.get(message.topic()) or topics.setdefault(message.topic(), json.dumps(message.topic()).encode())
        kind, ms = message.timestamp()
        head = b'{"kafka":{"cluster_id":%s,"topic":%s,"partition":%d,"offset":%d,"timestamp":%s}' % (
            cluster, topic, message.partition(), message.offset(),
            b"null" if kind == TIMESTAMP_NOT_AVAILABLE else b"%d" % ms)
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
