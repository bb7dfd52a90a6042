"""The portable dialect's compiler (sovaudit/engines/compile.py): each rewrite, and the catalogue compiling."""

from datetime import UTC, datetime

import duckdb
import pytest

from sovaudit.checks import session
from sovaudit.checks.catalogue import discover
from sovaudit.engines.compile import CompileError, Compiler
from sovaudit.resources import query_text

WINDOW = {"window_since": datetime(2025, 3, 1, tzinfo=UTC), "window_until": datetime(2025, 4, 1, tzinfo=UTC),
          "baseline_since": datetime(2025, 2, 1, tzinfo=UTC)}


def spark(sql: str, **variables) -> str:
    return Compiler("spark", variables=variables or WINDOW).query(sql)


def test_macros_are_expanded_where_they_are_called_with_their_arguments():
    c = Compiler("spark")
    c.script("CREATE OR REPLACE MACRO checks.twice(x) AS x * 2; CREATE MACRO checks.quad(y) AS checks.twice(y) * 2;")
    out = c.query("SELECT checks.quad(a + 1) AS q FROM t")
    assert "quad" not in out.lower() and "twice" not in out.lower()
    assert out == "SELECT ((((a + 1)) * 2) * 2) AS q FROM t"


def test_a_macro_with_the_wrong_arguments_and_a_macro_calling_itself_are_errors():
    c = Compiler("spark")
    c.script("CREATE MACRO checks.f(x) AS x; CREATE MACRO checks.loop(x) AS checks.loop(x);")
    with pytest.raises(CompileError, match="takes 1 argument"):
        c.query("SELECT checks.f(a, b) FROM t")
    with pytest.raises(CompileError, match="without end"):
        c.query("SELECT checks.loop(a) FROM t")


def test_window_variables_become_utc_literals():
    out = spark("SELECT * FROM t WHERE time >= getvariable('window_since')")
    assert "CAST('2025-03-01 00:00:00.000000+00:00' AS TIMESTAMP)" in out
    with pytest.raises(CompileError, match="not a session variable"):
        spark("SELECT getvariable('nope')")


def test_names_are_flattened_and_bare_names_resolve_as_in_duckdbs_checks_schema():
    c = Compiler("spark")
    c.script("CREATE OR REPLACE VIEW checks.cloudtrail AS SELECT * FROM main.cloudtrail WHERE true")
    out = c.query("WITH events_geo AS (SELECT 1) SELECT * FROM cloudtrail, checks.lake_core, events_geo, kafka_audit")
    assert "FROM checks_cloudtrail, checks_lake_core, events_geo, kafka_audit" in out
    assert "CREATE OR REPLACE TEMPORARY VIEW checks_cloudtrail AS SELECT * FROM cloudtrail" in \
        Compiler("spark").script("CREATE OR REPLACE VIEW checks.cloudtrail AS SELECT * FROM main.cloudtrail")[0]


def test_an_ordered_list_stays_ordered_and_keeps_nulls_on_spark_and_trino():
    out = spark("SELECT list(e.uid ORDER BY e.time, e.uid) FROM e")
    assert out == ("SELECT TRANSFORM(ARRAY_SORT(COLLECT_LIST(STRUCT(e.time AS k0, e.uid AS k1, e.uid AS v))), "
                   "s -> s.v) FROM e")
    assert "ARRAY_AGG(e.uid ORDER BY e.time" in Compiler("trino", variables=WINDOW).query(
        "SELECT list(e.uid ORDER BY e.time) FROM e")
    assert spark("SELECT list(x ORDER BY t) FILTER (WHERE y) FROM e") == \
        "SELECT TRANSFORM(ARRAY_SORT(COLLECT_LIST(STRUCT(t AS k0, x AS v)) FILTER(WHERE y)), s -> s.v) FROM e"
    with pytest.raises(CompileError, match="DESC"):
        spark("SELECT list(x ORDER BY t DESC) FROM e")


def test_backreferences_and_first_match_replacement():
    assert spark(r"SELECT regexp_replace(s, '^Azure([A-Z])', '\1') FROM t") == \
        "SELECT REGEXP_REPLACE(s, '^Azure([A-Z])', '$1') FROM t"
    with pytest.raises(CompileError, match="first match"):
        spark("SELECT regexp_replace(s, 'a', 'b') FROM t")


