"""Where each partition's read starts and stops.

A read is bounded: it stops at the high watermark read when the pull starts (or at --until, through
offsets_for_times), so a scan of a busy topic always ends. It is incremental: the next offset of each
partition is one past the last offset of the blobs earlier pulls of the same kind ingested, as the
ledger records them, so the ledger is the only cursor and a pull killed midway loses nothing.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from confluent_kafka import Consumer, KafkaException, TopicPartition

from sovaudit.errors import SourceError
from sovaudit.sources.kafka.client import CONNECT_TIMEOUT


@dataclass
class PartitionRead:
    partition: int
    start: int
    end: int  # exclusive
    low: int
    high: int

    @property
    def pending(self) -> int:
        return max(0, self.end - self.start)


def pulled_offsets(entries: Iterable[dict[str, Any]], source_type: str, cluster_id: str, topic: str) -> dict[int, int]:
    """Next offset to read per partition, from the inputs of earlier pulls of this source type, and from the
    gaps they reported (offsets already gone, recorded once as a failure, never looked for again)."""
    following: dict[int, int] = {}
    for entry in entries:
        if (entry.get("source") or {}).get("type") != source_type:
            continue
        done = [i for i in entry.get("inputs", []) if i.get("kind") == "kafka" and i.get("status") in ("ingested", "skipped")]
        done += [f for f in entry.get("failures", []) if f.get("kind") == "kafka" and "last_offset" in f]
        for item in done:
            if item.get("cluster_id") == cluster_id and item.get("topic") == topic:
                partition = item["partition"]
                following[partition] = max(following.get(partition, 0), item["last_offset"] + 1)
    return following


def _ms(ts: datetime) -> int:
    return int(ts.timestamp() * 1000)


def _offsets_at(consumer: Consumer, topic: str, partitions: list[int], ts: datetime) -> dict[int, int]:
    """The first offset at or after `ts` per partition; -1 where every message is older."""
    asked = [TopicPartition(topic, p, _ms(ts)) for p in partitions]
    found = consumer.offsets_for_times(asked, timeout=CONNECT_TIMEOUT)
    return {tp.partition: tp.offset for tp in found}


def plan_reads(consumer: Consumer, topic: str, partitions: list[int], pulled: dict[int, int],
               since: datetime | None, until: datetime | None) -> tuple[list[PartitionRead], list[tuple[int, int, int]]]:
    """One read per partition, and the gaps (partition, first, last offset): offsets the topic's retention
    removed after an earlier pull and before this one could read them."""
    try:
        marks = {p: consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=CONNECT_TIMEOUT, cached=False)
                 for p in partitions}
        starts_at = _offsets_at(consumer, topic, partitions, since) if since else {}
        ends_at = _offsets_at(consumer, topic, partitions, until) if until else {}
    except KafkaException as exc:
        raise SourceError(f"cannot read the offsets of topic {topic}: {exc.args[0].str()}") from None
    reads, gaps = [], []
    for p in partitions:
        low, high = marks[p]
        start = pulled.get(p, low)
        if p in pulled and start < low:
            gaps.append((p, start, low - 1))
        start = max(start, low)
        if p in starts_at:
            start = max(start, high if starts_at[p] < 0 else starts_at[p])
        end = high if ends_at.get(p, -1) < 0 else min(high, ends_at[p])
        reads.append(PartitionRead(p, start, max(start, end), low, high))
    return reads, gaps
