"""The checks on Apache Spark: the lake, the policy and the session's views in a SparkSession, and a connection
that takes the checks' DuckDB-dialect SQL (compiled by sovaudit.engines.compile) so the check runner is the same
for both engines.

pyspark is optional (`pip install 'sovaudit[spark]'`); nothing here imports it until a session is asked for.
"""

import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import duckdb
import pyarrow as pa

from sovaudit.engines.compile import CompileError, Compiler, flat_name
from sovaudit.errors import UsageError

INSTALL_HINT = "--engine spark needs pyspark: pip install 'sovaudit[spark]'"
# A local session for checks: no UI, few shuffle partitions (the lake is one machine's), UTC like DuckDB's.
BASE_CONF = {
    "spark.sql.session.timeZone": "UTC",
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.shuffle.partitions": "4",
    "spark.sql.adaptive.enabled": "true",
    "spark.driver.extraJavaOptions": "-Duser.timezone=UTC",
}
# When sovaudit starts the JVM itself (local mode, not under spark-submit): pyspark's 1 GiB heap runs out on
# the demo's report (the broadcast joins of wide events, the cached derived views).
LOCAL_CONF = {"spark.driver.memory": "4g"}


def parse_conf(pairs: Iterable[str]) -> dict[str, str]:
    """--spark-conf KEY=VALUE, given any number of times."""
    conf = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"--spark-conf: found {pair!r}, expected KEY=VALUE (e.g. spark.driver.memory=4g)")
        conf[key.strip()] = value
    return conf


def spark_session(master: str | None = None, conf: dict[str, str] | None = None) -> Any:
    """The process's SparkSession (one per process: Spark's own rule), made on first use. Without a master, the
    one spark-submit or the cluster (Databricks, EMR) set, else pyspark's local[*]."""
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise UsageError(INSTALL_HINT) from None
    os.environ.setdefault("PYSPARK_PYTHON", os.sys.executable)
    builder = SparkSession.builder.appName("sovaudit")
    if master:
        builder = builder.master(master)
    launching = "PYSPARK_GATEWAY_PORT" not in os.environ and SparkSession.getActiveSession() is None
    local = launching and (master is None or master.startswith("local"))
    for key, value in {**BASE_CONF, **(LOCAL_CONF if local else {}), **(conf or {})}.items():
        builder = builder.config(key, value)
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    return session


# A statement's leading comments (sqlglot keeps a query's header comments as /* … */).
_LEADING_COMMENTS = re.compile(r"\A(?:\s+|--[^\n]*(?:\n|\Z)|/\*.*?\*/)*", re.DOTALL)


def returns_rows(statement: str) -> bool:
    """A query (its rows are the result), not a CREATE or a CACHE."""
    return statement[_LEADING_COMMENTS.match(statement).end():].upper().startswith(("SELECT", "WITH", "(", "VALUES"))


class SparkQueryError(ValueError):
    """Spark refused or failed a statement; the message is Spark's first line."""


def spark_message(exc: Exception) -> str:
    """Spark's first line; for a failure inside the JVM (py4j: "An error occurred while calling o12.x."), the
    Java exception's line that follows it."""
    lines = [line.strip() for line in str(exc).strip().splitlines() if line.strip()]
    if lines and lines[0].startswith("An error occurred while calling") and len(lines) > 1:
        lines = [lines[1].lstrip(": ")]
    return (lines[0] if lines else type(exc).__name__)[:400]


@dataclass
class SparkResult:
    """What the runner reads of a DuckDB result: `columns` and `fetchall()`."""
    columns: list[str]
    _rows: list[tuple[Any, ...]]

    def fetchall(self) -> list[tuple[Any, ...]]:
        return self._rows


def _to_python(table: pa.Table) -> tuple[list[str], list[tuple[Any, ...]]]:
    columns = table.column_names
    data = [table.column(i).to_pylist() for i in range(table.num_columns)]
    return columns, list(zip(*data, strict=True)) if data else []


@dataclass
class SparkConnection:
    """Enough of a DuckDB connection for the check runner: execute(sql, params).fetchall() and sql(sql), the SQL
    in DuckDB's dialect, compiled for Spark on the way."""
    spark: Any
    compiler: Compiler
    cached: list[str] = field(default_factory=list)

    def execute(self, sql: str, params: Sequence[Any] | dict[str, Any] | None = None) -> SparkResult:
        bound = dict(params) if isinstance(params, dict) else list(params) if params else None
        tables = len(self.compiler.tables)
        statements = self.compiler.script(sql, bound)
        result = SparkResult([], [])
        for statement in statements:
            try:
                frame = self.spark.sql(statement)
                if returns_rows(statement):
                    result = SparkResult(*_to_python(frame.toArrow()))
            except Exception as exc:  # noqa: BLE001 (py4j's and pyspark's errors have no common base)
                if isinstance(exc, CompileError):
                    raise
                raise SparkQueryError(f"the SQL failed on Spark: {spark_message(exc)}") from None
        for name in self.compiler.tables[tables:]:  # DuckDB's TEMP TABLE: computed once
            self.cache(name)
        return result

    def sql(self, sql: str, params: Sequence[Any] | dict[str, Any] | None = None) -> SparkResult:
        return self.execute(sql, params)

    def register(self, name: str, table: pa.Table) -> None:
        """As DuckDB's register: an Arrow table as a view, for the report's evidence joins."""
        self.register_arrow(name, table)

    def unregister(self, name: str) -> None:
        self.spark.catalog.dropTempView(name)

    def register_arrow(self, name: str, table: pa.Table) -> None:
        frame = self.spark.createDataFrame(table) if table.num_rows else self.spark.createDataFrame(
            [], schema=self.spark.createDataFrame(_one_null_row(table.schema)).schema)
        frame.createOrReplaceTempView(name)

    def cache(self, name: str) -> None:
        self.spark.sql(f"CACHE LAZY TABLE {name}")
        self.cached.append(name)

    def close(self) -> None:
        for name in self.cached:
            self.spark.sql(f"UNCACHE TABLE IF EXISTS {name}")
        self.cached.clear()


def _one_null_row(schema: pa.Schema) -> pa.Table:
    """Spark infers no schema from an empty Arrow table; one row of NULLs gives it the types."""
    return pa.table({f.name: pa.nulls(1, f.type) for f in schema}, schema=pa.schema(
        [f.with_nullable(True) for f in schema]))


def read_lake_tables(con: SparkConnection, files: dict[str, list[str]], declared: dict[str, pa.Schema]) -> None:
    """One temporary view per lake table over the files the ledger names, read with the table's declared schema
    (a column older files lack reads as NULL, as in DuckDB's views)."""
    for name, schema in declared.items():
        empty = con.spark.createDataFrame(_one_null_row(schema))
        paths = files.get(name, [])
        if paths:
            frame = con.spark.read.schema(empty.schema).parquet(*paths)
        else:
            frame = empty.limit(0)
        frame.createOrReplaceTempView(name)


def declared_schemas(ddl: dict[str, str]) -> dict[str, pa.Schema]:
    """Each lake table's Arrow schema, from its DuckDB DDL (queries/schema/)."""
    con = duckdb.connect(":memory:")
    out = {}
    for name, statement in ddl.items():
        con.execute(statement)
        out[name] = con.sql(f"SELECT * FROM {name} LIMIT 0").arrow().schema  # noqa: S608 (our names)
    con.close()
    return out


__all__ = ["INSTALL_HINT", "CompileError", "SparkConnection", "declared_schemas", "flat_name", "parse_conf",
           "read_lake_tables", "returns_rows", "spark_session"]
