"""`sovaudit checks export`: the session and the checks compiled for an engine, as one SQL script to run there.

The script is self-contained apart from the lake's Parquet files: it declares one view per lake table over the
table's directory (Spark) or expects the tables in the catalogue under the same names (Trino, Athena), then the
policy from the config as literal rows, the session's views, and one view per check, `checks_<id>`, each headed by
its id, title and reason template. The window is bound as literals. Reasons are rendered by sovaudit from the
template; a script run elsewhere returns the facts the template reads.
"""

from datetime import datetime
from typing import Any

import duckdb
import pyarrow as pa
from sqlglot import exp

from sovaudit import __version__
from sovaudit.checks import session as duck_session
from sovaudit.checks.catalogue import Check
from sovaudit.checks.collected import pull_rows_view
from sovaudit.config import Config
from sovaudit.engines.compile import CompileError, Compiler
from sovaudit.lake import events_view
from sovaudit.policy import policy_tables
from sovaudit.resources import query_text
from sovaudit.schema import lake_tables
from sovaudit.timewindow import iso

EXPORT_DIALECTS = ("spark", "trino", "athena")


def _sql_type(duckdb_type: str, dialect: str) -> str:
    write = "trino" if dialect == "athena" else dialect
    # A JSON column is text in the Parquet files (and to every other engine).
    return exp.DataType.build("VARCHAR" if duckdb_type == "JSON" else duckdb_type, dialect="duckdb").sql(dialect=write)


def _duckdb_types(table: pa.Table) -> list[str]:
    con = duckdb.connect(":memory:")
    con.register("t", table)
    types = [str(t) for t in con.sql("SELECT * FROM t").types]
    con.close()
    return types


def _value(value: Any) -> exp.Expression:
    if value is None:
        return exp.Null()
    if isinstance(value, bool):
        return exp.Boolean(this=value)
    if isinstance(value, int | float):
        return exp.Literal.number(value)
    if isinstance(value, list):
        return exp.Array(expressions=[_value(v) for v in value])
    return exp.Literal.string(str(value))


def _policy_view(name: str, table: pa.Table, dialect: str) -> str:
    """A policy table as a view of literal rows, each value cast to its column's type."""
    write = "trino" if dialect == "athena" else dialect
    types = [exp.DataType.build(t, dialect="duckdb") for t in _duckdb_types(table)]
    columns = table.column_names
    rows = table.to_pylist() or [dict.fromkeys(columns)]
    selects = [exp.select(*(exp.alias_(exp.cast(_value(row[c]), kind), c) for c, kind in zip(columns, types,
                                                                                                strict=True)))
               for row in rows]
    query: exp.Expression = selects[0]
    for select in selects[1:]:
        query = exp.union(query, select, distinct=False)
    if not table.num_rows:
        query = exp.select("*").from_(exp.Subquery(this=query, alias=exp.TableAlias(this=exp.to_identifier("t"))))
        query = query.where(exp.false())
    return f"{_create_view(dialect)} {name} AS {query.sql(dialect=write)}"


def _create_view(dialect: str) -> str:
    return "CREATE OR REPLACE TEMPORARY VIEW" if dialect == "spark" else "CREATE OR REPLACE VIEW"


def _lake_views(lake_uri: str, dialect: str, with_files: set[str]) -> list[str]:
    if dialect != "spark":
        names = ", ".join(lake_tables())
        return [f"-- The lake's tables are expected in the catalogue as: {names} (Parquet, sovaudit's schema)."]
    out = []
    for name, schema in lake_tables().items():
        con = duckdb.connect(":memory:")
        con.execute(schema.ddl)
        typed = [(column, _sql_type(str(kind), dialect)) for column, kind in zip(*_describe(con, name), strict=True)]
        columns = ", ".join(f"{column} {kind}" for column, kind in typed)
        con.close()
        if name not in with_files:  # no file yet, so no directory to read: an empty view of the same columns
            nulls = ", ".join(f"CAST(NULL AS {kind}) AS {column}" for column, kind in typed)
            out.append(f"CREATE OR REPLACE TEMPORARY VIEW {name} AS SELECT {nulls} WHERE 1 = 0")
            continue
        path = f"{lake_uri.rstrip('/')}/tables/{name}"
        out.append(f"CREATE OR REPLACE TEMPORARY VIEW {name} ({columns}) USING parquet "
                   f"OPTIONS (path '{_quote(path)}', recursiveFileLookup 'true')")
    return out


def _describe(con: duckdb.DuckDBPyConnection, name: str) -> tuple[list[str], list[str]]:
    rows = con.execute(f"DESCRIBE {name}").fetchall()  # noqa: S608 (our names)
    return [r[0] for r in rows], [r[1] for r in rows]


def _quote(text: str) -> str:
    return text.replace("\\", "\\\\").replace("'", "\\'")


def export_script(dialect: str, config: Config, checks: list[Check], since: datetime, until: datetime,
                  baseline_since: datetime, lake_uri: str, pulls: pa.Table,
                  with_files: set[str]) -> tuple[str, dict[str, str]]:
    """The script (with_files: the tables the ledger names files of), and the checks left out because they do not compile for the dialect (id -> why)."""
    if dialect not in EXPORT_DIALECTS:
        raise CompileError(f"--dialect: found {dialect!r}, expected one of {', '.join(EXPORT_DIALECTS)}")
    compiler = Compiler(dialect, variables={"window_since": since, "window_until": until,
                                            "baseline_since": baseline_since})
    parts = [f"-- sovaudit {__version__}: the checks compiled for {dialect}, window {iso(since)} - {iso(until)} "
             f"(baseline from {iso(baseline_since)}).", "-- The lake: one view per table."]
    parts += _lake_views(lake_uri, dialect, with_files)
    if dialect == "spark":
        parts += compiler.script(events_view().replace("CREATE VIEW", "CREATE OR REPLACE VIEW"))
    parts.append("-- The policy, from the config.")
    parts += [_policy_view(name, table, dialect) for name, table in policy_tables(config).items()]
    parts.append("-- The session's views (queries/session/).")
    for table, schema in lake_tables().items():
        if schema.time_column is not None:
            parts += compiler.script(duck_session.window_view(table, schema.time_column))
    parts += compiler.script(f"CREATE OR REPLACE VIEW checks.lake_core AS {duck_session.lake_core_query()}")
    parts.append("-- What the ledger says each pull collected.")
    parts.append(_policy_view("checks_pulls", pulls, dialect))
    compiler.views.add("checks_pulls")
    parts += compiler.script(pull_rows_view())
    for script in duck_session.SESSION_SCRIPTS:
        parts += compiler.script(query_text(f"session/{script}"))
    parts.append("-- The checks: one view each.")
    left_out = {}
    for check in checks:
        try:
            body = compiler.query(check.sql)
        except CompileError as exc:
            left_out[check.id] = str(exc)
            continue
        reason = f"\n-- reason: {check.reason_template}" if check.reason_template else ""
        parts.append(f"-- {check.id}: {check.title}{reason}\n"
                     f"{_create_view(dialect)} checks_{duck_session.view_name(check)} AS {body}")
    return ";\n\n".join(parts) + ";\n", left_out
