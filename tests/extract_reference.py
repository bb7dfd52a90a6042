"""A plain-Python reference for the native extractor (sovaudit.ingest.extract): the careful splitter that the
ingest path uses today (sovaudit.ingest.records), then each spec field from the parsed record, by the rules
the extractor's docstring gives, and the envelope step: a record with the spec's `when` path is an envelope, whose
`record` member holds the record the columns are read from. Slow and simple on purpose: the tests hold the native
rows to it."""

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sovaudit.ingest.extract import MAX_DEPTH, MAX_NUMBER_CHARS, FieldSpec
from sovaudit.ingest.records import split_records

_RFC3339 = re.compile(r"(\d{4}-\d{2}-\d{2})[Tt ](\d{2}:\d{2}:\d{2})(?:\.(\d+))?([Zz]|[+-]\d{2}:\d{2})")
_INTEGER = re.compile(r"-?[0-9]+")


def rfc3339(text: str) -> datetime | None:
    m = _RFC3339.fullmatch(text)
    if not m:
        return None
    date, clock, fraction, zone = m.groups()
    try:
        t = datetime.fromisoformat(f"{date}T{clock}").replace(tzinfo=UTC)
        if zone.upper() != "Z":
            hours, minutes = int(zone[1:3]), int(zone[4:6])
            if hours > 23 or minutes > 59:
                return None
            shift = timedelta(hours=hours, minutes=minutes)
            t = t - shift if zone[0] == "+" else t + shift
    except (ValueError, OverflowError):
        return None
    return t + timedelta(microseconds=int((fraction or "0")[:6].ljust(6, "0")))


@dataclass
class Reference:
    rows: dict[int, dict]  # by position: _offset and each column
    set_aside: dict[int, str]  # position: reason


class _Collect:
    def __init__(self):
        self.records: list[tuple[int, int, bytes]] = []

    def add(self, index, offset, span, value):
        self.records.append((index, offset, span))


def _problem(span: bytes, spec: FieldSpec) -> str | None:
    duplicates: list[str] = []

    def pairs(items):
        keys = [k for k, _ in items]
        if len(set(keys)) != len(keys):
            duplicates.append("duplicate member")
        return dict(items)

    numbers: list[str] = []

    def number(text):
        if len(text) > MAX_NUMBER_CHARS:
            numbers.append(text)
            return 0
        return int(text) if _INTEGER.fullmatch(text) else float(text)

    value = json.loads(span, object_pairs_hook=pairs, parse_int=number, parse_float=number)
    if duplicates:
        return "duplicate member"
    if numbers:
        return "a number of"
    if not isinstance(value, dict):
        return "expected an object"
    record_top = {c.path[0] for c in spec.columns}
    top, inner = record_top, None
    if spec.envelope:
        top = record_top | {c.path[0] for c in spec.envelope.columns} | {spec.envelope.when[0],
                                                                         spec.envelope.record[0]}
        inner = _field(value, spec.envelope.record)
    for names, members in ((top, value), (record_top, inner)):
        if spec.case_variants == "set_aside" and isinstance(members, dict) and any(
                k not in names and k.lower() in {t.lower() for t in names} for k in members):
            return "differs only in letter case"

    def walk(v, depth):
        if isinstance(v, str):
            return any(0xD800 <= ord(c) <= 0xDFFF for c in v)
        if isinstance(v, dict | list):
            if depth >= MAX_DEPTH:
                return "deep"
            items = list(v.items()) if isinstance(v, dict) else [(None, x) for x in v]
            return any((k is not None and walk(k, depth)) or walk(x, depth + 1) for k, x in items)
        return False

    bad = walk(value, 0)
    if bad == "deep":
        return "nested deeper than"
    if bad:
        return "lone surrogate"
    return None


_ABSENT = object()


def _ascii_lower(text: str) -> bytes:
    return text.encode("utf-8", "surrogatepass").lower()


def _field(record: dict, path: tuple[str, ...], absent=None, first_any_case: bool = False):
    """The value at `path`; `first_any_case`: its first name matches the record's first member of that name in any
    letter case (case_variants = "first")."""
    value = record
    for depth, key in enumerate(path):
        if depth == 0 and first_any_case and isinstance(value, dict):
            key = next((k for k in value if _ascii_lower(k) == _ascii_lower(key)), key)
        if not isinstance(value, dict) or key not in value:
            return absent
        value = value[key]
    return value


