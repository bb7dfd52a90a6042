"""Every lake row's evidence blob (and any other `*_blob` reference) is held by the archive."""

from collections import defaultdict
from pathlib import Path

import duckdb

from sovaudit.archive import EvidenceArchive
from sovaudit.resources import query_text
from sovaudit.verify.lake_files import CommittedFile
from sovaudit.verify.outcome import CheckOutcome

CHECK = "evidence_refs"


def _blob_columns(con: duckdb.DuckDBPyConnection, paths: list[str]) -> list[str]:
    described = con.execute("DESCRIBE SELECT * FROM read_parquet(?, union_by_name = true)", [paths]).fetchall()
    return [name for name, *_ in described if name == "evidence_blob" or name.endswith("_blob")]


def check_evidence_refs(archive: EvidenceArchive, files: list[CommittedFile]) -> CheckOutcome:
    outcome = CheckOutcome(CHECK, "Every lake row's evidence blob exists in the archive", unit="rows")
    by_table: dict[str, list[CommittedFile]] = defaultdict(list)
    for item in files:
        by_table[item.table].append(item)
    con = duckdb.connect(":memory:")
    try:
        for table, items in sorted(by_table.items()):
            if table == "quarantine":
                paths = [str(i.path) for i in items]
                rows = con.execute(query_text("verify/quarantine_blobs.sql"), [paths]).fetchall()
                outcome.checked += sum(count for *_, count in rows)
                _missing(outcome, archive, table, "blob", rows)
                continue
            paths = [str(i.path) for i in items]
            outcome.checked += sum(i.rows or 0 for i in items)
            for column in _blob_columns(con, paths):
                sql = query_text("verify/row_blobs.sql").replace("{column}", f'"{column}"')
                _missing(outcome, archive, table, column, con.execute(sql, [paths]).fetchall())
    finally:
        con.close()
    return outcome


def _missing(outcome: CheckOutcome, archive: EvidenceArchive, table: str, column: str,
             rows: list[tuple[str, str, int]]) -> None:
    for filename, blob, count in rows:
        try:
            held = archive.path_for(blob).is_file()
        except ValueError:
            held = False
        if not held:
            where = Path(filename).name
            outcome.broken(f"{table} rows in {where}", f"{count} row(s) cite {column} {blob!r}, which the archive "
                           "does not hold", f"raw/{str(blob)[:2]}/{blob}", "no such blob")
