"""`sovaudit sql` and Lake.sql() cannot write: not the lake, not a file elsewhere, not DuckDB's settings.

Each write path is tried three ways: through Lake.sql(), through the connection directly (so past the
statement check: the connection must hold on its own), and through the CLI. Nothing under the test's
directory (lake, working directory, HOME) may appear or change.
"""

import hashlib

import duckdb
import pytest
from conftest import SAMPLES, ct_event, run_cli, write_trail_file

from sovaudit.errors import ReadOnlyViolation
from sovaudit.lake import Lake
from sovaudit.pull import pull_source
from sovaudit.sources import config_from_flags


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    """A lake with the CloudTrail samples and one quarantined record; an empty working directory and HOME."""
    root = tmp_path_factory.mktemp("read-only")
    lake = Lake(root / "lake")
    pull_source(lake, config_from_flags("cloudtrail", path=str(SAMPLES)))
    bad = write_trail_file(root / "bad" / "bad.json.gz", [ct_event("ok-1"), {"eventTime": "2024-01-02T10:00:00Z"}])
    assert pull_source(lake, config_from_flags("cloudtrail", path=str(bad))).counts["quarantined"] == 1
    again = write_trail_file(root / "again" / "again.json.gz", [ct_event("ok-1"), ct_event("ok-2")])
    assert pull_source(lake, config_from_flags("cloudtrail", path=str(again))).counts["duplicate"] == 1  # rewritten
    for directory in ("cwd", "home"):
        (root / directory).mkdir()
    return root


def fingerprint(root):
    return sorted((p.relative_to(root).as_posix(), p.is_dir() or hashlib.sha256(p.read_bytes()).hexdigest())
                  for p in root.rglob("*") if p.name != ".lock")


def fill(statement, root):
    parquet = next((root / "lake" / "tables" / "cloudtrail").rglob("*.parquet"))
    return statement.format(lake=root / "lake", out=root / "cwd", parquet=parquet)


def run_sql(root, *args, env=None):
    return run_cli("sql", *args, "--lake", str(root / "lake"), cwd=root / "cwd",
                   env={"HOME": str(root / "home"), "SOVAUDIT_HISTORY": str(root / "home" / "history"), **(env or {})})


def run_lake_sql(root, statement):
    relation = Lake(root / "lake").sql(statement)
    return relation.fetchall() if relation is not None else None


