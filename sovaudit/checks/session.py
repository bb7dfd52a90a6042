"""A DuckDB connection set up for checks: lake views, policy tables, the window, and the `checks` schema."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import duckdb

from sovaudit.checks.catalogue import Check
from sovaudit.checks.collected import add_pulls, live_until
from sovaudit.config import Config
from sovaudit.lake import Lake
from sovaudit.policy import load_policy
from sovaudit.resources import query_text
from sovaudit.schema import lake_tables
from sovaudit.timewindow import parse_window

DEFAULT_WINDOW_DAYS = 30


@dataclass(frozen=True)
class Window:
    since: datetime
    until: datetime
    baseline_since: datetime
    defaulted: bool  # True when the window was derived from the data, not given


def resolve_window(con: duckdb.DuckDBPyConnection, since: str | None, until: str | None,
                   baseline_days: int, collected_until: datetime | None = None) -> Window:
    """--since/--until, else the last 30 days of data in the lake: ending just after its newest event, or at the
    end of what the newest pull of an API, bucket or topic collected when that is later (a trail that stopped
    delivering has no newest event to end on), but never after now. A record's time is the log's word, not ours:
    one dated in the future must not move the window (and the cap is in SQL, as a lake pulled before such
    records were quarantined may hold times Python cannot hold)."""
    start, end = parse_window(since, until)
    if end is None:
        now = datetime.now(UTC)
        newest = con.execute("SELECT least(max(time), ?) FROM main.events", [now]).fetchall()[0][0]
        end = newest.replace(microsecond=0) + timedelta(seconds=1) if newest else None
        if collected_until is not None and (end is None or collected_until > end):
            end = min(collected_until, now)
        end = end or now
    if start is None:
        start = end - timedelta(days=DEFAULT_WINDOW_DAYS)
    return Window(start, end, start - timedelta(days=baseline_days), since is None and until is None)


def view_name(check: Check) -> str:
    return check.id.lower().replace("-", "_")


# queries/session/, in load order: each file reads only what the files before it created, and combined.sql
# joins the per-family views.
SESSION_SCRIPTS = ("common.sql", "collected.sql", "cloudtrail.sql", "azure.sql", "kafka.sql", "copies.sql",
                   "replicas.sql", "guardrails.sql", "stores.sql", "combined.sql")

# In this order: collected_spans reads collected.
DERIVED = ("collected", "collected_spans", "resource_class", "key_class", "topic_class", "cloudtrail_changes",
            "trail_changes", "azure_changes", "resource_location", "db_replicas", "guardrail_changes",
            "store_creations")
# copies.sql's views, after resource_class, which two of them read.
DERIVED += ("copy_call_fields", "backup_copies", "snapshot_copies", "org_accounts", "snapshot_shares",
             "azure_backup_restores")
# The common columns the built-in checks read; user_agent, evidence_blob and the like stay on disk.
CORE_COLUMNS = ("event_uid", "source", "time", "account", "region", "action", "action_class", "outcome",
                "error_code", "actor", "src_ip", "src_country", "src_cloud", "src_cloud_region",
                "src_cloud_service", "resource", "resource_region", "dest_resource",
                "dest_region", "key_id", "bytes_out")


def window_view(table: str, column: str) -> str:
    """checks.<table>: a lake table's rows in the window."""
    # Table and column names come from our own schema files, never from users.
    return (f"CREATE OR REPLACE VIEW checks.{table} AS SELECT * FROM main.{table} "  # noqa: S608
            f"WHERE {column} >= getvariable('window_since') AND {column} < getvariable('window_until')")


def lake_core_query() -> str:
    return query_text("session/lake_core.sql").replace("{core_columns}", ", ".join(f"e.{c}" for c in CORE_COLUMNS))


def prepare(con: duckdb.DuckDBPyConnection, config: Config, window: Window, checks: list[Check],
            ledger_entries: list[dict[str, Any]], for_run: bool = False) -> dict[str, str]:
    """Add policy tables, the window, what the ledger says was collected (checks.pulls) and one view per check
    (checks.xr_001 …) to a lake connection. Returns the checks whose SQL does not bind, with DuckDB's message.

    for_run: the connection will run every check, so read the lake once: the columns the built-in checks
    use go into memory (checks.lake_core), and the classification and configuration-change tables are
    computed once. Without it everything stays a view, which costs nothing until queried (`sovaudit sql`)."""
    load_policy(con, config)
    con.execute("SET VARIABLE window_since = ?::TIMESTAMPTZ", [window.since])
    con.execute("SET VARIABLE window_until = ?::TIMESTAMPTZ", [window.until])
    con.execute("SET VARIABLE baseline_since = ?::TIMESTAMPTZ", [window.baseline_since])
    con.execute("CREATE SCHEMA IF NOT EXISTS checks")
    add_pulls(con, ledger_entries)
    for table, schema in lake_tables().items():
        # Table and column names come from our own schema files, never from users. Tables without a time
        # (e.g. verification results) are not windowed.
        column = schema.time_column
        if column is None:
            continue
        con.execute(window_view(table, column))
    kind = "TABLE" if for_run else "VIEW"
    con.execute(f"CREATE OR REPLACE {kind} checks.lake_core AS {lake_core_query()}")
    for script in SESSION_SCRIPTS:
        con.execute(query_text(f"session/{script}"))
    if for_run:
        for name in DERIVED:
            con.execute(f"CREATE TABLE checks._{name} AS SELECT * FROM checks.{name}")  # noqa: S608
            con.execute(f"DROP VIEW checks.{name}")
            con.execute(f"ALTER TABLE checks._{name} RENAME TO {name}")
    broken = {}
    for check in checks:
        try:
            con.execute(f'CREATE OR REPLACE VIEW checks."{view_name(check)}" AS {check.sql}')
        except duckdb.Error as exc:
            broken[check.id] = f"{check.path}: the SQL does not run: {str(exc).splitlines()[0]}"
    return broken


def open_session(lake: Lake, config: Config, checks: list[Check], since: str | None = None,
                 until: str | None = None) -> tuple[duckdb.DuckDBPyConnection, Window, dict[str, str]]:
    con = lake.connect()
    # Checks order their own results; letting DuckDB copy the lake in any order keeps both cores busy.
    con.execute("SET preserve_insertion_order = false")
    entries = lake.ledger.entries()
    window = resolve_window(con, since, until, config.thresholds.baseline_days, live_until(entries))
    broken = prepare(con, config, window, checks, entries, for_run=True)
    return con, window, broken
