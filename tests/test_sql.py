import csv
import hashlib
import io
import json

import duckdb
import pytest
from conftest import SAMPLES, run_cli

from sovaudit import open_lake
from sovaudit.errors import ReadOnlyViolation
from sovaudit.lake import Lake
from sovaudit.pull import pull_source
from sovaudit.sources import config_from_flags


@pytest.fixture(scope="module")
def sample_lake(tmp_path_factory):
    lake_dir = tmp_path_factory.mktemp("sql") / "lake"
    pull_source(Lake(lake_dir), config_from_flags("cloudtrail", path=str(SAMPLES)))
    return lake_dir


def lake_fingerprint(lake_dir):
    return sorted((p.relative_to(lake_dir).as_posix(), hashlib.sha256(p.read_bytes()).hexdigest())
                  for p in lake_dir.rglob("*") if p.is_file() and p.name != ".lock")


def test_library_api_returns_a_duckdb_relation(sample_lake):
    relation = open_lake(sample_lake).sql("SELECT action_class, count(*) AS n FROM events GROUP BY 1")
    assert isinstance(relation, duckdb.DuckDBPyRelation)
    assert sum(n for _cls, n in relation.fetchall()) == 1817


@pytest.mark.parametrize("statement", [
    "COPY (SELECT 1) TO '{lake}/tables/evil.csv'",
    "CREATE TABLE x AS SELECT 1",
    "INSERT INTO cloudtrail (event_uid) VALUES ('forged')",
    "DELETE FROM cloudtrail",
    "ATTACH '{lake}/evil.duckdb' AS evil",
    "SET enable_external_access = true",
    "SELECT 1; DROP VIEW events",
    "INSTALL httpfs",
])
def test_statements_that_would_write_are_refused(sample_lake, statement):
    before = lake_fingerprint(sample_lake)
    with pytest.raises(ReadOnlyViolation, match="read-only"):
        open_lake(sample_lake).sql(statement.format(lake=sample_lake))
    proc = run_cli("sql", statement.format(lake=sample_lake), "--lake", str(sample_lake))
    assert proc.returncode == 2 and "read-only" in proc.stderr
    assert lake_fingerprint(sample_lake) == before


@pytest.mark.parametrize("fmt", ["csv", "json", "ndjson", "table"])
def test_output_formats(sample_lake, fmt):
    proc = run_cli("sql", "SELECT event_name, count(*) AS n FROM cloudtrail WHERE event_name IN "
                   "('StopLogging', 'DeleteTrail') GROUP BY 1 ORDER BY 1", "--lake", str(sample_lake),
                   "--format", fmt)
    assert proc.returncode == 0, proc.stderr
    if fmt == "csv":
        assert list(csv.reader(io.StringIO(proc.stdout))) == [["event_name", "n"], ["DeleteTrail", "2"],
                                                               ["StopLogging", "2"]]
    elif fmt == "json":
        assert json.loads(proc.stdout) == [{"event_name": "DeleteTrail", "n": 2}, {"event_name": "StopLogging", "n": 2}]
    elif fmt == "ndjson":
        assert [json.loads(line) for line in proc.stdout.splitlines()] == [
            {"event_name": "DeleteTrail", "n": 2}, {"event_name": "StopLogging", "n": 2}]
    else:
        assert "StopLogging" in proc.stdout and "DeleteTrail" in proc.stdout


def test_prompt_reads_queries_from_stdin_when_not_a_terminal(sample_lake):
    proc = run_cli("sql", "--lake", str(sample_lake), "--format", "csv",
                   input="SELECT count(*) AS n FROM events;\nSELECT 42 AS answer;\n")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == ["n", "1817", "answer", "42"]


def test_sql_errors_are_one_clear_line(sample_lake):
    proc = run_cli("sql", "SELECT nope FROM events", "--lake", str(sample_lake))
    assert proc.returncode == 2 and proc.stderr.startswith("error: SQL error") and "Traceback" not in proc.stderr


def test_hostile_values_print_literally_in_tables(sample_lake):
    proc = run_cli("sql", "SELECT '[bold red]x[/bold red]' AS ua", "--lake", str(sample_lake))
    assert proc.returncode == 0 and "[bold red]x[/bold red]" in proc.stdout


def test_tables_lists_tables_columns_and_counts(sample_lake):
    proc = run_cli("tables", "--lake", str(sample_lake), "--format", "json")
    assert proc.returncode == 0, proc.stderr
    listed = json.loads(proc.stdout)
    assert listed["cloudtrail"]["rows"] == 1817 and listed["events"]["rows"] == 1817
    names = [c["name"] for c in listed["cloudtrail"]["columns"]]
    assert {"event_name", "request_parameters", "evidence_blob", "src_country"} <= set(names)
    assert listed["quarantine"]["rows"] == 0
    assert "cloudtrail (1,817 rows)" in run_cli("tables", "--lake", str(sample_lake)).stdout


def test_an_empty_lake_still_has_every_view(tmp_path):
    lake = open_lake(tmp_path / "nothing-yet")
    assert lake.sql("SELECT count(*) FROM events").fetchall() == [(0,)]
    assert lake.sql("SELECT count(*) FROM cloudtrail").fetchall() == [(0,)]


def test_an_unknown_format_is_a_usage_error(tmp_path):
    for verb in (["sql", "SELECT 1"], ["tables"], ["pull", "cloudtrail", "--path", "x"]):
        proc = run_cli(*verb, "--format", "xml", "--lake", str(tmp_path / "lake"))
        assert proc.returncode == 2 and "--format: found 'xml'" in proc.stderr, verb
