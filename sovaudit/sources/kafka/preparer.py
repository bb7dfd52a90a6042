"""Prepare Kafka blobs for the normalize SQL: hand DuckDB the records, split one by one where needed, setting
aside what cannot be read as JSON. Whether a record is an audit event, and the mapping, is SQL
(queries/normalize/kafka_*.sql)."""

import re
from pathlib import Path
from typing import Any

from sovaudit.ingest.blobs import DecompressError, gunzip_if_needed
from sovaudit.ingest.prepared import PreparedBlob, TableSlice
from sovaudit.ingest.records import MAX_RECORD_BYTES, ArrayFile, SetAside, split_records

# FileStreamSink with the default converter writes a struct's Java Map.toString(): {key=value, …}.
_JAVA_MAP = re.compile(rb"\A\s*\{[A-Za-z_][\w.-]*=")
# Blobs sovaudit writes itself (broker records, inventory snapshots): one compact JSON object per line, so
# DuckDB may read them whole; anything else is split record by record first.
_OWN_LINES = (b'{"kafka":{', b'{"snapshot_time":')


class KafkaPreparer:
    """One Kafka table's blobs: JSON lines, a JSON array, or one (pretty-printed) JSON object per file."""

    setup_queries = ()

    def __init__(self, table: str, params: dict[str, Any] | None = None):
        self.tables = (table,)
        self.params = params or {}

    def sql_params(self, table: str) -> dict[str, Any]:
        return self.params

    def fast(self, data: bytes, work: Path) -> PreparedBlob:
        """Our own line blobs as one JSON array for DuckDB; a record it cannot read sends the blob to `careful`."""
        try:
            payload = gunzip_if_needed(data)
        except DecompressError as exc:
            return PreparedBlob([], 1, [SetAside(str(exc))])
        if payload.startswith(_OWN_LINES) and len(payload) <= MAX_RECORD_BYTES and b"\r" not in payload:
            array_path = work.with_suffix(".json")
            array_path.write_bytes(b"[" + b",".join(payload.rstrip(b"\n").split(b"\n")) + b"]")
            return PreparedBlob([TableSlice(self.tables[0], array_path, None)], None, payload=payload)
        return PreparedBlob([], None, payload=payload)

    def careful(self, payload: bytes, work: Path) -> PreparedBlob:
        if _JAVA_MAP.match(payload):
            return PreparedBlob([], 1, [SetAside(
                "not JSON: a Java Map.toString() dump ({key=value, …}), as Kafka Connect's FileStreamSink writes "
                "with a non-JSON converter; its strings are unquoted, so it cannot be read back faithfully. "
                "Export with value.converter=org.apache.kafka.connect.json.JsonConverter "
                "(value.converter.schemas.enable=false)", 0, 0)])
        sink = ArrayFile(work.with_suffix(".json"))
        try:
            result = split_records(payload, sink)
        finally:
            sink.close()
        return PreparedBlob([TableSlice(self.tables[0], path, positions) for path, positions in sink.chunks],
                            result.records_read,
                            result.set_aside)
