"""Every Parquet and quarantine file the ledger committed (and no compaction replaced since) is there, unchanged,
with the rows it recorded."""

from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from sovaudit.fsutil import contained_path
from sovaudit.live_files import live_files
from sovaudit.verify.hashing import hash_files
from sovaudit.verify.ledger_chain import LedgerLine
from sovaudit.verify.outcome import CheckOutcome

CHECK = "lake_files"


@dataclass(frozen=True)
class CommittedFile:
    table: str  # a lake table, or "quarantine"
    path: Path
    relative: str
    sha256: str | None
    rows: int | None
    line: LedgerLine


def committed_files(root: Path, lines: list[LedgerLine], outcome: CheckOutcome) -> list[CommittedFile]:
    """The files that are part of the lake: each Parquet file an entry committed and no later compaction replaced
    (sovaudit.live_files), and every quarantine file."""
    named: list[tuple[LedgerLine, str, dict]] = [
        (lines[index], record.get("table"), record) for index, record in live_files(line.entry for line in lines)]
    for line in lines:
        quarantine = line.entry.get("quarantine_file")
        if isinstance(quarantine, dict):
            named.append((line, "quarantine", quarantine))
    out = []
    for line, table, record in named:
        relative = str(record.get("path"))
        try:
            path = contained_path(root, relative)
        except ValueError:
            outcome.broken(line.label, "names a file outside the lake", "a path under the lake", relative)
            continue
        out.append(CommittedFile(table, path, relative, record.get("sha256"), record.get("rows"), line))
    return out


def _rows(item: CommittedFile) -> int:
    if item.table == "quarantine":
        return sum(1 for line in item.path.read_bytes().split(b"\n") if line.strip())
    return pq.read_metadata(item.path).num_rows


def _unlisted(root: Path, listed: set[Path]) -> list[str]:
    found = []
    for directory in (root / "tables", root / "quarantine"):
        if directory.exists():
            found += [str(p.relative_to(root)) for p in directory.rglob("*")
                      if p.is_file() and p.resolve() not in listed]
    return sorted(found)


def check_lake_files(root: Path, lines: list[LedgerLine]) -> tuple[CheckOutcome, list[CommittedFile]]:
    """Return the outcome and the files that verified (the ones later checks may read)."""
    outcome = CheckOutcome(CHECK, "Parquet and quarantine files re-hashed against the ledger", unit="files")
    files = committed_files(root, lines, outcome)
    hashes = hash_files(item.path for item in files)
    good = []
    for item in files:
        outcome.checked += 1
        where = f"{item.relative} (committed by {item.line.label})"
        found = hashes[item.path]
        if isinstance(found, FileNotFoundError):
            outcome.broken(where, "the file the ledger committed is missing", item.sha256, "no such file")
            continue
        if isinstance(found, OSError):
            outcome.broken(where, f"the file cannot be read: {found.strerror}")
            continue
        if found != item.sha256:
            outcome.broken(where, "the file's bytes no longer match the SHA-256 the ledger recorded for it",
                           item.sha256, found)
            continue
        try:
            rows = _rows(item)
        except (OSError, pa.ArrowException) as exc:
            outcome.broken(where, f"the file cannot be read as {item.table} data: {exc}")
            continue
        if item.rows is not None and rows != item.rows:
            outcome.broken(where, "the file holds a different number of rows than the ledger recorded",
                           f"{item.rows} rows", f"{rows} rows")
            continue
        good.append(item)
    unlisted = _unlisted(root, {item.path.resolve() for item in files})
    if unlisted:
        outcome.notes.append(f"{len(unlisted)} file(s) under tables/ or quarantine/ are not part of the lake (no "
                             "ledger entry names them, or a compaction replaced them), so no query reads them (left "
                             "by an interrupted pull or compaction, or by a removed ledger entry): "
                             + ", ".join(unlisted[:5]) + (" …" if len(unlisted) > 5 else ""))
    return outcome, good
