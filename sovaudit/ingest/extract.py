"""A decoded blob's records as one Arrow record batch, by the native extractor (sovaudit._native) and a table's
field spec (queries/normalize/<table>.fields.toml), plus the records it set aside, each with its reason.

The batch has `_position` (the record's position in the blob: array index, line number, or document number, as
sovaudit.ingest.records numbers them), `_offset` and `_length` (its bytes in the blob, as delivered), then the
spec's columns in its order, then its envelope's.

A spec may say that a record can come inside an envelope (`[envelope]`: `when`, a path whose presence makes a record
an envelope, `record`, the path of the member holding the record proper, and `[envelope.columns]`, read from the
envelope itself): a message broker's `{"broker": {..., "offset": 7}, "value": {...}}`. The spec's columns are then
read from inside `record` when the record is an envelope, else from the record itself (its envelope columns null),
in the same pass; the whole envelope is validated as one record. Such a batch also has `_enveloped`, `_record_type`
(the JSON type of the record proper: `object`, `array`, `string`, `number`, `boolean`, `null`; null when the
envelope lacks the member) and `_record_offset`, `_record_length` (its bytes in the blob), after `_length`.
Decompression stays in Python (sovaudit.ingest.blobs, isal, which releases the GIL too): the extractor takes
decoded bytes.

Decisions the extractor makes, so that each problem costs one record, never its neighbours:
- a duplicate member name anywhere in a record sets the record aside: readers disagree on which value wins (the
  standard library keeps the last, others the first or refuse), so the record says two things at once;
- a top-level member that is a mapped name in another letter case (`EventName` beside or instead of
  `eventName`) sets it aside too, for the same reason: DuckDB's read_json matches columns ignoring case. A spec
  whose source spells a name either way (`properties` in some records, `Properties` in others) says
  `case_variants = "first"`: such a member is read as the mapped name, and of two spellings in one record the
  first is read; `"exact"` matches top-level names exactly, as nested ones, so that another spelling is no mapped
  name (as DuckDB's json_transform reads them); `"set_aside"` is the default. Nested members
  are matched exactly under every rule;
- a lone surrogate escape (`"\\ud800"`), invalid UTF-8, a control character inside a string, nesting deeper
  than MAX_DEPTH, a number longer than MAX_NUMBER_CHARS, a record over MAX_RECORD_BYTES, a record that is no
  object, and an integer field beyond 64 bits each set the record aside;
- a time that is no RFC 3339 time (year 0, 10000, `infinity`) is NULL in its timestamp column, and the
  normalize SQL quarantines it as it does today;
- a byte order mark is skipped where a document may start; a syntax error ends its line in JSON lines, and
  anywhere else the rest of the blob is one set-aside record.
"""

import tomllib
from dataclasses import dataclass
from functools import cache

import pyarrow as pa

try:
    from sovaudit import _native
except ImportError as exc:  # a checkout run in place, never built
    raise ImportError("sovaudit._native, the native extractor, is not built: `pip install .` compiles it (it needs "
                      "cargo); in a checkout, `maturin develop --release` puts it beside the sources") from exc
from sovaudit.ingest.records import MAX_RECORD_BYTES
from sovaudit.resources import resource_dir

# Audit records nest about ten deep; a thousand-deep record is an attack on a recursive reader, not a log.
MAX_DEPTH = 64
# A 64-bit integer has 20 characters and a double ~25: a 5,000-digit number is no measurement.
MAX_NUMBER_CHARS = 100
TYPES = frozenset({"string", "json", "bool", "integer", "timestamp"})
CASE_VARIANTS = ("set_aside", "first", "exact")
RESERVED = ("_position", "_offset", "_length", "_enveloped", "_record_type", "_record_offset", "_record_length")


class SpecError(ValueError):
    """A field spec that cannot be used; the message names the file and the column."""


@dataclass(frozen=True)
class Column:
    name: str
    path: tuple[str, ...]
    type: str


@dataclass(frozen=True)
class Envelope:
    when: tuple[str, ...]
    record: tuple[str, ...]
    columns: tuple[Column, ...]


