"""Read planned partition ranges of one topic into blobs: each blob is one partition's consecutive records,
one line per record, as `line_of(message)` writes it. Messages are turned into lines as they arrive and
dropped after each poll, so the reader holds lines, never a batch of messages."""

import time
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

from confluent_kafka import Consumer, KafkaError, KafkaException, Message, TopicPartition

from sovaudit.errors import SourceError
from sovaudit.ingest.blobs import FailedInput, RawBlob
from sovaudit.sources.kafka.client import cluster_metadata
from sovaudit.sources.kafka.config import KafkaSourceConfig
from sovaudit.sources.kafka.offsets import PartitionRead, plan_reads, pulled_offsets

BLOB_RECORDS = 2_000
BLOB_BYTES = 8 * 1024 * 1024
IDLE_LIMIT = 30.0  # seconds without a record before a partition that should have more is given up


class _Batch:
    def __init__(self) -> None:
        self.lines: list[bytes] = []
        self.size = 0
        self.first = self.last = -1

    def add(self, offset: int, line: bytes) -> None:
        if not self.lines:
            self.first = offset
        self.lines.append(line)
        self.size += len(line) + 1
        self.last = offset


class TopicReader:
    def __init__(self, consumer: Consumer, cluster_id: str, topic: str, line_of: Callable[[Message], bytes]):
        self.consumer = consumer
        self.cluster_id = cluster_id
        self.topic = topic
        self.line_of = line_of
        self.records = 0

    def _blob(self, read: PartitionRead, batch: _Batch) -> RawBlob:
        origin = {"kind": "kafka", "cluster_id": self.cluster_id, "topic": self.topic,
                  "partition": read.partition, "first_offset": batch.first, "last_offset": batch.last,
                  "records": len(batch.lines), "high_watermark": read.high}
        label = f"kafka://{self.cluster_id}/{self.topic}/{read.partition}@{batch.first}-{batch.last}"
        return RawBlob(b"\n".join(batch.lines) + b"\n", origin, label)

    def blobs(self, reads: list[PartitionRead]) -> Iterator[RawBlob | FailedInput]:
        todo = {r.partition: r for r in reads if r.pending}
        if not todo:
            return
        batches = {p: _Batch() for p in todo}
        self.consumer.assign([TopicPartition(self.topic, r.partition, r.start) for r in todo.values()])
        idle_since = time.monotonic()
        try:
            while todo:
                full, polled = self._take(self.consumer.consume(num_messages=500, timeout=1.0), todo, batches)
                if polled:
                    idle_since = time.monotonic()
                yield from full
                for tp in self.consumer.position([TopicPartition(self.topic, p) for p in todo]):
                    # Compaction and transaction markers leave gaps: the end offset itself may never arrive.
                    if tp.offset >= todo[tp.partition].end:
                        read, batch = todo.pop(tp.partition), batches.pop(tp.partition)
                        if batch.lines:
                            yield self._blob(read, batch)
                if todo and time.monotonic() - idle_since > IDLE_LIMIT:
                    yield from self._give_up(todo, batches)
                    return
        except KafkaException as exc:
            raise SourceError(f"reading topic {self.topic} failed: {exc.args[0].str()}") from None
        finally:
            self.consumer.unassign()

    def _take(self, messages: list[Message], todo: dict[int, PartitionRead], batches: dict[int, _Batch]
              ) -> tuple[list[RawBlob], int]:
        """Add one poll's messages to their partitions' batches; the blobs that filled up, and how many came."""
        full = []
        for message in messages:
            error = message.error()
            if error is not None:
                if error.code() == KafkaError._PARTITION_EOF:
                    continue
                raise KafkaException(error)
            read = todo.get(message.partition())
            if read is None or message.offset() >= read.end:
                continue
            batch = batches[read.partition]
            batch.add(message.offset(), self.line_of(message))
            self.records += 1
            if len(batch.lines) >= BLOB_RECORDS or batch.size >= BLOB_BYTES:
                full.append(self._blob(read, batch))
                batches[read.partition] = _Batch()
        return full, len(messages)

    def _give_up(self, todo: dict[int, PartitionRead], batches: dict[int, _Batch]) -> Iterator[RawBlob | FailedInput]:
        for partition, read in todo.items():
            batch = batches[partition]
            reached = batch.last + 1 if batch.lines else read.start
            if batch.lines:
                yield self._blob(read, batch)
            origin = {"kind": "kafka", "cluster_id": self.cluster_id, "topic": self.topic, "partition": partition}
            yield FailedInput(origin, f"kafka://{self.cluster_id}/{self.topic}/{partition}",
                              f"topic {self.topic} partition {partition}: no record arrived for {IDLE_LIMIT:.0f} s "
                              f"at offset {reached}, short of offset {read.end} (the end when the pull started); "
                              "the rest is left for the next pull")


def read_topics(spec: KafkaSourceConfig, consumer: Consumer, topics: list[str],
                line_of: Callable[[str], Callable[[Message], bytes]], entries: list[dict[str, Any]],
                since: datetime | None, until: datetime | None, notes: list[str]
                ) -> Iterator[RawBlob | FailedInput]:
    """Every topic's new records up to its high watermark (or --until), from where earlier pulls stopped.

    `line_of(cluster_id)` gives the function that writes one message as one line of a blob.
    """
    metadata = cluster_metadata(consumer, spec)
    cluster_id = metadata.cluster_id or spec.bootstrap
    for topic in topics:
        found = metadata.topics.get(topic)
        if found is None or found.error is not None:
            yield FailedInput({"kind": "kafka", "cluster_id": cluster_id, "topic": topic}, f"kafka://{cluster_id}/{topic}",
                              f"topic {topic} does not exist on the cluster at {spec.bootstrap} (cluster {cluster_id})")
            continue
        pulled = pulled_offsets(entries, spec.type, cluster_id, topic)
        reads, gaps = plan_reads(consumer, topic, sorted(found.partitions), pulled, since, until)
        for partition, first, last in gaps:
            yield FailedInput({"kind": "kafka", "cluster_id": cluster_id, "topic": topic, "partition": partition,
                               "first_offset": first, "last_offset": last},
                              f"kafka://{cluster_id}/{topic}/{partition}@{first}-{last}",
                              f"topic {topic} partition {partition}: offsets {first}–{last} were removed by the "
                              "topic's retention before they were pulled; those records are missing from the evidence")
        reader = TopicReader(consumer, cluster_id, topic, line_of(cluster_id))
        yield from reader.blobs(reads)
        ends = ", ".join(f"{r.partition}: {r.end}" for r in reads)
        notes.append(f"topic {topic} on cluster {cluster_id}: {reader.records:,} new record(s) read, "
                     f"each partition up to offset {{{ends}}} (its high watermark when the pull started"
                     f"{' or --until' if until else ''})")
