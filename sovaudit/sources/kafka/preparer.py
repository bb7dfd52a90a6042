"""Prepare Kafka blobs for the normalize SQL: the native extractor's batch (queries/normalize/kafka_*_batch.sql)
for the tables that have a field spec; else the records handed to DuckDB, split one by one where needed, setting
aside what cannot be read as JSON. Whether a record is an audit event, and the mapping, is SQL
(queries/normalize/kafka_*.sql)."""

import re
from pathlib import Path
from typing import Any

from sovaudit.ingest.blobs import DecompressError, gunzip_if_needed
from sovaudit.ingest.prepared import PreparedBlob, TableBatch, TableSlice
from sovaudit.ingest.records import MAX_RECORD_BYTES, ArrayFile, SetAside, split_records

# FileStreamSink with the default converter writes a struct's Java Map.toString(): {key=value, …}.
_JAVA_MAP = re.compile(rb"\A\s*\{[A-Za-z_][\w.-]*=")
_JAVA_MAP_REASON = (
    "not JSON: a Java Map.toString() dump ({key=value, …}), as Kafka Connect's FileStreamSink writes with a non-JSON "
    "converter; its strings are unquoted, so it cannot be read back faithfully. Export with "
    "value.converter=org.apache.kafka.connect.json.JsonConverter (value.converter.schemas.enable=false)")
# Blobs sovaudit writes itself (broker records, inventory snapshots): one compact JSON object per line, so
# DuckDB may read them whole; anything else is split record by record first.
_OWN_LINES = (b'{"kafka":{', b'{"snapshot_time":')
# The tables whose blobs go through the native extractor (queries/normalize/<table>.fields.toml, <table>_batch.sql).
EXTRACTED = frozenset({"kafka_topics", "kafka_lineage"})


class KafkaPreparer:
    """One Kafka table's blobs: JSON lines, a JSON array, or one (pretty-printed) JSON object per file."""

    setup_queries = ()

    def __init__(self, table: str, params: dict[str, Any] | None = None):
        self.tables = (table,)
        self.params = params or {}

    def sql_params(self, table: str) -> dict[str, Any]:
        return self.params

    def fast(self, data: bytes, work: Path) -> PreparedBlob:
        """The extracted batch; else our own line blobs as one JSON array for DuckDB, and a record it cannot read
        sends the blob to `careful`."""
        try:
            payload = gunzip_if_needed(data)
        except DecompressError as exc:
            return PreparedBlob([], 1, [SetAside(str(exc))])
        if _JAVA_MAP.match(payload):
            return PreparedBlob([], 1, [SetAside(_JAVA_MAP_REASON, 0, 0)])
        if self.tables[0] in EXTRACTED:
            return extracted(payload, self.tables[0])
        if payload.startswith(_OWN_LINES) and len(payload) <= MAX_RECORD_BYTES and b"\r" not in payload:
            array_path = work.with_suffix(".json")
            array_path.write_bytes(b"[" + b",".join(payload.rstrip(b"\n").split(b"\n")) + b"]")
            return PreparedBlob([TableSlice(self.tables[0], array_path, None)], None, payload=payload)
        return PreparedBlob([], None, payload=payload)

    def careful(self, payload: bytes, work: Path) -> PreparedBlob:
        sink = ArrayFile(work.with_suffix(".json"))
        try:
            result = split_records(payload, sink)
        finally:
            sink.close()
        return PreparedBlob([TableSlice(self.tables[0], path, positions) for path, positions in sink.chunks],
                            result.records_read,
                            result.set_aside)


def extracted(payload: bytes, table: str) -> PreparedBlob:
    """The blob's records by the native extractor and the table's field spec; what it set aside, with its reasons."""
    # Here, not at the top: `pull --help` loads the preparers, and must not load pyarrow.
    from sovaudit.ingest.extract import extract, load_spec

    result = extract(payload, load_spec(table))
    set_aside = [SetAside(s.reason, s.position, s.offset) for s in result.set_aside]
    return PreparedBlob([], result.records_read, set_aside, payload=payload,
                        batches=[TableBatch(table, result.batch)])