@dataclass(frozen=True)
class FieldSpec:
    table: str
    columns: tuple[Column, ...]
    wrappers: tuple[tuple[str, ...], ...]
    envelope: Envelope | None = None
    case_variants: str = "set_aside"

    def bare(self) -> "FieldSpec":
        """The spec of the record proper alone, without its envelope."""
        return FieldSpec(self.table, self.columns, self.wrappers, None, self.case_variants)


@dataclass(frozen=True)
class SetAsideRecord:
    position: int
    offset: int
    reason: str
    raw: bytes


@dataclass
class Extracted:
    batch: pa.RecordBatch
    set_aside: list[SetAsideRecord]

    @property
    def records_read(self) -> int:
        return self.batch.num_rows + len(self.set_aside)


def _path(value: object, where: str) -> tuple[str, ...]:
    if isinstance(value, str):
        value = value.split(".")
    if not isinstance(value, list) or not value or not all(isinstance(p, str) and p for p in value):
        raise SpecError(f"{where}: path must be a dotted name or a list of names")
    return tuple(value)


def _columns(table: object, source: str, taken: set[str]) -> tuple[Column, ...]:
    if not isinstance(table, dict):
        raise SpecError(f"{source}: expected a table of columns")
    columns = []
    for name, entry in table.items():
        where = f"{source}: column {name!r}"
        if name in RESERVED:
            raise SpecError(f"{where}: the name is the extractor's own")
        if name in taken:
            raise SpecError(f"{where}: named twice")
        if not isinstance(entry, dict) or set(entry) != {"path", "type"}:
            raise SpecError(f"{where}: expected {{ path = ..., type = ... }}")
        if entry["type"] not in TYPES:
            raise SpecError(f"{where}: type {entry['type']!r} is none of {', '.join(sorted(TYPES))}")
        taken.add(name)
        columns.append(Column(name, _path(entry["path"], where), entry["type"]))
    return tuple(columns)


def _envelope(data: object, source: str, taken: set[str]) -> Envelope | None:
    if data is None:
        return None
    if not isinstance(data, dict) or set(data) != {"when", "record", "columns"}:
        raise SpecError(f"{source}: [envelope] takes when = ..., record = ... and [envelope.columns]")
    return Envelope(_path(data["when"], f"{source}: envelope when"), _path(data["record"], f"{source}: envelope record"),
                    _columns(data["columns"], f"{source}: [envelope.columns]", taken))


def parse_spec(table: str, text: str, source: str = "<spec>") -> FieldSpec:
    data = tomllib.loads(text)
    taken: set[str] = set()
    columns = _columns(data.get("columns", {}), source, taken)
    if not columns:
        raise SpecError(f"{source}: no [columns]")
    wrappers = tuple(_path(w, f"{source}: wrapper {w!r}") for w in data.get("wrappers", []))
    case_variants = data.get("case_variants", "set_aside")
    if case_variants not in CASE_VARIANTS:
        raise SpecError(f"{source}: case_variants {case_variants!r} is none of {', '.join(CASE_VARIANTS)}")
    return FieldSpec(table, columns, wrappers, _envelope(data.get("envelope"), source, taken), case_variants)


@cache
def load_spec(table: str) -> FieldSpec:
    path = resource_dir("queries") / "normalize" / f"{table}.fields.toml"
    return parse_spec(table, path.read_text(encoding="utf-8"), str(path))


def _native_columns(columns: tuple[Column, ...]) -> list[tuple[str, list[str], str]]:
    return [(c.name, list(c.path), c.type) for c in columns]


def extract(blob: bytes, spec: FieldSpec, max_record_bytes: int = MAX_RECORD_BYTES) -> Extracted:
    """Split and extract `blob` (decoded bytes) in one pass; the GIL is released meanwhile."""
    envelope = spec.envelope and (list(spec.envelope.when), list(spec.envelope.record), _native_columns(spec.envelope.columns))
    schema, array, _, set_aside = _native.extract(
        blob, _native_columns(spec.columns), [list(w) for w in spec.wrappers], envelope, spec.case_variants,
        MAX_DEPTH, max_record_bytes, MAX_NUMBER_CHARS)
    batch = pa.RecordBatch._import_from_c_capsule(schema, array)
    return Extracted(batch, [SetAsideRecord(*entry) for entry in set_aside])
