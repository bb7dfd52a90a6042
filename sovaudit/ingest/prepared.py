"""What a preparer hands the normalize SQL for one blob: per table, a JSON array file of its records, or the Arrow
batch the native extractor took from it (sovaudit.ingest.extract)."""

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from sovaudit.ingest.records import SetAside

if TYPE_CHECKING:  # `pull --help` loads the preparers: no pyarrow for it
    import pyarrow as pa


@dataclass
class TableSlice:
    """Records of one table, byte-for-byte, in a JSON array file."""

    table: str
    array_path: Path
    positions: list[int] | None  # None: array position is the record's position in the blob


@dataclass
class TableBatch:
    """Records of one table as the native extractor took them, for queries/normalize/<table>_batch.sql; `_offset`
    and `_length` are each record's bytes in the decoded blob."""

    table: str
    batch: "pa.RecordBatch"
    # The bytes that `_record_offset`/`_record_length` index when they are not the blob's (values decoded from base64).
    payload: bytes | None = None


@dataclass
class PreparedBlob:
    slices: list[TableSlice]
    records_read: int | None  # None: counted by the SQL (fast path)
    set_aside: list[SetAside] = field(default_factory=list)
    payload: bytes | None = None  # the decoded blob, kept for the careful path
    batches: list[TableBatch] = field(default_factory=list)  # extracted: then records_read counts them all


class BlobPreparer(Protocol):
    """Turns a source's blobs into table slices. `work` is a path prefix for the array files."""

    tables: tuple[str, ...]
    # queries/ files run once per pull before any normalize SQL (e.g. macros), each a name or (name, parameters)
    setup_queries: tuple[str | tuple[str, dict[str, Any]], ...]

    def sql_params(self, table: str) -> dict[str, Any]:
        """Named parameters the table's normalize SQL takes besides path, index_map, blob, run and pull_started."""

    def fast(self, data: bytes, work: Path) -> PreparedBlob:
        """Extracted batches (the blob is then read: `careful` never runs), or at most one slice, which DuckDB may
        read as is; or none (then `careful` runs on the payload, as it does when DuckDB refuses the slice)."""

    def careful(self, payload: bytes, work: Path) -> PreparedBlob:
        """Record by record, setting aside what cannot be stored."""
