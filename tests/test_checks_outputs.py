"""`sovaudit check`: the JSON shape other tools read, CSV, JUnit, SARIF, the table, and the exit codes."""

import csv
import io
import json
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest
from conftest import ct_event, run_cli, write_trail_file

from sovaudit.checks.catalogue import discover

N_CHECKS = len(discover())


def check_cli(scenario, *args):
    _, lake, config = scenario
    return run_cli("check", "--lake", str(lake.root), "--config", str(config), *args)


@pytest.fixture(scope="module")
def planted_json(planted_scenario):
    proc = check_cli(planted_scenario, "--format", "json")
    assert proc.returncode == 1, proc.stderr
    return json.loads(proc.stdout)


def test_json_has_the_stable_shape(planted_json, planted_scenario):
    _, lake, config = planted_scenario
    doc = planted_json
    assert set(doc) >= {"tool", "generated_at", "window", "lake", "coverage", "checks"}
    assert doc["tool"]["name"] == "sovaudit" and doc["tool"]["version"]
    assert set(doc["window"]) >= {"since", "until"} and doc["window"]["since"].endswith("Z")
    assert doc["lake"] == {"path": str(lake.root), "ledger_head": lake.ledger.head()}
    coverage = {c["source"]: c["events"] for c in doc["coverage"]}
    assert list(coverage) == ["azure_activity", "azure_resource", "cloudtrail", "kafka_audit", "kafka_lineage",
                              "kafka_topics"] and coverage["cloudtrail"] > 5000
    assert len(doc["checks"]) == N_CHECKS
    for check in doc["checks"]:
        assert set(check) >= {"id", "title", "family", "severity", "gdpr", "status", "status_reason", "findings"}
        assert check["status"] in ("PASS", "FAIL", "NOT_ASSESSED")
        assert isinstance(check["gdpr"], list)
        for finding in check["findings"]:
            assert set(finding) >= {"resource", "actor", "region", "region_jurisdiction", "counterpart_jurisdiction", "first_seen", "last_seen",
                                    "event_count", "reason", "evidence"}
            assert 0 < len(finding["evidence"]) <= 50
    ku3 = next(c for c in doc["checks"] if c["id"] == "KU-003")["findings"][0]
    assert len(ku3["evidence"]) == 50 and ku3["evidence_total"] > 50


def test_csv_has_one_row_per_finding(planted_json, planted_scenario, tmp_path):
    out = tmp_path / "findings.csv"
    proc = check_cli(planted_scenario, "--format", "csv", "--out", str(out))
    assert proc.returncode == 1
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    assert len(rows) == sum(len(c["findings"]) for c in planted_json["checks"])
    in001 = next(r for r in rows if r["check_id"] == "IN-001")
    assert in001["severity"] == "critical" and in001["evidence"] == "planted-IN-001-01"


def test_junit_has_a_testcase_per_check(planted_scenario, tmp_path):
    out = tmp_path / "junit.xml"
    proc = check_cli(planted_scenario, "--format", "junit", "--out", str(out), "--since", "2026-08-03")
    assert proc.returncode == 1
    root = ET.parse(out).getroot()
    cases = root.findall(".//testcase")
    assert len(cases) == N_CHECKS
    failed = [c for c in cases if c.find("failure") is not None]
    skipped = [c for c in cases if c.find("skipped") is not None]
    assert {c.get("name").split()[0] for c in failed} >= {"IN-001", "XR-001"}
    # --since early in the data: the baseline checks have no look-back, so they are skipped with the reason.
    assert {c.get("name").split()[0] for c in skipped} == {"EG-003", "KU-002", "KU-003"}
    assert all("NOT_ASSESSED: no baseline" in c.find("skipped").get("message") for c in skipped)
    assert "planted-IN-001-01" in next(c for c in failed if c.get("name").startswith("IN-001")).find("failure").text


def test_sarif_is_2_1_0_with_a_rule_per_check(planted_scenario, planted_json):
    proc = check_cli(planted_scenario, "--format", "sarif")
    doc = json.loads(proc.stdout)
    assert doc["version"] == "2.1.0"
    run = doc["runs"][0]
    assert len(run["tool"]["driver"]["rules"]) == N_CHECKS
    assert len(run["results"]) == sum(len(c["findings"]) for c in planted_json["checks"])
    _, _, config = planted_scenario
    for result in run["results"]:
        location = result["locations"][0]
        assert location["physicalLocation"]["artifactLocation"]["uri"] == str(config)
        assert location["logicalLocations"][0]["kind"] == "resource"
        assert result["level"] in ("error", "warning", "note")
    xr3 = next(r for r in run["results"] if r["ruleId"] == "XR-003")
    assert xr3["locations"][0]["logicalLocations"][0]["name"] == "arn:aws:s3:::acme-loyalty-eu"