# What would write a file, a setting or an extension, however it is wrapped.
FILE_AND_SETTING_WRITES = [
    "COPY (SELECT 42) TO 'out.csv'",
    "COPY (SELECT 42) TO '{out}/out.csv'",
    "COPY (SELECT 42 AS a) TO '{parquet}' (FORMAT parquet, USE_TMP_FILE false)",
    "COPY (SELECT 42) TO '{lake}/ledger.jsonl' (USE_TMP_FILE false)",
    "COPY cloudtrail TO '{lake}/tables/cloudtrail/forged.parquet' (FORMAT parquet)",
    "EXPLAIN ANALYZE COPY (SELECT 42) TO '{out}/out.csv'",
    "EXPLAIN ANALYZE COPY (SELECT 42) TO '{lake}/ledger.jsonl' (USE_TMP_FILE false)",
    "/* a comment */ explain /* another */ analyse copy (select 42) to '{out}/out.csv'",
    "EXPLAIN (ANALYZE, FORMAT json) COPY (SELECT 42) TO '{out}/out.csv'",
    "EXPORT DATABASE '{out}/export'",
    "ATTACH '{out}/evil.duckdb' AS evil",
    "SET enable_external_access = true",
    "RESET enable_external_access",
    "SET lock_configuration = false",
    "SET profiling_output = '{out}/profile.txt'",
    "PRAGMA enable_profiling",
    "SET log_query_path = '{out}/queries.log'",
    "CALL enable_logging(storage = 'file', storage_path = '{out}/logs')",
    "SELECT * FROM enable_logging(storage = 'file', storage_path = '{out}/logs')",
    "SELECT * FROM enable_profiling(save_location = '{out}/profile.json')",
    "INSTALL httpfs",
    "FORCE INSTALL excel",
    "INSTALL h3 FROM community",
    "LOAD httpfs",
    "SELECT * FROM read_xlsx('{out}/sheet.xlsx')",
    "CREATE PERSISTENT SECRET s (TYPE s3, KEY_ID 'a', SECRET 'b')",
    "WITH d AS (COPY (SELECT 42 AS a) TO '{out}/cte.csv') SELECT * FROM d",
    "SELECT * FROM query('WITH d AS (COPY (SELECT 42 AS a) TO ''{out}/q.csv'') SELECT * FROM d')",
    "SELECT * FROM query('COPY (SELECT 42) TO ''{out}/q.csv''')",
    "SELECT 1; COPY (SELECT 42) TO '{out}/out.csv'",
    "SELECT 1 /* harmless */; /* hidden */ COPY (SELECT 42) TO '{out}/out.csv' -- trailing",
]
# What would change the session's own tables or views (in memory: the statement check refuses these).
CATALOG_WRITES = [
    "CREATE TABLE x AS SELECT 1",
    "CREATE OR REPLACE TEMP VIEW cloudtrail AS SELECT 'forged' AS event_uid",
    "CREATE MACRO m() AS 1",
    "INSERT INTO cloudtrail (event_uid) VALUES ('forged')",
    "INSERT INTO azure_activity (event_uid) VALUES ('forged')",
    "DELETE FROM quarantine",
    "UPDATE cloudtrail SET actor = 'nobody'",
    "WITH d AS (INSERT INTO azure_activity (event_uid) VALUES ('forged') RETURNING *) SELECT * FROM d",
    "SELECT * FROM (WITH d AS (DELETE FROM quarantine RETURNING *) SELECT * FROM d)",
    "ATTACH ':memory:' AS scratch",
    "SELECT 1; DROP VIEW events",
    "SET VARIABLE window_since = now()",
    "CALL checkpoint()",
    "EXPLAIN CREATE TABLE x AS SELECT 1",
    "EXPLAIN ANALYZE SELECT 42",
    "IMPORT DATABASE '{out}/export'",
    "VACUUM",
]


@pytest.mark.parametrize("statement", FILE_AND_SETTING_WRITES + CATALOG_WRITES)
def test_lake_sql_refuses_writes_and_changes_nothing(root, statement, monkeypatch):
    monkeypatch.chdir(root / "cwd")  # where a relative path would land
    monkeypatch.setenv("HOME", str(root / "home"))  # where DuckDB keeps extensions and secrets
    before = fingerprint(root)
    with pytest.raises((ReadOnlyViolation, duckdb.Error)):
        run_lake_sql(root, fill(statement, root))
    assert fingerprint(root) == before


@pytest.mark.parametrize("statement", FILE_AND_SETTING_WRITES)
def test_the_connection_itself_cannot_write(root, statement, monkeypatch):
    """Past the statement check: straight onto the connection that Lake.sql() uses."""
    monkeypatch.chdir(root / "cwd")
    monkeypatch.setenv("HOME", str(root / "home"))
    before = fingerprint(root)
    con = Lake(root / "lake").connection()
    with pytest.raises(duckdb.Error):
        con.execute(fill(statement, root)).fetchall()
    assert fingerprint(root) == before


@pytest.mark.parametrize("statement", FILE_AND_SETTING_WRITES + CATALOG_WRITES)
def test_sovaudit_sql_refuses_writes_with_one_line_and_exit_2(root, statement):
    before = fingerprint(root)
    proc = run_sql(root, fill(statement, root))
    assert proc.returncode == 2, proc.stdout
    assert len(proc.stderr.splitlines()) == 1 and proc.stderr.startswith("error: "), proc.stderr
    assert "Traceback" not in proc.stderr
    assert fingerprint(root) == before


def test_a_long_refusal_stays_one_line_on_a_narrow_terminal(root):
    narrow = {"COLUMNS": "40"}
    as_argument = run_sql(root, "EXPLAIN ANALYZE SELECT 1", env=narrow)
    on_stdin = run_cli("sql", "--lake", str(root / "lake"), env=narrow, input="EXPLAIN ANALYZE SELECT 1;\n")
    for proc in (as_argument, on_stdin):
        assert proc.returncode == 2 and len(proc.stderr.splitlines()) == 1, proc.stderr
        assert "EXPLAIN ANALYZE runs its statement" in proc.stderr


