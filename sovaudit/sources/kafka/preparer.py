"""Prepare Kafka blobs for the normalize SQL: the native extractor's batch of each blob's records, by the table's
field spec (queries/normalize/kafka_*.fields.toml), for queries/normalize/kafka_*_batch.sql; what it sets aside is
quarantined with its reason. Whether a record is an audit event, and the mapping, is SQL; the audit log's base64
values and its required keys are sovaudit.sources.kafka.envelopes'."""

import re
from pathlib import Path
from typing import Any

from sovaudit.ingest.blobs import DecompressError, gunzip_if_needed
from sovaudit.ingest.prepared import PreparedBlob, TableBatch
from sovaudit.ingest.records import SetAside

# FileStreamSink with the default converter writes a struct's Java Map.toString(): {key=value, …}.
_JAVA_MAP = re.compile(rb"\A\s*\{[A-Za-z_][\w.-]*=")
_JAVA_MAP_REASON = (
    "not JSON: a Java Map.toString() dump ({key=value, …}), as Kafka Connect's FileStreamSink writes with a non-JSON "
    "converter; its strings are unquoted, so it cannot be read back faithfully. Export with "
    "value.converter=org.apache.kafka.connect.json.JsonConverter (value.converter.schemas.enable=false)")


class KafkaPreparer:
    """One Kafka table's blobs: JSON lines, a JSON array, or JSON objects (pretty-printed or not), one after another."""

    setup_queries = ()

    def __init__(self, table: str, params: dict[str, Any] | None = None):
        self.tables = (table,)
        self.params = params or {}

    def sql_params(self, table: str) -> dict[str, Any]:
        return self.params

    def fast(self, data: bytes, work: Path) -> PreparedBlob:
        """The extracted batch; a Java Map dump is one record, set aside saying how to export JSON instead."""
        try:
            payload = gunzip_if_needed(data)
        except DecompressError as exc:
            return PreparedBlob([], 1, [SetAside(str(exc))])
        if _JAVA_MAP.match(payload):
            return PreparedBlob([], 1, [SetAside(_JAVA_MAP_REASON, 0, 0)])
        return extracted(payload, self.tables[0])

    def careful(self, payload: bytes, work: Path) -> PreparedBlob:
        """Never needed: `fast` reads every record (IngestRun calls this only for a blob `fast` did not read)."""
        return extracted(payload, self.tables[0])


def extracted(payload: bytes, table: str) -> PreparedBlob:
    """The blob's records by the native extractor and the table's field spec; what it set aside, with its reasons."""
    # Here, not at the top: `pull --help` loads the preparers, and must not load pyarrow.
    from sovaudit.ingest.extract import extract, load_spec

    spec = load_spec(table)
    result = extract(payload, spec)
    set_aside = [SetAside(s.reason, s.position, s.offset) for s in result.set_aside]
    if table == "kafka_audit":
        from sovaudit.sources.kafka.envelopes import audit_batches

        batches = audit_batches(payload, result.batch, spec, set_aside)
    else:
        batches = [TableBatch(table, result.batch)]
    return PreparedBlob([], result.records_read, set_aside, payload=payload, batches=batches)
