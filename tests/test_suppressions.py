"""Accepted findings: `[[suppressions]]` marks matching findings ACCEPTED instead of FAIL, with the reason, who
approved it and until when; shown apart in every output and in the report, counted apart, never hidden; an
expired suppression accepts nothing and says so."""

import csv
import io
import json
from datetime import UTC, date, datetime
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest
from conftest import run_cli

from sovaudit.checks.catalogue import discover
from sovaudit.checks.runner import CheckResult, Finding
from sovaudit.checks.suppressions import apply_suppressions
from sovaudit.config import parse_config

CHECKS = {c.id: c for c in discover()}
T0 = datetime(2026, 9, 7, 12, tzinfo=UTC)
INTERN = "arn:aws:iam::111122223333:user/summer-intern"


def _suppressions(*entries: str) -> list:
    return parse_config("\n".join(entries)).suppressions


def _entry(check="XR-001", expires="2027-03-31", **keys) -> str:
    lines = [f'[[suppressions]]\ncheck = "{check}"', 'reason = "ticket PRIV-7"', 'approved_by = "the DPO"',
             f"expires = {expires}", *(f'{k} = "{v}"' for k, v in keys.items())]
    return "\n".join(lines) + "\n"


def _result(*findings: Finding, check="XR-001") -> CheckResult:
    return CheckResult(CHECKS[check], "FAIL", f"{len(findings)} finding(s)", list(findings), 0.0)


def _finding(resource="arn:aws:s3:::bucket-eu", actor=INTERN, count=2) -> Finding:
    return Finding(resource, actor, "us-east-1", "US", None, T0, T0, count, "read abroad", ["e1"], 1)


# -- the rule ------------------------------------------------------------------------------------------------

def test_a_matching_suppression_accepts_the_finding_and_a_check_with_nothing_else_is_accepted():
    result = _result(_finding())
    states = apply_suppressions([result], _suppressions(_entry(resource="arn:aws:s3:::bucket-*")), date(2026, 12, 1))
    f = result.findings[0]
    assert f.status == "ACCEPTED" and f.acceptance.reason == "ticket PRIV-7" and f.acceptance.suppression == 1
    assert result.status == "ACCEPTED" and result.status_reason == "1 finding(s) over 2 event(s), all accepted"
    assert states[0]["state"] == "active" and states[0]["findings"] == [f.finding_id]


def test_a_check_with_one_finding_left_open_stays_fail():
    result = _result(_finding(), _finding(resource="arn:aws:s3:::other-eu", count=5))
    apply_suppressions([result], _suppressions(_entry(resource="arn:aws:s3:::bucket-eu")), date(2026, 12, 1))
    assert result.status == "FAIL"
    assert [f.status for f in result.findings] == ["ACCEPTED", "FAIL"]
    assert result.status_reason == "1 finding(s) over 5 event(s); 1 more accepted"


@pytest.mark.parametrize(("resource", "actor", "matches"), [
    ("*", "*", True),
    ("arn:aws:s3:::*", "*", True),                          # `*` crosses `/` and `:`, as the class patterns do
    ("*", "arn:aws:iam::111122223333:user/*", True),
    ("arn:aws:s3:::bucket-us*", "*", False),
    ("*", "arn:aws:iam::999988887777:*", False),
    ("ARN:AWS:S3:::BUCKET-EU", "*", False),                 # case matters, as in the lake
])
def test_resource_and_actor_are_globs(resource, actor, matches):
    result = _result(_finding())
    apply_suppressions([result], _suppressions(_entry(resource=resource, actor=actor)), date(2026, 12, 1))
    assert (result.findings[0].acceptance is not None) is matches


def test_a_suppression_of_another_check_or_of_a_named_actor_leaves_a_finding_without_one_alone():
    no_actor = _finding(actor=None)
    result = _result(no_actor)
    apply_suppressions([result], _suppressions(_entry(check="XR-002"), _entry(actor="arn:*")), date(2026, 12, 1))
    assert no_actor.acceptance is None and result.status == "FAIL"


def test_the_first_matching_suppression_is_the_one_cited():
    result = _result(_finding())
    states = apply_suppressions([result], _suppressions(_entry(), _entry(resource="arn:*")), date(2026, 12, 1))
    assert result.findings[0].acceptance.suppression == 1
    assert states[1]["findings"] == [] and "matches no finding" in states[1]["note"]


def test_a_suppression_holds_through_its_expiry_day_and_not_after():
    for today, accepted in ((date(2027, 3, 31), True), (date(2027, 4, 1), False)):
        result = _result(_finding())
        states = apply_suppressions([result], _suppressions(_entry(expires="2027-03-31")), today)
        assert (result.status == "ACCEPTED") is accepted, today
    finding_id = result.findings[0].finding_id
    assert states[0]["state"] == "expired" and states[0]["findings"] == [finding_id]
    assert states[0]["note"] == (f"suppression 1 (XR-001, resource *, actor *) expired: valid through 2027-03-31; "
                                 f"finding {finding_id} is FAIL again")


