"""Event ids that come again: a duplicate when the record is the same as the copy already held, a conflict when it
is not.

Both records are read again from the archive, through the table's preparer, for repeated ids only: an extracted
blob's record is its bytes in the blob (the batch's `_offset` and `_length`, or inside an envelope
`_record_offset` and `_record_length`), a sliced one's is read by
queries/normalize/records.sql. A pull without repeats pays nothing; hashing every record as it is normalized cost a fifth of a
pull whose normalize query reads typed columns rather than each record's text. The same text is the
same record. Other text is compared as parsed JSON, canonically (keys sorted, no whitespace), so that a copy written
out again with other whitespace or another key order is still a duplicate.
"""

import hashlib
import json
import re
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import orjson

from sovaudit.archive import EvidenceArchive
from sovaudit.ingest.prepared import BlobPreparer, PreparedBlob, TableSlice
from sovaudit.redact import redact
from sovaudit.resources import query_text

# queries/verify/id_conflicts.sql counts the quarantine rows whose reason has this shape.
CONFLICT_REASON = "event id {uid} already stored with other content (blob {blob} record {index})"
_SHOWN_ID_CHARS = 200

Place = tuple[str, int]  # (blob, position in it)


@dataclass(frozen=True)
class Repeat:
    """A row of this pull whose event id was held already: by the lake, or by an earlier row of the pull."""

    uid: str
    blob: str
    index: int
    copy_blob: str
    copy_index: int

    @property
    def place(self) -> Place:
        return self.blob, self.index

    @property
    def copy(self) -> Place:
        return self.copy_blob, self.copy_index

    def reason(self) -> str:
        shown = redact(self.uid)
        if len(shown) > _SHOWN_ID_CHARS:
            shown = shown[:_SHOWN_ID_CHARS] + "…"
        return CONFLICT_REASON.format(uid=shown, blob=self.copy_blob, index=self.copy_index)


class RecordReader:
    """One table's records read back from the archived blobs, as the pull that stored them read them."""

    def __init__(self, archive: EvidenceArchive, preparer: BlobPreparer, table: str,
                 db: duckdb.DuckDBPyConnection, work: Path):
        self.archive, self.preparer, self.table, self.db, self.work = archive, preparer, table, db, work
        self.sql = query_text("normalize/records.sql")

    def digests(self, places: list[Place], digest: Callable[[str | None], str | None]) -> dict[Place, str | None]:
        """`digest` of each place's record; a record that cannot be read back is missing from the result."""
        wanted: defaultdict[str, set[int]] = defaultdict(set)
        for blob, index in places:
            wanted[blob].add(index)
        found: dict[Place, str | None] = {}
        for blob, indexes in wanted.items():
            for index, text in self._records(blob):
                if index in indexes:
                    found[(blob, index)] = digest(text)
        return found

    def _records(self, blob: str) -> Iterator[tuple[int, str | None]]:
        """Each record of the blob with its position: from the fast slice when DuckDB reads it, else record by record,
        as IngestRun.add_blob reads a blob."""
        try:
            data = self.archive.read(blob)
        except (OSError, ValueError):  # gone from the archive: `sovaudit verify` reports that
            return
        work = self.work / f"again-{blob}"
        prepared = self.preparer.fast(data, work)
        if prepared.batches:
            yield from _extracted_records(prepared, self.table)
            return
        if prepared.slices:
            try:
                yield from self._read(prepared.slices[0])
                return
            except duckdb.Error:
                pass
            finally:
                for piece in prepared.slices:
                    piece.array_path.unlink(missing_ok=True)
        if prepared.payload is None:
            return
        careful = self.preparer.careful(prepared.payload, work)
        for piece in careful.slices:
            try:
                if piece.table == self.table:
                    yield from self._read(piece)
            except duckdb.Error:  # the pull set these records aside: none of them was stored
                pass
            finally:
                piece.array_path.unlink(missing_ok=True)

    def _read(self, piece: TableSlice) -> list[tuple[int, str | None]]:
        if piece.table != self.table:
            return []
        params = {"path": str(piece.array_path), "index_map": piece.positions, "table": self.table}
        return self.db.execute(self.sql, params).fetchall()


def _extracted_records(prepared: PreparedBlob, table: str) -> Iterator[tuple[int, str | None]]:
    """An extracted blob's records as delivered: each row's `_offset` and `_length` in the decoded blob; where the
    spec has an envelope, the record proper inside it (`_record_offset`, `_record_length`: a broker message's value,
    not the envelope that says where it was read), in the bytes the piece names (a value decoded from base64)."""
    for piece in prepared.batches:
        if piece.table != table:
            continue
        payload = piece.payload if piece.payload is not None else prepared.payload or b""
        names = ["_record_offset", "_record_length"] if "_record_offset" in piece.batch.schema.names else \
            ["_offset", "_length"]
        columns = piece.batch.select(["_position", *names]).to_pydict()
        for position, offset, length in zip(*columns.values(), strict=True):
            yield position, None if offset is None else payload[offset:offset + length].decode("utf-8", "replace")


def conflicts(repeats: list[Repeat], reader: RecordReader) -> list[Repeat]:
    """The repeats whose record is not the same as their copy's. A record that cannot be read back counts as
    another record: what cannot be shown to be a duplicate is not dropped as one."""
    both = [r.place for r in repeats] + [r.copy for r in repeats]
    exact = reader.digests(both, _text_sha256)
    unsure = [r for r in repeats if exact.get(r.place) is None or exact.get(r.place) != exact.get(r.copy)]
    if not unsure:
        return []
    parsed = reader.digests([r.place for r in unsure] + [r.copy for r in unsure], _canonical_sha256)
    return [r for r in unsure if parsed.get(r.place) is None or parsed.get(r.place) != parsed.get(r.copy)]


def _text_sha256(text: str | None) -> str | None:
    return None if text is None else hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def canonical(text: str | None) -> str | None:
    """The record as JSON with its keys sorted and no whitespace; None when it does not parse."""
    if text is None:
        return None
    try:
        return json.dumps(json.loads(text), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    except (ValueError, RecursionError):
        return None


# orjson reads an integer past 64 bits as a float, so two different ones could read the same: such a record goes
# through `canonical` (the standard library keeps integers exact), as does one orjson refuses (NaN, a lone surrogate,
# depth). Each form is marked, so the two forms never compare equal.
_LONG_DIGITS = re.compile(r"[0-9]{19}")


def _canonical_sha256(text: str | None) -> str | None:
    """The SHA-256 of the record's canonical form; orjson's where it reads the record exactly (10x faster: a pull whose
    300,000 records all conflicted spent 20 of its 53 s in the standard library's json), else `canonical`'s."""
    if text is None:
        return None
    if not _LONG_DIGITS.search(text):
        try:
            return hashlib.sha256(b"o" + orjson.dumps(orjson.loads(text), option=orjson.OPT_SORT_KEYS)).hexdigest()
        except (orjson.JSONDecodeError, orjson.JSONEncodeError):
            pass
    form = canonical(text)
    return None if form is None else hashlib.sha256(b"j" + form.encode("utf-8", "surrogatepass")).hexdigest()
