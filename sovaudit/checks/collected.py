"""What the ledger says was pulled, as a table checks can read (`checks.pulls`): one row per pull and lake table
with a time. queries/session/collected.sql turns it into the time each pull collected (`checks.collected`).

A pull's own words are kept, not judged here: its window, when it started, whether it read local files (its
ledger record has a `path`), and how many inputs failed. The SQL decides what interval that means."""

from datetime import UTC, datetime
from typing import Any

import duckdb
import pyarrow as pa

from sovaudit.ledger import Ledger, canonical
from sovaudit.schema import lake_tables

_SCHEMA = pa.schema([
    ("seq", pa.int64()), ("run_id", pa.string()), ("table_name", pa.string()), ("source_name", pa.string()),
    ("source_type", pa.string()), ("source_key", pa.string()), ("from_files", pa.bool_()),
    ("window_since", pa.timestamp("us", tz="UTC")), ("window_until", pa.timestamp("us", tz="UTC")),
    ("started_at", pa.timestamp("us", tz="UTC")), ("failures", pa.int64()), ("stored", pa.int64()),
])


def _time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def pull_rows(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per pull and table it wrote that has a time (verification entries write none)."""
    timed = {name for name, schema in lake_tables().items() if schema.time_column}
    rows = []
    for number, entry in enumerate(entries, start=1):
        source = entry.get("source") if isinstance(entry.get("source"), dict) else {}
        window = entry.get("window") if isinstance(entry.get("window"), dict) else {}
        counts = entry.get("counts") if isinstance(entry.get("counts"), dict) else {}
        failures = entry.get("failures")
        for table in Ledger.tables_of(entry):
            if not isinstance(table, str) or table not in timed:
                continue
            rows.append({
                "seq": number, "run_id": _text(entry.get("run_id")), "table_name": table,
                "source_name": _text(source.get("name")), "source_type": _text(source.get("type")),
                # The same source pulled again (the same settings) continues where it left off.
                "source_key": canonical(source).decode(), "from_files": "path" in source,
                "window_since": _time(window.get("since")), "window_until": _time(window.get("until")),
                "started_at": _time(entry.get("started_at")),
                "failures": len(failures) if isinstance(failures, list) else int(bool(failures)),
                "stored": counts.get("stored") if type(counts.get("stored")) is int else None,
            })
    return rows


def live_until(entries: list[dict[str, Any]]) -> datetime | None:
    """The latest time a pull of an API, a bucket or a topic (not of files, none with a failed input) collected
    up to: its --until, or when it started. A record collected and quiet up to then still counts as evidence."""
    ends = []
    for row in pull_rows(entries):
        if not row["from_files"] and not row["failures"] and row["started_at"]:
            ends.append(min(row["window_until"] or row["started_at"], row["started_at"]))
    return max(ends, default=None)


def add_pulls(con: duckdb.DuckDBPyConnection, entries: list[dict[str, Any]]) -> None:
    """Create checks.pulls (the schema must exist) and checks.pull_rows: the first and last record time each
    pull stored in each table, from the lake's `ingest_run` column."""
    con.register("_pulls_source", pulls_table(entries))
    con.execute("CREATE OR REPLACE TABLE checks.pulls AS SELECT * FROM _pulls_source")
    con.unregister("_pulls_source")
    con.execute(pull_rows_view())


def pull_rows_view() -> str:
    """checks.pull_rows: the first and last record time and the records each pull stored in each table."""
    # Table and column names come from our own schema files, never from users.
    spans = [f"SELECT '{name}' AS table_name, ingest_run, min({schema.time_column}) AS first_time, "  # noqa: S608
             f"max({schema.time_column}) AS last_time, count(*) AS records FROM main.{name} "
             "WHERE ingest_run IS NOT NULL GROUP BY ingest_run"
             for name, schema in lake_tables().items() if schema.time_column]
    return "CREATE OR REPLACE VIEW checks.pull_rows AS " + " UNION ALL ".join(spans)


def pulls_table(entries: list[dict[str, Any]]) -> pa.Table:
    return pa.Table.from_pylist(pull_rows(entries), schema=_SCHEMA)
