"""Rewriting a group of part files as one file, and showing it holds the same rows before anything counts on it."""

import os
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from sovaudit.compaction.plan import Group, LakeNotIntact, PartFile
from sovaudit.resources import query_text
from sovaudit.verify.hashing import hash_files


def check_inputs(files: list[PartFile]) -> None:
    """Every file to be rewritten is the one the ledger committed (SHA-256 and rows): a compaction must never turn
    altered rows into committed ones."""
    hashes = hash_files(f.path for f in files)
    for part in files:
        where = part.record.get("path")
        found = hashes[part.path]
        if isinstance(found, OSError):
            raise LakeNotIntact(f"{where}: the ledger commits it but it cannot be read ({found.strerror}); nothing "
                                "was compacted: run `sovaudit verify`")
        if found != part.record.get("sha256"):
            raise LakeNotIntact(f"{where}: its bytes no longer match the SHA-256 the ledger recorded for it; nothing "
                                "was compacted: run `sovaudit verify`")
        try:
            rows = pq.read_metadata(part.path).num_rows
        except (OSError, pa.ArrowException) as exc:
            raise LakeNotIntact(f"{where}: not readable as Parquet ({exc}); nothing was compacted") from None
        if rows != part.record.get("rows"):
            raise LakeNotIntact(f"{where}: holds {rows} rows, the ledger recorded {part.record.get('rows')}; nothing "
                                "was compacted: run `sovaudit verify`")


class Rewriter:
    """One DuckDB connection for a compaction's groups, spilling under the work space."""

    def __init__(self, work: Path, memory_limit: str = "768MB"):
        self.con = duckdb.connect(":memory:")
        self.con.execute("SET TimeZone = 'UTC'")
        self.con.execute("SET memory_limit = ?", [memory_limit])
        self.con.execute("SET temp_directory = ?", [str(work / "spill")])

    def _fingerprint(self, files: list[str]) -> tuple:
        return self.con.execute(query_text("compact/fingerprint.sql"), {"files": files}).fetchone()

    def rewrite(self, group: Group, target: Path) -> int:
        """Write `group` as `target` (fsynced); returns its rows. Raises if the rows are not the group's own."""
        files = [str(f.path) for f in group.files]
        self.con.execute(query_text("compact/rewrite.sql"), {"files": files, "target": str(target)})
        before, after = self._fingerprint(files), self._fingerprint([str(target)])
        if before != after or after[0] != group.rows:
            raise RuntimeError(f"internal error: the compacted file of {group.table}/{group.partition} does not hold "
                               f"the rows of the files it replaces ({before} against {after}); nothing was committed")
        with open(target, "rb") as handle:
            os.fsync(handle.fileno())
        return after[0]

    def close(self) -> None:
        self.con.close()