def test_the_statement_check_says_what_was_refused(root):
    lake = Lake(root / "lake")
    cases = {
        "EXPLAIN ANALYZE SELECT 1": "EXPLAIN ANALYZE runs its statement",
        "EXPLAIN (FORMAT json, ANALYZE) SELECT 1": "EXPLAIN ANALYZE runs its statement",
        "EXPLAIN COPY (SELECT 1) TO 'x.csv'": "EXPLAIN of a COPY statement",
        "WITH d AS (COPY (SELECT 1) TO 'x.csv') SELECT * FROM d": "a COPY inside a query",
        "WITH d AS (DELETE FROM quarantine RETURNING *) SELECT * FROM d": "a DELETE inside a query",
        "SELECT 1; INSTALL httpfs": "a LOAD statement",
        "SET threads = 1": "a SET statement",
    }
    for statement, message in cases.items():
        with pytest.raises(ReadOnlyViolation, match=f"^the lake is read-only: {message}"):
            lake.sql(statement)


def test_tables_added_to_the_connection_become_read_only_views(root):
    lake = Lake(root / "lake")
    lake.connection().execute("CREATE TABLE notes AS SELECT 1 AS n")
    hidden = ("SELECT * FROM json_execute_serialized_sql(json_serialize_sql("
              "'WITH d AS (DELETE FROM notes RETURNING *) SELECT count(*) FROM d'))")
    with pytest.raises(duckdb.Error):
        lake.sql(hidden).fetchall()
    with pytest.raises(duckdb.Error):
        lake.connection().execute("DELETE FROM notes").fetchall()
    assert lake.sql("FROM notes").fetchall() == [(1,)]


def test_relations_cannot_be_written_out_from_python(root):
    before = fingerprint(root)
    with pytest.raises(duckdb.Error):
        Lake(root / "lake").sql("SELECT 42 AS a").to_csv(str(root / "cwd" / "relation.csv"))
    assert fingerprint(root) == before


def test_files_outside_the_lake_cannot_be_read_either(root):
    proc = run_sql(root, "SELECT * FROM read_csv('/etc/hostname')")
    assert proc.returncode == 2 and "file system operations are disabled" in proc.stderr


READS = {
    "SELECT count(*) FROM events": [("1819",)],
    "SELECT count(*) FROM cloudtrail WHERE event_id = 'ok-1'": [("1",)],
    "SELECT count(*) FROM quarantine": [("1",)],
    "SELECT count(*) FROM ledger": [("3",)],
    "SELECT count(*) FROM query_table('cloudtrail')": [("1819",)],
    "SELECT count(*) FROM azure_activity": [("0",)],
    "SELECT count(*) > 0 FROM policy_regions": [("True",)],
    "SELECT count(*) >= 0 FROM checks.xr_001": [("True",)],
    "SELECT 1 AS one -- ; COPY (SELECT 42) TO 'out.csv'": [("1",)],
    "WITH x AS (SELECT 2 AS two) SELECT * FROM x": [("2",)],
}


def test_reads_still_work_through_the_cli(root):
    before = fingerprint(root)
    for statement, rows in READS.items():
        proc = run_sql(root, statement, "--format", "csv")
        assert proc.returncode == 0, (statement, proc.stderr)
        assert [tuple(line.split(",")) for line in proc.stdout.splitlines()[1:]] == rows, statement
    for statement in ("EXPLAIN SELECT * FROM events", "EXPLAIN (FORMAT json) SELECT 1", "DESCRIBE cloudtrail",
                      "SHOW TABLES", "SUMMARIZE SELECT 1 AS a"):
        proc = run_sql(root, statement)
        assert proc.returncode == 0, (statement, proc.stderr)
    assert fingerprint(root) == before


def test_the_read_only_views_have_the_lakes_types(root):
    lake = Lake(root / "lake")
    native = lake.connect()
    for name in [*lake.table_columns(), "ledger"]:
        assert lake.sql(f"DESCRIBE {name}").fetchall() == native.execute(f"DESCRIBE {name}").fetchall(), name
        count = f"SELECT count(*) FROM {name}"  # noqa: S608 (our table names)
        assert lake.sql(count).fetchall() == native.execute(count).fetchall(), name
