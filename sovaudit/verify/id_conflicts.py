"""How many records each source's pulls set aside for reusing a stored event id with other content.

Not a break in the chain of custody: the lake kept the first copy and the quarantine holds the other, with the blob
and position of both. It is evidence about the logs (an altered copy, an export changed and pulled again), so
`verify` and the report state it without failing on it.
"""

import duckdb

from sovaudit.resources import query_text
from sovaudit.verify.lake_files import CommittedFile


def count_id_conflicts(files: list[CommittedFile]) -> dict[str, int]:
    """Per [[sources]] entry name, from the quarantine files among `files` (the ones that verified)."""
    paths = [str(item.path) for item in files if item.table == "quarantine"]
    if not paths:
        return {}
    con = duckdb.connect(":memory:")
    try:
        return {source or "": records for source, records in
                con.execute(query_text("verify/id_conflicts.sql"), [paths]).fetchall()}
    finally:
        con.close()


def describe(conflicts: dict[str, int]) -> str:
    """One line for people; empty when there are none."""
    total = sum(conflicts.values())
    if not total:
        return ""
    per_source = ", ".join(f"{source} {n:,}" for source, n in sorted(conflicts.items()))
    return (f"{total:,} record(s) reused an event id already stored with other content ({per_source}): each is in "
            "the quarantine, naming the stored copy; the stored copy is the one in the tables. "
            "sovaudit sql \"FROM quarantine WHERE reason LIKE 'event id %'\"")