def _json_type(value) -> str:
    if isinstance(value, dict):
        return "object"
    if isinstance(value, list):
        return "array"
    if isinstance(value, str):
        return "string"
    if isinstance(value, bool):
        return "boolean"
    return "null" if value is None else "number"


def _row(record: dict, spec: FieldSpec) -> dict:
    """The columns of a record, through its envelope when the spec has one and the record is one."""
    first = spec.case_variants == "first"
    if spec.envelope is None:
        return {c.name: convert(_field(record, c.path, first_any_case=first), c.type) for c in spec.columns}
    enveloped = _field(record, spec.envelope.when, _ABSENT, first) is not _ABSENT
    inner = _field(record, spec.envelope.record, _ABSENT, first) if enveloped else record
    source = inner if isinstance(inner, dict) else {}
    row = {c.name: convert(_field(source, c.path, first_any_case=first), c.type) for c in spec.columns}
    row.update({c.name: convert(_field(record, c.path, first_any_case=first), c.type) if enveloped else None
                for c in spec.envelope.columns})
    row["_enveloped"] = enveloped
    row["_record_type"] = None if inner is _ABSENT else _json_type(inner)
    row["_record"] = None if inner is _ABSENT else inner
    return row


def convert(value, kind: str):
    """The column value, in a form to compare with the native one (see same_value)."""
    if value is None:
        return None
    if kind in ("json", "string"):
        return value
    if kind == "bool":
        if isinstance(value, bool):
            return value
        return {"true": True, "false": False}.get(value.lower()) if isinstance(value, str) else None
    if kind == "integer":
        text = value if isinstance(value, str) else None if isinstance(value, bool | float) else str(value)
        if text is None or not _INTEGER.fullmatch(text):
            return None
        number = int(text)
        if not -(2**63) <= number < 2**63:
            raise OverflowError
        return number
    return rfc3339(value) if isinstance(value, str) else None


def same_value(native, reference, kind: str) -> bool:
    """Raw JSON, and a string column's non-string values, are the delivered text: compared parsed."""
    if native is None or reference is None:
        return native is None and reference is None
    if kind == "json" or (kind == "string" and not isinstance(reference, str)):
        return json.loads(native) == reference
    return native == reference


def reference_extract(blob: bytes, spec: FieldSpec) -> Reference:
    sink = _Collect()
    split = split_records(blob, sink, spec.wrappers)
    out = Reference({}, {s.record_index: s.reason for s in split.set_aside})
    for index, offset, span in sink.records:
        problem = _problem(span, spec)
        if problem:
            out.set_aside[index] = problem
            continue
        record = json.loads(span)
        try:
            row = _row(record, spec)
        except OverflowError:
            out.set_aside[index] = "out of the 64-bit range"
            continue
        out.rows[index] = {"_offset": offset, "_length": len(span), **row}
    return out


def assert_same_rows(native_rows: list[dict], reference: dict[int, dict], spec: FieldSpec,
                     blob: bytes | None = None) -> None:
    """With an envelope, also `_enveloped` and `_record_type`, and (given the blob) that `_record_offset` and
    `_record_length` are the bytes of the record proper."""
    columns = spec.columns + (spec.envelope.columns if spec.envelope else ())
    kinds = {c.name: c.type for c in columns}
    assert sorted(r["_position"] for r in native_rows) == sorted(reference)
    for row in native_rows:
        expected = reference[row["_position"]]
        assert (row["_offset"], row["_length"]) == (expected["_offset"], expected["_length"]), row["_position"]
        for name, kind in kinds.items():
            assert same_value(row[name], expected[name], kind), (row["_position"], name, row[name], expected[name])
        if spec.envelope:
            assert (row["_enveloped"], row["_record_type"]) == (expected["_enveloped"], expected["_record_type"])
            if blob is not None and expected["_record_type"] is not None:
                start, length = row["_record_offset"], row["_record_length"]
                assert json.loads(blob[start:start + length]) == expected["_record"], row["_position"]
