"""Reason templates (sovaudit/checks/reasons.py): rendered from a check's facts the way DuckDB's format() was."""

from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import pytest

from sovaudit.checks.catalogue import CheckDefinitionError, parse_check
from sovaudit.checks.reasons import TemplateError, render_reason, template_fields
from sovaudit.checks.runner import findings_from_rows

HEADER = """-- id: ZZ-001
-- title: t
-- family: egress
-- severity: low
-- gdpr: Art. 30
-- requires: cloudtrail
-- description: d
-- remediation: r
"""
COLUMNS = ["resource", "actor", "region", "region_jurisdiction", "counterpart_jurisdiction", "first_seen",
           "last_seen", "event_count", "evidence"]


@pytest.mark.parametrize("sql", [
    "SELECT format('{}', 1234567::BIGINT)", "SELECT format('{:,}', 1234567::BIGINT)",
    "SELECT format('{}', TIMESTAMPTZ '2025-03-01 10:00:00+00')",
    "SELECT format('{}', TIMESTAMPTZ '2025-03-01 10:00:00.25+00')", "SELECT format('{}', DATE '2025-03-01')",
    "SELECT format('{}', true)", "SELECT format('{}', 1.5::DOUBLE)", "SELECT format('{}', ['a', 'b'])",
])
def test_a_value_reads_as_duckdbs_format_wrote_it(sql):
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    expected = con.sql(sql).fetchall()[0][0]
    value = con.sql(sql.replace("format('{}', ", "SELECT (").replace("format('{:,}', ", "SELECT (")
                    .replace("SELECT SELECT", "SELECT")).fetchall()[0][0]
    assert render_reason("{v:,}" if "{:,}" in sql else "{v}", {"v": value}) == expected


def test_a_log_value_is_text_never_a_template():
    assert render_reason("bucket {r} in {home}", {"r": "{home}", "home": "EU"}) == "bucket {home} in EU"
    assert render_reason("{{literal}} {n}", {"n": None}) == "{literal} (none)"
    assert render_reason("on {d:%Y-%m-%d}", {"d": datetime(2025, 3, 1, 23, 0, tzinfo=UTC)}) == "on 2025-03-01"
    assert render_reason("{d}", {"d": date(2025, 3, 1)}) == "2025-03-01"


@pytest.mark.parametrize("template", ["{x.__class__}", "{0}", "{}", "{x[0]}", "{x!r}", "{x:{y}}", "no field",
                                      "{unclosed"])
def test_a_template_reads_columns_and_nothing_else(template):
    with pytest.raises(TemplateError):
        template_fields(template)


def test_a_check_file_with_a_bad_template_names_its_line(tmp_path: Path):
    path = tmp_path / "zz.sql"
    path.write_text(HEADER + "-- reason: {x.__class__}\nSELECT 1", encoding="utf-8")
    with pytest.raises(CheckDefinitionError, match=r"zz\.sql:9: reason:"):
        parse_check(path, builtin=False)


def test_findings_get_their_reason_from_the_template_and_keep_the_facts(tmp_path: Path):
    path = tmp_path / "zz.sql"
    path.write_text(HEADER + "-- reason: {bytes:,} bytes of {data_class} went to\n--   {counterpart_jurisdiction}\n"
                    "SELECT 1", encoding="utf-8")
    check = parse_check(path, builtin=False)
    seen = datetime(2025, 3, 1, tzinfo=UTC)
    row = ("b", "a", "eu-west-1", "EU", "US", seen, seen, 2, ["e1"], 12345, "pii")
    [finding] = findings_from_rows(check, [*COLUMNS, "bytes", "data_class"], [row])
    assert finding.reason == "12,345 bytes of pii went to US"
    assert finding.details == {"bytes": 12345, "data_class": "pii"}
    with pytest.raises(ValueError, match="lacks the column.*bytes"):
        findings_from_rows(check, [*COLUMNS, "data_class"], [row[:-2] + ("pii",)])
