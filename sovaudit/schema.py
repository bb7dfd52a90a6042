"""The lake's tables, discovered from `queries/schema/*.sql`, and the common columns every one carries."""

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from sovaudit.resources import resource_dir

COMMON_COLUMNS: tuple[tuple[str, str], ...] = (
    ("event_uid", "VARCHAR"),
    ("source", "VARCHAR"),
    ("time", "TIMESTAMP WITH TIME ZONE"),
    ("account", "VARCHAR"),
    ("region", "VARCHAR"),
    ("service", "VARCHAR"),
    ("action", "VARCHAR"),
    ("action_class", "VARCHAR"),
    ("outcome", "VARCHAR"),
    ("error_code", "VARCHAR"),
    ("actor", "VARCHAR"),
    ("actor_account", "VARCHAR"),
    ("src_ip", "VARCHAR"),
    ("src_country", "VARCHAR"),
    ("src_cloud", "VARCHAR"),
    ("src_cloud_region", "VARCHAR"),
    ("src_cloud_service", "VARCHAR"),
    ("user_agent", "VARCHAR"),
    ("resource", "VARCHAR"),
    ("resource_region", "VARCHAR"),
    ("dest_resource", "VARCHAR"),
    ("dest_region", "VARCHAR"),
    ("key_id", "VARCHAR"),
    ("bytes_out", "BIGINT"),
    ("evidence_blob", "VARCHAR"),
    ("evidence_index", "INTEGER"),
    ("ingest_run", "VARCHAR"),
)
COMMON_COLUMN_NAMES = tuple(name for name, _ in COMMON_COLUMNS)
ACTION_CLASSES = ("read", "write", "delete", "key_use", "config", "auth", "other")

_CREATE = re.compile(r"CREATE\s+TABLE\s+([a-z_][a-z0-9_]*)\s*\(", re.IGNORECASE)
# A schema file whose header says `-- events: no` holds no audit events (e.g. verification results).
_NOT_EVENTS = re.compile(r"^--\s*events:\s*no\s*$", re.MULTILINE)
# Such a table may name the column that places its rows in time (`-- time: snapshot_time`), so that checks
# can window it like events.
_TIME_COLUMN = re.compile(r"^--\s*time:\s*([a-z_][a-z0-9_]*)\s*$", re.MULTILINE)


@dataclass(frozen=True)
class TableSchema:
    name: str
    ddl: str

    @property
    def in_events(self) -> bool:
        """Whether the table carries the common columns and so is part of the `events` view."""
        return not _NOT_EVENTS.search(self.ddl)

    @property
    def time_column(self) -> str | None:
        if self.in_events:
            return "time"
        match = _TIME_COLUMN.search(self.ddl)
        return match.group(1) if match else None


@cache
def lake_tables() -> dict[str, TableSchema]:
    tables = {}
    for path in sorted((resource_dir("queries") / "schema").glob("*.sql")):
        ddl = path.read_text(encoding="utf-8")
        match = _CREATE.search(ddl)
        if not match:
            raise ValueError(f"{path}: expected a CREATE TABLE statement")
        table = TableSchema(match.group(1), ddl)
        if table.in_events:
            table = TableSchema(table.name, _with_common_columns(ddl, path))
        tables[table.name] = table
    return tables


def _with_common_columns(ddl: str, path: Path) -> str:
    """A source table's file lists its native columns; every such table also carries the common columns
    and the partition `date`, appended here so that the list lives in one place (COMMON_COLUMNS)."""
    close = ddl.rstrip().rstrip(";").rstrip()
    if not close.endswith(")"):
        raise ValueError(f"{path}: expected the CREATE TABLE statement to end with ');'")
    common = ",\n".join(f"    {name} {kind}" for name, kind in (*COMMON_COLUMNS, ("date", "DATE")))
    return f"{close[:-1].rstrip()},\n    -- common columns (sovaudit.schema.COMMON_COLUMNS)\n{common}\n);\n"