@pytest.mark.parametrize(("entry", "message"), [
    ('[[suppressions]]\ncheck = "XR-001"\nreason = "r"\napproved_by = "dpo"\n', "suppressions[0].expires: missing"),
    ('[[suppressions]]\ncheck = "XR-001"\napproved_by = "dpo"\nexpires = 2027-01-01\n',
     "suppressions[0].reason: missing"),
    ('[[suppressions]]\ncheck = "XR-001"\nreason = "r"\nexpires = 2027-01-01\n',
     "suppressions[0].approved_by: missing"),
    ('[[suppressions]]\ncheck = "XR-001"\nreason = ""\napproved_by = "dpo"\nexpires = 2027-01-01\n',
     "suppressions[0].reason: found ''"),
    ('[[suppressions]]\ncheck = "all"\nreason = "r"\napproved_by = "dpo"\nexpires = 2027-01-01\n',
     "suppressions[0].check: found 'all'"),
    ('[[suppressions]]\ncheck = "XR-001"\nreason = "r"\napproved_by = "dpo"\nexpires = "soon"\n',
     "suppressions[0].expires: found 'soon'"),
])
def test_a_suppression_without_its_justification_is_a_config_error(tmp_path, entry, message):
    config = tmp_path / "sovaudit.toml"
    config.write_text(entry)
    proc = run_cli("check", "--lake", str(tmp_path / "lake"), "--config", str(config))
    assert proc.returncode == 2 and f"{config}: {message}" in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr and proc.stderr.count("\n") == 1


def test_a_suppression_of_a_check_that_does_not_exist_is_a_config_error(planted_scenario, tmp_path):
    _, lake, _ = planted_scenario
    config = tmp_path / "sovaudit.toml"
    config.write_text(_entry(check="XR-999"))
    proc = run_cli("check", "--lake", str(lake.root), "--config", str(config))
    assert proc.returncode == 2, proc.stderr
    assert f"{config}: suppressions[0].check: found 'XR-999', expected the id of a check" in proc.stderr


# -- on the planted lake, through the command ------------------------------------------------------------------

def _with(planted_scenario, tmp_path, *entries: str) -> list[str]:
    _, lake, config = planted_scenario
    policy = Path(config).read_text().split("[[suppressions]]")[0]  # the demo policy without its own
    path = tmp_path / "sovaudit.toml"
    path.write_text(policy + "\n" + "\n".join(entries))
    return ["--lake", str(lake.root), "--config", str(path)]


def test_accepting_every_finding_of_a_check_lets_the_gate_pass(planted_scenario, tmp_path):
    args = _with(planted_scenario, tmp_path, _entry(check="XR-001", expires="2099-12-31"))
    proc = run_cli("check", "--check", "XR-001", "--format", "json", *args)
    assert proc.returncode == 0, proc.stderr
    check = json.loads(proc.stdout)["checks"][0]
    # The planted scenario's five XR-001 findings (four buckets and accounts, the secret read from its replica)
    assert check["status"] == "ACCEPTED" and len(check["findings"]) == 6
    assert {f["status"] for f in check["findings"]} == {"ACCEPTED"}
    assert check["findings"][0]["accepted"] == {"suppression": 1, "reason": "ticket PRIV-7", "approved_by": "the DPO",
                                                "expires": "2099-12-31"}
    # Not hidden: the table shows the check, each finding and the count.
    table = run_cli("check", "--check", "XR-001", *args)
    assert table.returncode == 0 and "ACCEPTED" in table.stdout and "1 accepted" in table.stdout
    assert "6 accepted finding(s) not counted" in table.stdout


def test_accepting_some_findings_still_fails_on_the_rest(planted_scenario, tmp_path):
    args = _with(planted_scenario, tmp_path, _entry(check="XR-001", resource="arn:aws:s3:::*", expires="2099-12-31"))
    proc = run_cli("check", "--check", "XR-001", "--format", "json", *args)
    assert proc.returncode == 1
    check = json.loads(proc.stdout)["checks"][0]
    assert check["status"] == "FAIL" and check["status_reason"].endswith("; 2 more accepted")
    assert [f["status"] for f in check["findings"] if f["resource"].startswith("arn:aws:s3")] == ["ACCEPTED"] * 2


def test_an_expired_suppression_accepts_nothing_and_says_so(planted_scenario, tmp_path):
    args = _with(planted_scenario, tmp_path, _entry(check="XR-001", expires="2020-01-31"))
    proc = run_cli("check", "--check", "XR-001", "--format", "json", *args)
    assert proc.returncode == 1
    doc = json.loads(proc.stdout)
    assert doc["checks"][0]["status"] == "FAIL"
    assert {f["status"] for f in doc["checks"][0]["findings"]} == {"FAIL"}
    state = doc["suppressions"][0]
    ids = [f["finding_id"] for f in doc["checks"][0]["findings"]]
    assert state["state"] == "expired" and state["findings"] == ids
    assert (f"warning: suppression 1 (XR-001, resource *, actor *) expired: valid through 2020-01-31; findings "
            f"{', '.join(ids)} are FAIL again") in proc.stderr.replace("\n", "")


