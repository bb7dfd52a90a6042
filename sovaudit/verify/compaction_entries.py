"""Whether a compaction entry says what a compaction may: it replaced files that were part of the lake, exactly as
the entries that committed them recorded them, with new files of the same table holding the same number of rows.

Read from the ledger alone, as the chain is walked: `live` holds the file records that counted before the entry.
"""

from collections import defaultdict
from typing import Any

from sovaudit.live_files import file_records, replaced_records

Problem = tuple[str, str | None, str | None]  # problem, expected, found


def _rows(record: dict[str, Any]) -> int | None:
    rows = record.get("rows")
    return rows if type(rows) is int else None


def _replaced_problems(replaced: list[dict[str, Any]], live: dict[str, dict[str, Any]],
                       new: dict[str, dict[str, Any]]) -> list[Problem]:
    out: list[Problem] = []
    for record in replaced:
        path = str(record.get("path"))
        before = live.get(path)
        if before is None:
            out.append((f"replaces {path}, which was not part of the lake at that point", "a file committed earlier "
                        "and not replaced since", "no such file in the ledger"))
            continue
        for key in ("table", "sha256", "rows"):
            if record.get(key) != before.get(key):
                out.append((f"replaces {path} with a {key} other than the one its own entry recorded",
                            str(before.get(key)), str(record.get(key))))
        if str(record.get("into")) not in new:
            out.append((f"says the rows of {path} went into {record.get('into')}, which is not a file this compaction "
                        "wrote", "one of its files", str(record.get("into"))))
    return out


def _new_file_problems(replaced: list[dict[str, Any]], live: dict[str, dict[str, Any]],
                       new: dict[str, dict[str, Any]]) -> list[Problem]:
    out: list[Problem] = []
    sources: defaultdict[str, list[dict[str, Any]]] = defaultdict(list)
    for record in replaced:
        sources[str(record.get("into"))].append(record)
    for path, record in new.items():
        if path in live:
            out.append((f"writes {path}, which was part of the lake already", "a new file", path))
        held = sources.get(path, [])
        if not held:
            out.append((f"writes {path} but names no file whose rows it holds", "at least one replaced file", "none"))
            continue
        tables = {r.get("table") for r in held}
        if tables != {record.get("table")}:
            out.append((f"writes {path} for table {record.get('table')} from files of {', '.join(map(str, tables))}",
                        str(record.get("table")), ", ".join(sorted(map(str, tables)))))
        before = [_rows(r) for r in held]
        if None in before or _rows(record) != sum(r for r in before if r is not None):
            out.append((f"writes {path} with a row count other than the files it replaces held",
                        f"{sum(r or 0 for r in before)} rows", f"{record.get('rows')} rows"))
    return out


def compaction_problems(entry: dict[str, Any], live: dict[str, dict[str, Any]]) -> list[Problem]:
    replaced, new = replaced_records(entry), {str(r.get("path")): r for r in file_records(entry)}
    if not replaced or not new:
        return [("a compaction entry that replaces no file or writes none", "replaced files and new files",
                 f"{len(replaced)} replaced, {len(new)} new")]
    return _replaced_problems(replaced, live, new) + _new_file_problems(replaced, live, new)