def test_duckdb_only_functions_get_their_counterparts():
    assert spark("SELECT to_days(n), to_hours(2) FROM t") == \
        "SELECT MAKE_DT_INTERVAL(n, 0, 0, 0), MAKE_DT_INTERVAL(0, 2, 0, 0) FROM t"
    assert spark("SELECT regexp_full_match(s, 'a[0-9]') FROM t") == "SELECT s RLIKE '^(?:' || 'a[0-9]' || ')$' FROM t"
    assert spark("SELECT regexp_extract(k, ':([0-9]+):key/(mrk-.+)', ['account', 'id']) AS m FROM t") == (
        "SELECT STRUCT(REGEXP_EXTRACT(k, ':([0-9]+):key/(mrk-.+)') AS account, "
        "REGEXP_EXTRACT(k, ':([0-9]+):key/(mrk-.+)', 2) AS id) AS m FROM t")


def test_distinct_lists_computed_intervals_and_list_booleans():
    assert spark("SELECT list(DISTINCT x) FROM t") == \
        "SELECT ARRAY_DISTINCT(TRANSFORM(COLLECT_LIST(STRUCT(x AS v)), s -> s.v)) FROM t"
    assert spark("SELECT t + INTERVAL (n) HOUR, INTERVAL 3 DAY FROM t") == \
        "SELECT t + MAKE_DT_INTERVAL(0, (n), 0, 0), INTERVAL '3' DAY FROM t"
    with pytest.raises(CompileError, match="days, hours, minutes or seconds"):
        spark("SELECT INTERVAL (n) MONTH FROM t")
    assert spark("SELECT list_bool_or(a), list_bool_and(b) FROM t") == \
        "SELECT EXISTS(a, x -> x), FORALL(b, x -> x) FROM t"


def test_duckdb_runs_the_source_as_written():
    """The duckdb dialect only expands and binds; the result is the same rows as the source on DuckDB."""
    con = duckdb.connect()
    con.execute("CREATE SCHEMA checks; CREATE MACRO checks.root(r) AS split_part(r, '/', 1);"
                "CREATE TABLE t AS SELECT * FROM (VALUES ('a/b', 2), ('c/d', 1)) v(r, k);"
                "SET VARIABLE window_since = TIMESTAMPTZ '2025-03-01 00:00:00+00'")
    c = Compiler("duckdb", variables=WINDOW)
    c.script("CREATE MACRO checks.root(r) AS split_part(r, '/', 1);")
    source = "SELECT list(checks.root(r) ORDER BY k) AS l, getvariable('window_since') AS w FROM t"
    assert con.sql(c.query(source)).fetchall() == con.sql(source).fetchall()


@pytest.mark.parametrize("dialect", ["spark", "duckdb"])
def test_the_session_scripts_and_every_builtin_check_compile(dialect):
    c = Compiler(dialect, variables=WINDOW)
    for script in session.SESSION_SCRIPTS:
        c.script(query_text(f"session/{script}"))
    failures = {}
    for check in discover():
        try:
            c.query(check.sql)
        except CompileError as exc:
            failures[check.id] = str(exc)
    assert failures == {}


def test_an_unknown_dialect_is_refused():
    with pytest.raises(CompileError, match="unknown dialect"):
        Compiler("oracle")


def test_list_slice_becomes_a_start_and_a_length_and_keeps_duckdbs_elements():
    out = spark("SELECT list_slice(xs, 2, 4) AS s FROM t")
    assert out == "SELECT SLICE(xs, 2, 3) AS s FROM t"
    # DuckDB's list_slice counts from 1 with both ends in: the same three elements as slice(xs, 2, 3)
    with duckdb.connect() as con:
        assert con.execute("SELECT list_slice([10, 20, 30, 40, 50], 2, 4)").fetchall() == [([20, 30, 40],)]
    with pytest.raises(CompileError, match="positive integer literals"):
        spark("SELECT list_slice(xs, 1, n) FROM t")


def test_a_create_table_is_remembered_as_a_table_so_an_engine_can_cache_it():
    c = Compiler("spark")
    out = c.script("CREATE OR REPLACE TEMP TABLE class_events AS SELECT 1 AS a; CREATE VIEW checks.v AS SELECT 2")
    assert out == ["CREATE OR REPLACE TEMPORARY VIEW class_events AS SELECT 1 AS a",
                   "CREATE OR REPLACE TEMPORARY VIEW checks_v AS SELECT 2"]
    assert c.tables == ["class_events"]
