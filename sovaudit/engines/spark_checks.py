"""The check session on Spark: the same views, in the same order, as sovaudit.checks.session builds on DuckDB,
compiled from the same SQL files."""

from pathlib import Path

from sovaudit.checks import session as duck_session
from sovaudit.checks.catalogue import Check
from sovaudit.checks.collected import live_until, pull_rows_view, pulls_table
from sovaudit.config import Config
from sovaudit.engines.compile import CompileError, Compiler
from sovaudit.engines.spark import (
    SparkConnection,
    declared_schemas,
    read_lake_tables,
    spark_message,
    spark_session,
)
from sovaudit.lake import Lake, events_view
from sovaudit.policy import policy_tables
from sovaudit.resources import query_text
from sovaudit.schema import lake_tables


def lake_file_uri(root: Path, path: Path, lake_uri: str | None) -> str:
    if lake_uri is None:
        return str(path)
    return f"{lake_uri.rstrip('/')}/{path.relative_to(root).as_posix()}"


def compile_check(compiler: Compiler, check: Check) -> str:
    return compiler.query(check.sql)


def open_spark_session(lake: Lake, config: Config, checks: list[Check], since: str | None = None,
                       until: str | None = None, master: str | None = None, conf: dict[str, str] | None = None,
                       lake_uri: str | None = None) -> tuple[SparkConnection, duck_session.Window, dict[str, str]]:
    """A SparkConnection holding the lake, the policy, the session's views and one view per check; the window;
    the checks that do not compile or bind, with why. lake_uri: where Spark reads the files the ledger names
    (their paths relative to the lake taken under it), for a lake on S3 or ADLS beside a local ledger."""
    spark = spark_session(master, conf)
    con = SparkConnection(spark, Compiler("spark"))
    entries = lake.ledger.entries()
    tables = lake_tables()
    files = {name: [lake_file_uri(lake.root, p, lake_uri) for p in paths]
             for name, paths in lake.committed_files(entries).items()}
    read_lake_tables(con, files, declared_schemas({name: schema.ddl for name, schema in tables.items()}))
    con.execute(events_view())
    window = duck_session.resolve_window(con, since, until, config.thresholds.baseline_days, live_until(entries))
    con.compiler.variables.update(window_since=window.since, window_until=window.until,
                                  baseline_since=window.baseline_since)
    for name, table in policy_tables(config).items():
        con.register_arrow(name, table)
    con.register_arrow("checks_pulls", pulls_table(entries))
    con.compiler.views.add("checks_pulls")
    con.execute(pull_rows_view())
    for table, schema in tables.items():
        if schema.time_column is not None:
            con.execute(duck_session.window_view(table, schema.time_column))
    con.execute(f"CREATE OR REPLACE VIEW checks.lake_core AS {duck_session.lake_core_query()}")
    con.cache("checks_lake_core")
    for script in duck_session.SESSION_SCRIPTS:
        con.execute(query_text(f"session/{script}"))
    for name in duck_session.DERIVED:
        con.cache(f"checks_{name}")
    broken = {}
    for check in checks:
        try:
            compiled = compile_check(con.compiler, check)
            name = f"checks_{duck_session.view_name(check)}"
            spark.sql(f"CREATE OR REPLACE TEMPORARY VIEW {name} AS {compiled}")
            con.compiler.views.add(name)
        except CompileError as exc:
            broken[check.id] = f"{check.path}: not portable to Spark: {exc}"
        except Exception as exc:  # noqa: BLE001 (Spark's analysis errors come from py4j and pyspark alike)
            broken[check.id] = f"{check.path}: the SQL does not run on Spark: {spark_message(exc)}"
    return con, window, broken