def test_table_shows_the_summary_then_the_findings(planted_scenario):
    proc = check_cli(planted_scenario)
    assert proc.returncode == 1
    out = proc.stdout
    assert out.index("checks") < out.index("IN-001 CloudTrail logging stopped")
    assert "failing at or above high" in out and "NOT_ASSESSED" not in out


def test_exit_0_when_clean(clean_scenario):
    proc = check_cli(clean_scenario, "--format", "json")
    assert proc.returncode == 0, proc.stdout[-2000:]
    assert {c["status"] for c in json.loads(proc.stdout)["checks"]} == {"PASS"}


@pytest.mark.parametrize(("args", "code"), [
    (("--check", "XR-001"), 1),                       # high finding, default --fail-on high
    (("--check", "XR-001", "--fail-on", "critical"), 0),
    (("--check", "KU-003"), 0),                       # a medium finding is under high …
    (("--check", "KU-003", "--fail-on", "medium"), 1),  # … and counts at medium
    (("--family", "integrity", "--fail-on", "critical"), 1),
    (("--check", "IN-001", "--since", "2020-01-01", "--until", "2020-02-01"), 3),  # no data: not "compliant"
    (("--fail-on", "urgent"), 2),
    (("--format", "yaml"), 2),
    (("--check", "ZZ-404"), 2),
    (("--family", "weather"), 2),
])
def test_exit_codes(planted_scenario, args, code):
    proc = check_cli(planted_scenario, *args)
    assert proc.returncode == code, (proc.stdout[-1500:], proc.stderr[-1500:])
    if code == 2:
        assert "error:" in proc.stderr and "Traceback" not in proc.stderr


def test_bad_config_exits_2_naming_file_and_key(tmp_path, planted_scenario):
    _, lake, _ = planted_scenario
    config = tmp_path / "sovaudit.toml"
    config.write_text('[[data_classes]]\nname = "x"\nhome = "Atlantis"\ntier = 1\nretention_days = 1\n'
                      'resources = ["*"]\n')
    proc = run_cli("check", "--lake", str(lake.root), "--config", str(config))
    assert proc.returncode == 2
    assert f"{config}: data_classes[0].home:" in proc.stderr


def test_quarantined_records_make_the_evidence_partial(tmp_path):
    """Exit 3 and a stated reason when a pull into the lake set records aside, even with no findings."""
    lake = tmp_path / "lake"
    good = [ct_event(f"e{i}", time=f"2024-01-02T{i % 24:02d}:00:00Z") for i in range(30)]
    write_trail_file(tmp_path / "logs" / "good.json.gz", good)
    (tmp_path / "logs" / "bad.json").write_text('{"Records": [{"eventID": "x", "eventTime": ')
    pulled = run_cli("pull", "cloudtrail", "--path", str(tmp_path / "logs"), "--lake", str(lake))
    assert pulled.returncode == 3
    proc = run_cli("check", "--family", "integrity", "--lake", str(lake), "--format", "json", cwd=tmp_path)
    doc = json.loads(proc.stdout)
    assert proc.returncode == 3, proc.stderr
    # IN-004 reads the Azure activity log and IN-005..IN-007 Kafka's logs, which were never pulled here: out of
    # scope, not partial.
    assert {c["status"] for c in doc["checks"] if not c.get("out_of_scope")} == {"PASS"}
    assert [c["id"] for c in doc["checks"] if c.get("out_of_scope")] == ["IN-004", "IN-005", "IN-006", "IN-007"]
    assert "quarantined" in doc["partial_evidence"][0]


def test_out_writes_the_file_and_keeps_stdout_clean(planted_scenario, tmp_path):
    out = tmp_path / "nested" / "findings.json"
    proc = check_cli(planted_scenario, "--format", "json", "--out", str(out), "--check", "IN-001")
    assert proc.returncode == 1 and proc.stdout == ""
    assert json.loads(Path(out).read_text())["checks"][0]["id"] == "IN-001"
