"""What a compaction would rewrite: per table and day partition, the files that count, packed in commit order into
groups of at most `max_bytes` (a file larger than that is a group of its own). A group of one file is left as it
is, so a lake compacted once has nothing left to do."""

from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from sovaudit.errors import SovauditError
from sovaudit.fsutil import contained_path
from sovaudit.live_files import live_files

DEFAULT_MAX_FILE_MB = 512


class LakeNotIntact(SovauditError):
    """A file compaction would read is missing or not what the ledger recorded: compacting it would re-commit
    altered rows under a new hash, so nothing is done and `sovaudit verify` is the next step."""

    exit_code = 1


@dataclass(frozen=True)
class PartFile:
    table: str
    partition: str  # the directory under tables/<table>/: date=YYYY-MM-DD or date=none
    path: Path
    record: dict[str, Any]  # as the ledger committed it: table, path, sha256, rows
    size: int

    @property
    def rows(self) -> int:
        return int(self.record.get("rows") or 0)


@dataclass(frozen=True)
class Group:
    """Files that become one."""

    table: str
    partition: str
    files: tuple[PartFile, ...]

    @property
    def rows(self) -> int:
        return sum(f.rows for f in self.files)

    @property
    def size(self) -> int:
        return sum(f.size for f in self.files)


def live_parts(root: Path, entries: list[dict[str, Any]]) -> list[PartFile]:
    """The files that count and lie where a table's files do (tables/<table>/<partition>/<name>)."""
    out = []
    for _, record in live_files(entries):
        parts = PurePosixPath(str(record.get("path"))).parts
        table = record.get("table")
        if len(parts) != 4 or parts[0] != "tables" or parts[1] != table:
            continue
        try:
            path = contained_path(root, *parts)
            size = path.stat().st_size
        except ValueError:
            raise LakeNotIntact(f"{record['path']}: the ledger names a file outside the lake; nothing was compacted: "
                                "run `sovaudit verify`") from None
        except OSError as exc:
            raise LakeNotIntact(f"{record['path']}: the ledger commits it but it cannot be read "
                                f"({exc.strerror}); nothing was compacted: run `sovaudit verify`") from None
        out.append(PartFile(table, parts[2], path, record, size))
    return out


def plan(parts: list[PartFile], max_bytes: int, tables: set[str] | None = None,
         partitions: set[tuple[str, str]] | None = None) -> list[Group]:
    """The groups to rewrite, of `tables` only (all when None) and of `partitions` ((table, partition)) only."""
    by_partition: defaultdict[tuple[str, str], list[PartFile]] = defaultdict(list)
    for part in parts:
        if (tables is None or part.table in tables) and (partitions is None or (part.table, part.partition)
                                                         in partitions):
            by_partition[(part.table, part.partition)].append(part)
    groups = []
    for (table, partition), files in sorted(by_partition.items()):
        current: list[PartFile] = []
        for part in files:
            if current and sum(f.size for f in current) + part.size > max_bytes:
                groups.append(Group(table, partition, tuple(current)))
                current = []
            current.append(part)
        groups.append(Group(table, partition, tuple(current)))
    return [g for g in groups if len(g.files) > 1]
