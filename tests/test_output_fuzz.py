"""Arbitrary log values, lone surrogates and control characters included, through the CSV, JUnit, SARIF and HTML
writers: each output parses back, carries the value (in its documented visible form) and nothing live."""

import copy
import csv
import io
import json
import re
from datetime import UTC, datetime
from xml.etree import ElementTree as ET

import pytest
from conftest import ct_event, run_cli, write_trail_file
from hypothesis import given, settings
from hypothesis import strategies as st
from markupsafe import escape

from sovaudit.checks.catalogue import discover
from sovaudit.checks.formats import to_csv, to_junit, to_sarif
from sovaudit.checks.runner import CheckResult, CheckRun, Finding
from sovaudit.checks.session import Window
from sovaudit.output import visible, write_rows
from sovaudit.report.render import render_html

# The same examples on every run (no database, a seed from each test), bounded so the file takes seconds.
FUZZ = settings(max_examples=300, deadline=None, derandomize=True, database=None)

TRICKY = "=+-@\t\r\n\x00\x01\x07\x1b\x7f\x85\x9b\ud800\udfff\ufffe\uffff<>&\"' ;,[]"
VALUE = st.one_of(st.text(st.characters(exclude_categories=()), max_size=30),  # lone surrogates included
                  st.text(st.sampled_from(TRICKY), max_size=12))
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# XML 1.0's Char production, inverted.
NOT_XML_CHAR = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
# What HTML cannot show: C0 but tab and newline, DEL, C1, surrogates.
NOT_HTML_TEXT = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")
CHECKS = {c.id: c for c in discover()}
NOW = datetime(2024, 3, 5, 10, tzinfo=UTC)


def encodable(value: str) -> str:
    """The documented replacement: a lone surrogate becomes the text \\udXXX."""
    return re.sub("[\ud800-\udfff]", lambda m: f"\\u{ord(m.group()):04x}", value)


def _run(v: list[str], count: int = 1) -> CheckRun:
    """XR-001 failing with one finding made of the values, XR-002 not assessed with v[6] as its reason."""
    finding = Finding(v[0], v[1], v[2], v[3], v[3], NOW, NOW, count, v[4], [v[5], v[6]], 2)
    results = [CheckResult(CHECKS["XR-001"], "FAIL", v[4], [finding], 0.1),
               CheckResult(CHECKS["XR-002"], "NOT_ASSESSED", v[6], [], 0.0)]
    return CheckRun(results, Window(NOW, NOW, NOW, False), [], v[7], None, None, [v[7]], NOW)


def _csv_expected(value: str) -> str:
    value = encodable(value)
    return "'" + value if value.startswith(FORMULA_START) else value


@FUZZ
@given(st.lists(VALUE, min_size=8, max_size=8), st.integers(-10**9, 10**9))
def test_findings_csv_parses_back_with_no_live_formula(values, count):
    text = to_csv(_run(values, count))
    text.encode("utf-8")
    header, row = list(csv.reader(io.StringIO(text, newline="")))
    cells = dict(zip(header, row, strict=True))
    assert not [c for name, c in cells.items() if c.startswith(FORMULA_START) and name != "event_count"]
    assert cells["event_count"] == str(count)  # a number, negative or not, is data
    for column, value in zip(("resource", "actor", "region", "region_jurisdiction", "reason"), values, strict=False):
        assert cells[column] == _csv_expected(value), column
    assert cells["evidence"] == _csv_expected(f"{values[5]} {values[6]}")


@FUZZ
@given(st.lists(st.one_of(VALUE, st.integers(), st.floats(allow_nan=False), st.none()), min_size=1, max_size=6))
def test_sql_csv_parses_back_with_no_live_formula(row):
    out = io.StringIO()
    write_rows([f"c{i}" for i in range(len(row))], [tuple(row)], "csv", console=None, out=out)
    out.getvalue().encode("utf-8")
    _, cells = list(csv.reader(io.StringIO(out.getvalue(), newline="")))
    for cell, value in zip(cells, row, strict=True):
        if isinstance(value, str):
            assert cell == _csv_expected(value)
        else:
            assert cell == ("" if value is None else str(value))


