"""Outputs that join: a stable finding_id in every format, one time format (RFC 3339, UTC, `Z`) in every CSV and
JSON sovaudit writes, SARIF rules an auditor can follow back to the catalogue, and several formats in one run."""

import copy
import csv
import json
import random
import re
import uuid
from datetime import UTC, datetime, timedelta
from xml.etree import ElementTree as ET

import pytest
from conftest import REPO, run_cli

from sovaudit.checks.catalogue import discover
from sovaudit.checks.finding_id import assign_finding_ids
from sovaudit.checks.formats import rule_name
from sovaudit.checks.runner import CheckResult, Finding, run_checks
from sovaudit.config import load_config
from sovaudit.report.build import write_reports

FINDING_ID = re.compile(r"[A-Z]{2}-[0-9]{3}-[0-9a-f]{12}(-[0-9]+)?")
RFC3339_Z = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z")
# Anything that starts like a date and a time: it must then be RFC3339_Z exactly.
LOOKS_LIKE_TIME = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")
CHECKS = {c.id: c for c in discover()}
T0 = datetime(2026, 9, 7, 12, tzinfo=UTC)


def _finding(resource="r", actor="a", region="eu-west-1", first=T0, reason="why", count=1, evidence=("e1",),
             **details) -> Finding:
    return Finding(resource, actor, region, "EU", None, first, first + timedelta(hours=count), count, reason,
                   list(evidence), len(evidence), details)


# -- finding ids -----------------------------------------------------------------------------------------

def test_a_finding_id_is_the_check_and_a_hash_of_what_identifies_the_finding():
    a, b = _finding(), _finding(resource="other")
    assign_finding_ids("XR-002", [a, b])
    assert FINDING_ID.fullmatch(a.finding_id) and a.finding_id.startswith("XR-002-")
    assert a.finding_id != b.finding_id and a.fingerprint.startswith(a.finding_id[7:]) and len(a.fingerprint) == 64
    # What grows as the window moves on, and the wording of the reason, leave the id alone.
    later = _finding(reason="reworded", count=40, evidence=("e1", "e2", "e3"))
    assign_finding_ids("XR-002", [later])
    assert later.finding_id == a.finding_id
    # What identifies it does not.
    for changed in (_finding(actor="b"), _finding(region="us-east-1"), _finding(first=T0 + timedelta(days=1)),
                    _finding(data_class="backups")):
        assign_finding_ids("XR-002", [changed])
        assert changed.finding_id != a.finding_id
    assign_finding_ids("XR-001", [c := _finding()])
    assert c.finding_id[7:] != a.finding_id[7:]


def test_finding_ids_do_not_depend_on_row_order_even_when_keys_collide():
    """A user check grouping by a column the key leaves out gives two findings with one key: their reasons and
    first evidence tell them apart, in any order."""
    rows = [_finding(), _finding(reason="other reason", evidence=("e9",)), _finding(resource="x"),
            _finding(actor=None, resource=None)]
    assign_finding_ids("CU-001", rows)
    ids = {(f.reason, f.resource): f.finding_id for f in rows}
    assert len(set(ids.values())) == 4
    for seed in range(5):
        shuffled = [copy.deepcopy(f) for f in rows]
        random.Random(seed).shuffle(shuffled)
        for f in shuffled:
            f.finding_id = ""
        assign_finding_ids("CU-001", shuffled)
        assert {(f.reason, f.resource): f.finding_id for f in shuffled} == ids
    twins = [_finding(), _finding()]
    assign_finding_ids("CU-001", twins)
    assert twins[1].finding_id == twins[0].finding_id + "-2"


def test_a_check_result_made_by_hand_gets_ids_too():
    result = CheckResult(CHECKS["XR-001"], "FAIL", "1 finding", [_finding()], 0.0)
    assert result.findings[0].finding_id.startswith("XR-001-")


@pytest.fixture(scope="module")
def report_set(planted_scenario, tmp_path_factory):
    """The planted lake's machine outputs and evidence.csv, written by the library scan and report use."""
    _, lake, config = planted_scenario
    out = tmp_path_factory.mktemp("joined")
    result = write_reports(lake, load_config(config), out, formats=("json",))
    return out, result.run


def _csv(path):
    return list(csv.DictReader(path.open(newline="", encoding="utf-8")))


