"""The kafka_audit batches around the native extractor's: what kafka_audit.sql decided that a field spec cannot say.

- A broker value delivered as base64 (`value_base64`: it was not one line of UTF-8 JSON, sovaudit.sources.kafka.audit)
  is decoded here and its record extracted alone, with the spec's [columns] and no envelope, then given its
  envelope's columns: a few such values a pull, so Python's loop costs nothing that counts, and the extractor's
  pass stays one over the blob's bytes. A value that is not UTF-8, not one JSON value, or no object is set aside with
  kafka_audit.sql's reasons; one the extractor sets aside (a duplicate member, a lone surrogate ...) with its reason.
- An event lacking specversion, type or data (as keys: present as null is present) is set aside naming the keys it
  has, as kafka_audit.sql's `_problem` did; the extractor's columns cannot tell an absent member from a null one, so
  the few records whose columns leave it open are parsed again here.
- `_record_text`: the event's text, for the rows without an id, which queries/normalize/kafka_audit_batch.sql hashes
  into their event_uid.
"""

import base64
import binascii
import json

import pyarrow as pa
import pyarrow.compute as pc

from sovaudit.ingest.extract import FieldSpec, extract
from sovaudit.ingest.prepared import TableBatch
from sovaudit.ingest.records import SetAside

TABLE = "kafka_audit"
REQUIRED_KEYS = ("specversion", "type", "data")
# The spec's columns under `data`: when all are null, `data` may be absent, or present but empty or unmapped.
_DATA_COLUMNS = ("service_name", "method_name", "resource_name", "authentication_info", "authorization_info",
                 "request", "request_metadata", "result", "cloud_resources")
_SHOWN_KEYS = 8
_JSON_TYPES = {b"[": "array", b'"': "string", b"t": "boolean", b"f": "boolean", b"n": "null"}
_WS = b" \t\r\n"


def audit_batches(payload: bytes, batch: pa.RecordBatch, spec: FieldSpec,
                  set_aside: list[SetAside]) -> list[TableBatch]:
    """The blob's extracted batch as the TableBatches kafka_audit_batch.sql reads; what it sets aside goes to
    `set_aside`."""
    encoded = pc.is_valid(batch.column("value_base64"))
    pieces = [TableBatch(TABLE, batch)]
    if pc.any(encoded).as_py():
        pieces = [TableBatch(TABLE, batch.filter(pc.invert(encoded))),
                  _decoded(batch.filter(encoded), spec, set_aside)]
    return [_finished(piece, piece.payload if piece.payload is not None else payload, set_aside) for piece in pieces]


def where(partition: str | None, offset: str | None, enveloped: bool = True) -> str:
    """How kafka_audit.sql names a record in its reasons."""
    if not enveloped:
        return "record "
    return f"message at partition {'null' if partition is None else partition} offset " \
           f"{'null' if offset is None else offset} "


def _decoded(rows: pa.RecordBatch, spec: FieldSpec, set_aside: list[SetAside]) -> TableBatch:
    """The rows whose value came base64-encoded, with the record their value holds; `payload` is the decoded
    values one after another, which their `_record_offset` and `_record_length` index."""
    bare = spec.bare()
    keep: list[int] = []
    inner: list[pa.RecordBatch] = []
    bases: list[int] = []
    buffer = bytearray()
    columns = rows.select(["_position", "_offset", "value_base64", "kafka_partition", "kafka_offset"]).to_pydict()
    for i, (position, offset, text, partition, kafka_offset) in enumerate(zip(*columns.values(), strict=True)):
        named = where(partition, kafka_offset)
        try:
            value = base64.b64decode(text, validate=True)
            value.decode("utf-8")
        except (binascii.Error, ValueError):  # UnicodeDecodeError is a ValueError
            set_aside.append(SetAside(f"{named}is not UTF-8 text", position, offset))
            continue
        record, reason = _one_record(value, bare)
        if record is None:
            set_aside.append(SetAside(named + reason, position, offset))
            continue
        keep.append(i)
        inner.append(record)
        bases.append(len(buffer))
        buffer += value
    kept = rows.take(pa.array(keep, pa.int64()))
    if not keep:
        return TableBatch(TABLE, kept, b"")
    records = pa.Table.from_batches(inner).combine_chunks()
    record_names = {c.name for c in bare.columns}
    arrays = []
    for field in kept.schema:
        if field.name in record_names:
            arrays.append(records.column(field.name).chunk(0))
        elif field.name == "_record_type":
            arrays.append(pa.array(["object"] * len(keep), pa.string()))
        elif field.name == "_record_offset":
            arrays.append(pc.add(records.column("_offset"), pa.array(bases, pa.int64())).combine_chunks())
        elif field.name == "_record_length":
            arrays.append(records.column("_length").combine_chunks())
        else:
            arrays.append(kept.column(field.name))
    return TableBatch(TABLE, pa.RecordBatch.from_arrays(arrays, schema=kept.schema), bytes(buffer))


