"""Which Parquet files are part of the lake: the one rule the views, recovery, pulls and `verify` share.

A file counts when an entry's `files` names it and no later compaction entry's `replaced` names it. A pull
(and `verify --cloudtrail`) only adds files; a compaction (`sovaudit compact`) names the files it rewrote as
`replaced` and the files that now hold their rows as `files`, so the old files stop counting at the same
ledger line that makes the new ones count.
"""

from collections.abc import Iterable
from typing import Any

COMPACTION = "compaction"  # the `kind` of a compaction entry; pulls and verifications carry no `kind`


def is_compaction(entry: dict[str, Any]) -> bool:
    return entry.get("kind") == COMPACTION


def _records(entry: dict[str, Any], key: str) -> list[dict[str, Any]]:
    value = entry.get(key)
    return [r for r in value if isinstance(r, dict)] if isinstance(value, list) else []


def replaced_records(entry: dict[str, Any]) -> list[dict[str, Any]]:
    """The files a compaction entry took out of the lake; none for any other entry."""
    return _records(entry, "replaced") if is_compaction(entry) else []


def file_records(entry: dict[str, Any]) -> list[dict[str, Any]]:
    """The files an entry made part of the lake."""
    return _records(entry, "files")


def advance(live: dict[str, Any], entry: dict[str, Any], value: Any) -> None:
    """Apply one entry to `live` (path → `value` of the file that counts): its replaced files out, its files in."""
    for record in replaced_records(entry):
        live.pop(str(record.get("path")), None)
    for record in file_records(entry):
        live[str(record.get("path"))] = value(record)


def live_files(entries: Iterable[dict[str, Any]]) -> list[tuple[int, dict[str, Any]]]:
    """(index of the committing entry, its file record) for every file that counts, in commit order."""
    live: dict[str, tuple[int, dict[str, Any]]] = {}
    for index, entry in enumerate(entries):
        advance(live, entry, lambda record, index=index: (index, record))
    return list(live.values())