def test_every_output_names_each_finding_by_the_same_id(report_set):
    out, run = report_set
    ids = [f.finding_id for r in run.results for f in r.findings]
    assert ids and all(FINDING_ID.fullmatch(i) for i in ids) and len(set(ids)) == len(ids)
    findings = json.loads((out / "findings.json").read_text())
    assert [f["finding_id"] for c in findings["checks"] for f in c["findings"]] == ids
    assert [r["finding_id"] for r in _csv(out / "findings.csv")] == ids
    sarif = json.loads((out / "findings.sarif").read_text())["runs"][0]["results"]
    assert [r["properties"]["finding_id"] for r in sarif] == ids
    assert all(r["correlationGuid"] == str(uuid.uuid5(uuid.uuid5(uuid.NAMESPACE_URL,
                                                                 "https://github.com/sovaudit/sovaudit/finding"),
                                                      r["properties"]["finding_id"])) for r in sarif)
    fingerprints = {f.finding_id: f.fingerprint for r in run.results for f in r.findings}
    assert all(r["partialFingerprints"] == {"sovauditFinding/v2": fingerprints[r["properties"]["finding_id"]]}
               for r in sarif)
    ocsf = json.loads((out / "findings.ocsf.json").read_text())
    assert [e["finding_info"]["uid"] for e in ocsf] == ids
    junit = ET.parse(out / "junit.xml").getroot()
    failures = "\n".join(f.text for f in junit.iter("failure"))
    open_ids = [f.finding_id for r in run.results for f in r.open_findings]
    assert all(f"[{i}]" in failures for i in open_ids)
    report = json.loads((out / "report.json").read_text())
    assert [f["finding_id"] for c in report["checks"] for f in c["findings"]] == ids


def test_evidence_csv_joins_findings_csv_on_finding_id(report_set):
    """Each evidence row names its finding by id (and by its number in the report and findings.csv); every event
    a finding cites is there, under that finding."""
    out, run = report_set
    evidence = _csv(out / "evidence.csv")
    by_finding: dict[str, list[dict]] = {}
    for row in evidence:
        by_finding.setdefault(row["finding_id"], []).append(row)
    findings = _csv(out / "findings.csv")
    assert set(by_finding) == {f["finding_id"] for f in findings}
    for result in run.results:
        for number, f in enumerate(result.findings, start=1):
            rows = by_finding[f.finding_id]
            assert {r["finding"] for r in rows} == {str(number)}
            assert len(rows) == f.evidence_total
            assert [r["event_uid"] for r in rows][:len(f.evidence)] == f.evidence
            assert {(r["check_id"], r["resource"], r["reason"]) for r in rows} == {
                (result.check.id, f.resource or "", f.reason)}


def test_finding_ids_are_the_same_in_a_second_run(planted_scenario, report_set):
    _, lake, config = planted_scenario
    _, first = report_set
    again = run_checks(lake, load_config(config))
    assert [f.finding_id for r in again.results for f in r.findings] == [
        f.finding_id for r in first.results for f in r.findings]


# -- one time format -------------------------------------------------------------------------------------

def _times_in(value, where="$"):
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _times_in(v, f"{where}.{k}")
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _times_in(v, f"{where}[{i}]")
    elif isinstance(value, str) and LOOKS_LIKE_TIME.match(value):
        yield where, value


def _assert_rfc3339(times) -> int:
    times = list(times)
    bad = [(where, t) for where, t in times if not RFC3339_Z.fullmatch(t)]
    assert not bad, bad[:5]
    return len(times)


def test_every_json_output_writes_times_as_rfc3339_utc(report_set):
    out, _ = report_set
    for name in ("findings.json", "report.json", "findings.sarif", "findings.ocsf.json"):
        doc = json.loads((out / name).read_text())
        assert _assert_rfc3339(_times_in(doc)) > 20, name


def test_a_time_anywhere_in_a_value_is_written_the_same_way():
    """A finding's extra columns (`details`), report rows and `sql` values are written by dumps and csv_cell,
    which wrote Python's isoformat (+00:00, a space in CSV) before."""
    from zoneinfo import ZoneInfo

    from sovaudit.output import csv_cell, dumps

    berlin = datetime(2026, 9, 7, 14, 0, 0, 250000, tzinfo=ZoneInfo("Europe/Berlin"))
    assert json.loads(dumps({"details": {"seen": berlin}})) == {"details": {"seen": "2026-09-07T12:00:00.250000Z"}}
    assert csv_cell(T0) == "2026-09-07T12:00:00Z"
    # A naive time (only a user's SQL makes one) carries no offset, and none is invented.
    assert csv_cell(datetime(2026, 9, 7, 12)) == "2026-09-07T12:00:00"


def test_every_csv_writes_times_as_rfc3339_utc(report_set):
    out, _ = report_set
    for name, column in (("findings.csv", "first_seen"), ("evidence.csv", "time")):
        rows = _csv(out / name)
        assert all(RFC3339_Z.fullmatch(r[column]) for r in rows if r[column]), name
        assert _assert_rfc3339((name, cell) for r in rows for cell in r.values()
                               if LOOKS_LIKE_TIME.match(cell or "")) >= len(rows)


def test_junit_properties_write_times_as_rfc3339_utc(report_set):
    out, _ = report_set
    props = {p.get("name"): p.get("value") for p in ET.parse(out / "junit.xml").getroot().iter("property")}
    assert all(RFC3339_Z.fullmatch(props[k]) for k in ("window.since", "window.until", "generated_at"))


