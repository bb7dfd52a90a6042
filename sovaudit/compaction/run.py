"""One compaction: rewrite a table's part files as one file per day (or per size limit), and commit the swap as
one ledger entry that names the files replaced and the files written, with their hashes and rows.

Crash safety: the old files are the lake's until the entry is appended. The new files are staged under tmp/,
checked to hold exactly the rows of the files they replace, moved into tables/ (files no entry names, which no
reader reads), and only then is the entry appended; the old files are deleted after it. A compaction killed at
any point leaves files that are not part of the lake, which the next writer's Lake.recover() removes.
"""

import os
import shutil
import uuid
from collections import defaultdict
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sovaudit import __version__
from sovaudit.compaction.plan import DEFAULT_MAX_FILE_MB, Group, PartFile, live_parts, plan
from sovaudit.compaction.rewrite import Rewriter, check_inputs
from sovaudit.errors import UsageError
from sovaudit.failpoints import hit
from sovaudit.fsutil import fsync_dir, storage_errors
from sovaudit.lake import Lake
from sovaudit.live_files import COMPACTION
from sovaudit.lock import lake_lock
from sovaudit.schema import lake_tables
from sovaudit.timewindow import iso
from sovaudit.verify.hashing import file_sha256

RECORD_KEYS = ("table", "path", "sha256", "rows")


def new_run_id() -> str:
    """The same form as a pull's run id: when it started, and 8 random hex digits."""
    return f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:8]}"


@dataclass
class TableFigures:
    """One table before and after: `days` is how many day partitions were (or would be) rewritten."""

    table: str
    days: int = 0
    files_before: int = 0
    files_after: int = 0
    rows: int = 0
    bytes_before: int = 0
    bytes_after: int | None = None  # unknown in a dry run


@dataclass
class CompactionResult:
    dry_run: bool
    tables: list[TableFigures]
    entry: dict[str, Any] | None = None  # the ledger entry, when one was appended
    removed: int = 0  # replaced files deleted after the entry was appended

    @property
    def changed(self) -> bool:
        return any(t.days for t in self.tables)

    def as_dict(self) -> dict[str, Any]:
        return {"dry_run": self.dry_run, "changed": self.changed, "tables": [asdict(t) for t in self.tables],
                "run_id": self.entry["run_id"] if self.entry else None,
                "ledger_hash": self.entry["hash"] if self.entry else None}


def _figures(parts: list[PartFile], groups: list[Group], tables: set[str] | None,
             written: dict[int, int] | None) -> list[TableFigures]:
    """Per table with files: `written` maps a group's position to its new file's size (None: a dry run)."""
    out: dict[str, TableFigures] = {}
    for part in parts:
        if tables is None or part.table in tables:
            figures = out.setdefault(part.table, TableFigures(part.table))
            figures.files_before += 1
            figures.rows += part.rows
            figures.bytes_before += part.size
    days: defaultdict[str, set[str]] = defaultdict(set)
    fewer_files: defaultdict[str, int] = defaultdict(int)
    fewer_bytes: defaultdict[str, int] = defaultdict(int)
    for n, group in enumerate(groups):
        days[group.table].add(group.partition)
        fewer_files[group.table] += len(group.files) - 1
        if written is not None:
            fewer_bytes[group.table] += group.size - written[n]
    for figures in out.values():
        figures.days = len(days[figures.table])
        figures.files_after = figures.files_before - fewer_files[figures.table]
        if written is not None:
            figures.bytes_after = figures.bytes_before - fewer_bytes[figures.table]
    return sorted(out.values(), key=lambda f: f.table)


def _table_names(tables: list[str] | None) -> set[str] | None:
    if not tables:
        return None
    known = lake_tables()
    unknown = [t for t in tables if t not in known]
    if unknown:
        raise UsageError(f"--table: found {unknown[0]!r}, expected a lake table: {', '.join(sorted(known))}")
    return set(tables)


def compact(lake: Lake, *, tables: list[str] | None = None, max_file_mb: int = DEFAULT_MAX_FILE_MB,
            dry_run: bool = False, lock_timeout: float = 60.0,
            on_lock_wait: Callable[[str], None] | None = None) -> CompactionResult:
    """Compact the lake's tables (or `tables`); with `dry_run`, say what would be done and touch nothing (no lock,
    no recovery: the plan reads the ledger only)."""
    if max_file_mb < 1:
        raise UsageError(f"--max-file-mb: found {max_file_mb}, expected at least 1")
    names = _table_names(tables)
    if dry_run:
        parts = live_parts(lake.root, lake.ledger.entries())
        return CompactionResult(True, _figures(parts, plan(parts, max_file_mb << 20, names), names, None))
    with storage_errors("the lake", lake.root), lake_lock(lake.root, timeout=lock_timeout, on_wait=on_lock_wait):
        lake.recover()
        result = compact_locked(lake, max_file_bytes=max_file_mb << 20, tables=names)
    lake.refresh()
    return result


def compact_locked(lake: Lake, *, max_file_bytes: int = DEFAULT_MAX_FILE_MB << 20, tables: set[str] | None = None,
                   partitions: set[tuple[str, str]] | None = None) -> CompactionResult:
    """Compact while the caller holds the lake lock (a pull compacting the partitions it wrote passes them)."""
    parts = live_parts(lake.root, lake.ledger.entries())
    groups = plan(parts, max_file_bytes, tables, partitions)
    if not groups:
        return CompactionResult(False, _figures(parts, groups, tables, {}))
    check_inputs([f for g in groups for f in g.files])
    run_id, started = new_run_id(), datetime.now(UTC)
    work = lake.tmp_dir / run_id
    work.mkdir(parents=True)
    rewriter = Rewriter(work)
    try:
        staged = []
        for n, group in enumerate(groups, start=1):
            path = work / f"{run_id}_c{n}.parquet"
            staged.append((group, path, rewriter.rewrite(group, path), file_sha256(path), path.stat().st_size))
        rewriter.close()
        hit("compact-after-rewrite")
        files, replaced = [], []
        for group, path, rows, sha256, _ in staged:
            target_dir = lake.tables_dir / group.table / group.partition
            target = target_dir / path.name
            os.replace(path, target)
            fsync_dir(target_dir)
            hit("compact-after-move")
            relative = target.relative_to(lake.root).as_posix()
            files.append({"table": group.table, "path": relative, "sha256": sha256, "rows": rows})
            replaced += [{**{k: f.record.get(k) for k in RECORD_KEYS}, "into": relative} for f in group.files]
        entry = {"kind": COMPACTION, "run_id": run_id, "tool_version": __version__, "started_at": iso(started),
                 "finished_at": iso(datetime.now(UTC)), "max_file_bytes": max_file_bytes,
                 "rows": sum(f["rows"] for f in files), "files": files, "replaced": replaced}
        hit("compact-before-ledger")
        entry = lake.ledger.append(entry)
        hit("compact-after-ledger")
        removed = _remove_replaced(groups)
    finally:
        rewriter.close()
        shutil.rmtree(work, ignore_errors=True)
    written = {n: size for n, (*_, size) in enumerate(staged)}
    return CompactionResult(False, _figures(parts, groups, tables, written), entry, removed)


def _remove_replaced(groups: list[Group]) -> int:
    """Delete the files the appended entry replaced: no reader of the ledger reads them any more."""
    directories: set[Path] = set()
    for group in groups:
        for part in group.files:
            part.path.unlink(missing_ok=True)
            directories.add(part.path.parent)
    for directory in directories:
        fsync_dir(directory)
    return sum(len(g.files) for g in groups)