@pytest.fixture(scope="module")
def partly_accepted(planted_scenario, tmp_path_factory):
    """XR-001 wholly accepted, EG-002 partly, XR-003's suppression expired: every machine format."""
    tmp = tmp_path_factory.mktemp("accepted")
    args = _with(planted_scenario, tmp, _entry(check="XR-001", expires="2099-12-31"),
                 _entry(check="EG-002", resource="arn:aws:s3:::*", expires="2099-12-31"),
                 _entry(check="XR-003", expires="2020-01-31"))
    out = tmp / "out"
    proc = run_cli("check", "--check", "XR-001", "--check", "EG-002", "--check", "XR-003", "--format",
                   "json,csv,junit,sarif", "--out-dir", str(out), *args)
    assert proc.returncode == 1, proc.stderr
    return out, json.loads((out / "findings.json").read_text()), args


def test_csv_marks_accepted_findings_with_their_justification(partly_accepted):
    out, doc, _ = partly_accepted
    rows = list(csv.DictReader(io.StringIO((out / "findings.csv").read_text())))
    accepted = [r for r in rows if r["status"] == "ACCEPTED"]
    assert {r["check_id"] for r in accepted} == {"XR-001", "EG-002"} and len(accepted) == 7  # 6 XR-001, 1 EG-002
    assert {(r["accepted_reason"], r["accepted_by"], r["accepted_until"]) for r in accepted} == {
        ("ticket PRIV-7", "the DPO", "2099-12-31")}
    assert {r["accepted_reason"] for r in rows if r["status"] == "FAIL"} == {""}


def test_junit_fails_only_on_open_findings_and_lists_the_accepted_ones(partly_accepted):
    out, _, _ = partly_accepted
    cases = {c.get("name").split()[0]: c for c in ET.parse(out / "junit.xml").getroot().iter("testcase")}
    xr1 = cases["XR-001"]
    assert xr1.find("failure") is None and xr1.find("skipped") is None
    assert xr1.find("system-out").text.startswith("ACCEPTED: 6 finding(s)")
    assert "accepted: ticket PRIV-7 (approved by the DPO, valid through 2099-12-31)" in xr1.find("system-out").text
    eg2 = cases["EG-002"].find("failure")
    open_part, accepted_part = eg2.text.split("Accepted (not failing):")
    assert "acmepartnerus" in open_part and "acme-dr-us" in accepted_part and "acme-dr-us" not in open_part
    assert cases["XR-003"].find("failure") is not None


def test_sarif_carries_an_external_suppression_with_the_justification(partly_accepted):
    out, doc, _ = partly_accepted
    results = json.loads((out / "findings.sarif").read_text())["runs"][0]["results"]
    by_status = {}
    for r in results:
        by_status.setdefault(r["properties"]["status"], []).append(r)
    assert all(r["suppressions"] == [{"kind": "external", "status": "accepted",
                                      "justification": "ticket PRIV-7 (approved by the DPO, valid through 2099-12-31)",
                                      "properties": {"suppression": r["suppressions"][0]["properties"]["suppression"],
                                                     "reason": "ticket PRIV-7", "approved_by": "the DPO",
                                                     "expires": "2099-12-31"}}] for r in by_status["ACCEPTED"])
    assert all(r["suppressions"] == [] for r in by_status["FAIL"])
    assert len(by_status["ACCEPTED"]) == 7


def test_the_report_lists_accepted_findings_apart_and_the_expired_suppression(partly_accepted, tmp_path):
    _, doc, args = partly_accepted
    proc = run_cli("report", "--format", "html", "--out", str(tmp_path / "report.html"), *args)
    assert proc.returncode == 1, proc.stderr
    html = (tmp_path / "report.html").read_text()
    section = html[html.index('<section id="accepted"'):html.index('<section id="integrity"')]
    accepted = [f["finding_id"] for c in doc["checks"] for f in c["findings"] if f["status"] == "ACCEPTED"]
    assert all(f'id="accepted-{i}"' in section for i in accepted) and "ticket PRIV-7" in section
    assert "2099-12-31" in section and "the DPO" in section
    assert "expired: valid through 2020-01-31" in section and "are FAIL again" in section
    # Counted apart in the summary, and each card points to its acceptance.
    assert '<div class="tile tile-accepted"><span class="n">1</span><span class="label">ACCEPTED</span>' in html
    assert "7 finding(s) accepted by the configuration" in html
    assert "<strong>7</strong> finding(s) accepted, in 2 check(s): counted apart" in html
    assert all(f'href="#accepted-{i}"' in html for i in accepted)
    assert "warning: suppression 3 (XR-003" in proc.stderr
    summary = proc.stdout.replace("\n", "")
    assert "1 ACCEPTED" in summary


def test_the_init_templates_example_is_a_valid_suppression():
    text = (Path(__file__).resolve().parents[1] / "sovaudit" / "init_template.toml").read_text()
    block = text[text.index("# [[suppressions]]"):].split("\n\n")[0]
    example = "\n".join(line.removeprefix("# ") for line in block.splitlines())
    (suppression,) = parse_config(example).suppressions
    assert suppression.check == "EG-003" and suppression.expires == date(2027, 6, 30)