@pytest.mark.parametrize("fmt", ["csv", "json", "ndjson"])
def test_sql_output_writes_times_as_rfc3339_utc(planted_scenario, fmt):
    _, lake, config = planted_scenario
    proc = run_cli("sql", "--lake", str(lake.root), "--format", fmt,
                   "SELECT time, [time] AS times, {'t': time} AS nested FROM events ORDER BY time LIMIT 3")
    assert proc.returncode == 0, proc.stderr
    times = [t for t in re.findall(r"\d{4}-\d{2}-\d{2}[T ][0-9:.+Z]+", proc.stdout)]
    assert len(times) == 9 and all(RFC3339_Z.fullmatch(t) for t in times), times


# -- SARIF --------------------------------------------------------------------------------------------------

def test_sarif_rules_have_full_names_and_help_in_the_readme_catalogue(report_set):
    out, _ = report_set
    run = json.loads((out / "findings.sarif").read_text())["runs"][0]
    readme = (REPO / "README.md").read_text()
    for rule in run["tool"]["driver"]["rules"]:
        title = CHECKS[rule["id"]].title
        assert rule["name"] == rule_name(title) and re.fullmatch(r"[A-Z][A-Za-z0-9]*", rule["name"])
        # Every word of the title, none cut off.
        assert rule["name"].lower() == re.sub(r"[^a-z0-9]", "", title.lower())
        anchor = rule["helpUri"].split("#", 1)[1]
        assert rule["helpUri"] == f"https://github.com/sovaudit/sovaudit/blob/main/README.md#{anchor}"
        assert f'<a id="{anchor}"></a>{rule["id"]} |' in readme
    assert rule_name("Tier-1 data accessed from a country outside its home jurisdiction") == \
        "Tier1DataAccessedFromACountryOutsideItsHomeJurisdiction"


def test_every_sarif_result_names_its_region_as_a_logical_location(report_set):
    out, run = report_set
    results = json.loads((out / "findings.sarif").read_text())["runs"][0]["results"]
    regions = {f.finding_id: f.region for r in run.results for f in r.findings}
    for result in results:
        resource, region = result["locations"][0]["logicalLocations"]
        assert resource["kind"] == "resource" and region["kind"] == "namespace"
        assert region["name"] == (regions[result["properties"]["finding_id"]] or "(no region)")
        assert resource["fullyQualifiedName"] == f"{region['name']}/{resource['name']}"


# -- several formats in one run ----------------------------------------------------------------------------

def test_several_formats_in_one_run_go_to_the_out_dir(planted_scenario, tmp_path):
    _, lake, config = planted_scenario
    out = tmp_path / "results"
    proc = run_cli("check", "--lake", str(lake.root), "--config", str(config), "--format",
                   "json,junit,sarif,csv,ocsf", "--out-dir", str(out))
    assert proc.returncode == 1, proc.stderr
    assert proc.stdout == ""
    assert sorted(p.name for p in out.iterdir()) == ["findings.csv", "findings.json", "findings.ocsf.json",
                                                     "findings.sarif", "junit.xml"]
    ids = [f["finding_id"] for c in json.loads((out / "findings.json").read_text())["checks"] for f in c["findings"]]
    assert [r["finding_id"] for r in _csv(out / "findings.csv")] == ids
    assert [e["finding_info"]["uid"] for e in json.loads((out / "findings.ocsf.json").read_text())] == ids
    assert json.loads((out / "findings.sarif").read_text())["version"] == "2.1.0"
    assert len(ET.parse(out / "junit.xml").getroot().findall(".//testcase")) == len(CHECKS)
    # The table goes to the terminal beside the files.
    both = run_cli("check", "--lake", str(lake.root), "--config", str(config), "--check", "IN-001",
                   "--format", "table,json", "--out-dir", str(tmp_path / "two"))
    assert "IN-001" in both.stdout and (tmp_path / "two" / "findings.json").exists()


@pytest.mark.parametrize(("args", "message"), [
    (("--format", "json,sarif"), "several formats need --out-dir DIR"),
    (("--format", "json,yaml", "--out-dir", "x"), "--format: found 'yaml'"),
    (("--format", "json,json", "--out-dir", "x"), "names a format twice"),
    (("--format", "json", "--out", "a.json", "--out-dir", "x"), "--out and --out-dir: give one"),
])
def test_bad_format_lists_are_one_line_and_exit_2(planted_scenario, tmp_path, args, message):
    _, lake, config = planted_scenario
    proc = run_cli("check", "--lake", str(lake.root), "--config", str(config), *args, cwd=tmp_path)
    assert proc.returncode == 2 and message in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr and not list(tmp_path.iterdir())