@FUZZ
@given(st.lists(VALUE, min_size=8, max_size=8))
def test_junit_is_well_formed_xml(values):
    text = to_junit(_run(values))
    assert not NOT_XML_CHAR.search(text)
    root = ET.fromstring(text.encode("utf-8"))
    failure = root.find(".//testcase/failure")
    assert visible(values[4]) in failure.get("message") and visible(values[1] or "-") in failure.text
    assert root.find(".//testcase/skipped").get("message") == f"NOT_ASSESSED: {visible(values[6])}"
    assert root.find(".//property[@name='lake']").get("value") == visible(values[7])


@FUZZ
@given(st.lists(VALUE, min_size=8, max_size=8))
def test_sarif_is_json_and_round_trips(values):
    data = to_sarif(_run(values)).encode("utf-8")
    run = json.loads(data)["runs"][0]
    result = run["results"][0]
    assert result["message"]["text"] == encodable(values[4])
    assert result["locations"][0]["logicalLocations"][0]["name"] == encodable(values[0] or "(unknown resource)")
    props = result["properties"]
    assert [props["actor"], props["region"], props["region_jurisdiction"]] == [encodable(v) for v in values[1:4]]
    assert props["counterpart_jurisdiction"] == encodable(values[3])
    assert props["evidence"] == [encodable(values[5]), encodable(values[6])]
    notification = run["invocations"][0]["toolExecutionNotifications"][0]
    assert notification["message"]["text"] == f"XR-002 NOT_ASSESSED: {encodable(values[6])}"


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    """A real report of one finding with evidence, to put the values into."""
    root = tmp_path_factory.mktemp("fuzz-report")
    event = ct_event("e-1", time="2024-03-05T10:00:00Z", awsRegion="us-east-1",
                     requestParameters={"bucketName": "pii-eu", "key": "a.csv", "Host": "pii-eu.s3.amazonaws.com"})
    write_trail_file(root / "logs" / "t.json.gz", [event])
    (root / "sovaudit.toml").write_text('[[data_classes]]\nname = "pii"\nhome = "EU"\ntier = 1\nretention_days = 30\n'
                                        'resources = ["arn:aws:s3:::pii-eu*"]\n')
    assert run_cli("pull", "cloudtrail", "--path", str(root / "logs"), "--lake", str(root / "lake")).returncode == 0
    proc = run_cli("report", "--format", "json", "--out", str(root / "r.json"), "--lake", str(root / "lake"),
                   "--config", str(root / "sovaudit.toml"))
    assert proc.returncode == 1, proc.stderr
    return json.loads((root / "r.json").read_text())


@pytest.fixture(scope="module")
def template_tags(report) -> int:
    """The "<" of the template itself: a harmless value in the same places adds none."""
    return render_html(_with(report, "x")).count("<")


def _with(report: dict, value: str) -> dict:
    """The report with the log-derived fields (and the controller's name) set to the value."""
    r = copy.deepcopy(report)
    r["organisation"]["controller"] = value
    r["partial_evidence"] = [value]
    r["charts"]["daily_jurisdictions"][0]["jurisdiction"] = value
    for check in r["checks"]:
        check["status_reason"] = value
        for finding in check["findings"]:
            finding.update(resource=value, actor=value, region=value, reason=value, evidence=[value])
            for row in finding["evidence_rows"]:
                row.update(event_uid=value, actor=value, src_ip=value, user_agent=value, region=value)
    return r


@settings(FUZZ, max_examples=40)
@given(st.text(st.characters(exclude_categories=()), min_size=1, max_size=30)
       | st.text(st.sampled_from(TRICKY), min_size=1, max_size=12))
def test_html_has_no_raw_control_character_and_no_value_markup(report, template_tags, value):
    html = render_html(_with(report, value))
    html.encode("utf-8")
    assert not NOT_HTML_TEXT.search(html)
    assert html.count("<") == template_tags
    assert str(escape(visible(value))) in html