def _one_record(value: bytes, bare: FieldSpec) -> tuple[pa.RecordBatch | None, str]:
    """The one-row batch of the record a decoded value holds, or why it holds none (the words after the record's
    name in kafka_audit.sql's reasons)."""
    text = value.strip(_WS)
    if text[:1] != b"{":
        kind = _JSON_TYPES.get(text[:1], "number")
        try:
            json.loads(text)
        except (ValueError, RecursionError):
            return None, "is not JSON"
        return None, f"is a JSON {kind}, expected a CloudEvents object"
    result = extract(value, bare)
    if result.set_aside and result.records_read == 1:
        [aside] = result.set_aside
        if aside.reason.startswith("invalid JSON"):
            return None, f"is not JSON: {aside.reason}"
        return None, f"holds a record set aside: {aside.reason}"
    if result.records_read != 1:
        return None, "is not JSON: not one JSON value"
    return result.batch, ""


def _finished(piece: TableBatch, payload: bytes, set_aside: list[SetAside]) -> TableBatch:
    """Sets aside the events that lack a required key; adds `_record_text`."""
    batch = piece.batch
    kinds = batch.column("_record_type")
    unsure = pc.and_kleene(pc.equal(kinds, "object"), pc.or_kleene(
        pc.or_kleene(pc.is_null(batch.column("specversion")), pc.is_null(batch.column("ce_type"))),
        _all_null(batch, _DATA_COLUMNS)))
    if pc.any(unsure).as_py():
        refused = _lacking_keys(batch.filter(unsure), payload, set_aside)
        if refused:
            batch = batch.filter(pc.invert(pc.is_in(batch.column("_position"), pa.array(refused, pa.int64()))))
    ids = batch.column("id")
    unnamed = pc.fill_null(pc.or_kleene(pc.is_null(ids), pc.equal(ids, "")), True)
    texts: list[str | None] = [None] * batch.num_rows
    if pc.any(unnamed).as_py():
        spans = batch.select(["_record_offset", "_record_length", "_record_type"]).to_pydict()
        for i, flag in enumerate(unnamed.to_pylist()):
            start, length, kind = (spans[name][i] for name in spans)
            if flag and kind not in (None, "null"):  # a tombstone has no event to name
                texts[i] = payload[start:start + length].decode("utf-8")
    batch = batch.append_column("_record_text", pa.array(texts, pa.string()))
    return TableBatch(TABLE, batch, piece.payload)


def _all_null(batch: pa.RecordBatch, names: tuple[str, ...]) -> pa.Array:
    flags = pc.is_null(batch.column(names[0]))
    for name in names[1:]:
        flags = pc.and_kleene(flags, pc.is_null(batch.column(name)))
    return flags


def _lacking_keys(rows: pa.RecordBatch, payload: bytes, set_aside: list[SetAside]) -> list[int]:
    """The positions of the rows whose event lacks a required key, each set aside with kafka_audit.sql's reason."""
    refused = []
    columns = rows.select(["_position", "_offset", "_record_offset", "_record_length", "_enveloped",
                           "kafka_partition", "kafka_offset"]).to_pydict()
    for position, offset, start, length, enveloped, partition, kafka_offset in zip(*columns.values(), strict=True):
        event = json.loads(payload[start:start + length])
        missing = [key for key in REQUIRED_KEYS if key not in event]
        if missing:
            keys = ", ".join(list(event)[:_SHOWN_KEYS]) or "none"
            set_aside.append(SetAside(
                f"{where(partition, kafka_offset, enveloped)}is not a Confluent audit event (CloudEvents): "
                f"no {', '.join(missing)}; found keys: {keys}", position, offset))
            refused.append(position)
    return refused
