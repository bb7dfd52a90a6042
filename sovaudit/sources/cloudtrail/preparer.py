"""Prepare one CloudTrail blob for the normalize SQL: the native extractor's batch (queries/normalize/
cloudtrail_batch.sql); for a blob of search hits or LookupEvents events, the fast slice or the careful split."""

import json
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sovaudit.ingest import hits
from sovaudit.ingest.blobs import DecompressError, gunzip_head, gunzip_if_needed
from sovaudit.ingest.prepared import PreparedBlob, TableBatch, TableSlice
from sovaudit.ingest.records import (
    MAX_RECORD_BYTES,
    ArrayFile,
    NotARecord,
    SetAside,
    describe_keys,
    split_records,
)
from sovaudit.sources.cloudtrail import lookup_events
from sovaudit.sources.cloudtrail.resource_map import resource_rules_json

if TYPE_CHECKING:
    from sovaudit.ingest.extract import Extracted

_HEAD = re.compile(rb'\A\s*\{\s*"Records"\s*:\s*\[')
_TAIL = re.compile(rb'\]\s*\}\s*\Z')
# Objects whose array holds the records: a trail's log file, an API page (`value`), a LookupEvents page as the API
# and `aws cloudtrail lookup-events` return it, an Elasticsearch/OpenSearch search response (or its `hits`).
WRAPPERS = (("Records",), ("records",), ("value",), ("Events",), ("hits",), ("hits", "hits"))
# Keys only a CloudTrail record has at its top level, unlike a mapped (ECS) document.
_RECORD_KEYS = frozenset({"eventID", "eventTime", "eventVersion", "eventSource", "eventName"})
# Member names of the shapes whose record lies inside another value (a hit's _source, a LookupEvents event's
# CloudTrailEvent string), which the field spec cannot say yet: a blob that mentions one, and has a record without
# an eventID, goes the Python way. A trail file with a damaged record that merely mentions one (in a request
# parameter) goes that way too, slower but read the same.
_OPENED_SHAPES = (b'"CloudTrailEvent"', b'"_source"', b'"hits"', b'"Events"')


def looks_like_digest(data: bytes) -> bool:
    """CloudTrail digest files: set aside for integrity validation, never parsed as events."""
    head = gunzip_head(data, 4096)
    return (b'"digestStartTime"' in head and b'"logFiles"' in head) or b'"digestPublicKeyFingerprint"' in head


def is_cloudtrail_record(value: dict[str, Any]) -> bool:
    """A raw record, or a lookup event holding one (as a hit's _source may be)."""
    return not _RECORD_KEYS.isdisjoint(value) or lookup_events.is_lookup_event(value)


class CloudTrailRecords(ArrayFile):
    """The careful path's sink: a hit or a lookup event gives up the record it holds, and a record without an
    eventID is set aside naming the keys it has (the fast path's SQL refuses such a blob, so it comes here)."""

    def add(self, index: int, offset: int, span: bytes, value: dict) -> SetAside | None:
        try:
            if hits.is_hit(value):
                span, value = hits.open_hit(span, value, is_cloudtrail_record, "CloudTrail")
            if lookup_events.is_lookup_event(value):
                span, value = lookup_events.open_event(value)
        except NotARecord as exc:
            return SetAside(str(exc), index, offset)
        if value.get("eventID") is None:
            return SetAside(f"no eventID; found keys: {describe_keys(value)}", index, offset)
        return super().add(index, offset, span, value)


class CloudTrailPreparer:
    """`extracting`: files and S3 objects go through the native extractor; LookupEvents pages (JSON lines of the
    records the API's events hold, and an event without one as itself) stay on the Python splitter."""

    tables = ("cloudtrail",)

    def __init__(self, extracting: bool = True):
        self.extracting = extracting

    @property
    def setup_queries(self) -> tuple[str | tuple[str, dict[str, Any]], ...]:
        # The resource mapping table becomes a table once per pull, not once per blob.
        return ("normalize/cloudtrail_macros.sql", ("normalize/cloudtrail_rules.sql", {"rules": resource_rules_json()}))

    def sql_params(self, table: str) -> dict[str, Any]:
        return {}

    def fast(self, data: bytes, work: Path) -> PreparedBlob:
        """The extracted batch; for hits and lookup events, the `[...]` slice of a standard `{"Records":[...]}`
        file, or no slice when the careful path is needed."""
        try:
            payload = gunzip_if_needed(data)
        except DecompressError as exc:
            return PreparedBlob([], 1, [SetAside(str(exc))])
        if self.extracting:
            result = _extract(payload)
            # A hit or a lookup event has no eventID of its own (a lookup event's EventId is set aside as a
            # case variant): a blob whose records all have one holds neither, and needs no search for them.
            if not (result.set_aside or result.batch.column("event_id").null_count) or not any(
                    name in payload for name in _OPENED_SHAPES):
                return extracted(payload, result)
        # A blob no larger than the record limit cannot hold an oversized record.
        if len(payload) <= MAX_RECORD_BYTES:
            head = _HEAD.match(payload, 0, 64)
            tail = _TAIL.search(payload, max(0, len(payload) - 64))
            if head and tail:
                array_path = work.with_suffix(".json")
                with open(array_path, "wb") as out:
                    out.write(memoryview(payload)[head.end() - 1 : tail.start() + 1])
                return PreparedBlob([TableSlice("cloudtrail", array_path, None)], None, payload=payload)
        return PreparedBlob([], None, payload=payload)

    def careful(self, payload: bytes, work: Path) -> PreparedBlob:
        """Record by record in Python, for a blob that holds hits or lookup events."""
        sink = CloudTrailRecords(work.with_suffix(".json"))
        try:
            result = split_records(payload, sink, WRAPPERS)
        finally:
            sink.close()
        return PreparedBlob([TableSlice("cloudtrail", path, positions) for path, positions in sink.chunks],
                            result.records_read,
                            result.set_aside)


def _extract(payload: bytes) -> "Extracted":
    # Here, not at the top: `pull --help` loads the preparers, and must not load pyarrow.
    from sovaudit.ingest.extract import extract, load_spec

    return extract(payload, load_spec("cloudtrail"))


def extracted(payload: bytes, result: "Extracted | None" = None) -> PreparedBlob:
    """The blob's records by the native extractor (`result`, when it has run). A record without an eventID is set
    aside here, naming its keys as the careful path does, rather than by the SQL's bare "record has no eventID"."""
    import pyarrow.compute as pc

    if result is None:
        result = _extract(payload)
    set_aside = [SetAside(s.reason, s.position, s.offset) for s in result.set_aside]
    batch = result.batch
    missing = pc.is_null(batch.column("event_id"))
    if batch.column("event_id").null_count:
        for row in batch.filter(missing).select(["_position", "_offset", "_length"]).to_pylist():
            value = json.loads(payload[row["_offset"]:row["_offset"] + row["_length"]])
            set_aside.append(SetAside(f"no eventID; found keys: {describe_keys(value)}", row["_position"],
                                      row["_offset"]))
        batch = batch.filter(pc.invert(missing))
    return PreparedBlob([], result.records_read, set_aside, payload=payload,
                        batches=[TableBatch("cloudtrail", batch)])
