"""`--fail-on none`: a report-only run never exits 1 for findings, but still exits 3 on partial evidence and 2 on
bad usage."""

import json

from conftest import SAMPLES, run_cli

from sovaudit.lake import Lake
from sovaudit.pull import pull_source
from sovaudit.sources import config_from_flags


def test_findings_do_not_fail_a_report_only_run(planted_scenario, tmp_path):
    _, lake, config = planted_scenario
    gate = run_cli("check", "--lake", str(lake.root), "--config", str(config), "--format", "json")
    assert gate.returncode == 1  # the planted findings stop a gate at the default, high
    report_only = run_cli("check", "--lake", str(lake.root), "--config", str(config), "--format", "json",
                          "--fail-on", "none")
    assert report_only.returncode == 0, report_only.stderr
    run = json.loads(report_only.stdout)
    assert sum(len(c["findings"]) for c in run["checks"]) == sum(len(c["findings"])
                                                                 for c in json.loads(gate.stdout)["checks"]) > 0
    table = run_cli("check", "--lake", str(lake.root), "--config", str(config), "--fail-on", "none")
    assert table.returncode == 0
    assert "findings do not fail the run (--fail-on none)" in table.stdout
    report = run_cli("report", "--format", "json", "--out", str(tmp_path / "r.json"), "--lake", str(lake.root),
                     "--config", str(config), "--fail-on", "none")
    assert report.returncode == 0, report.stderr
    assert json.loads((tmp_path / "r.json").read_text())["summary"]["failing"] == []


def test_partial_evidence_still_exits_3_with_fail_on_none(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    first = sorted(SAMPLES.glob("*.json.gz"))[0]
    (folder / first.name).write_bytes(first.read_bytes())
    (folder / "cut.json.gz").write_bytes(sorted(SAMPLES.glob("*.json.gz"))[1].read_bytes()[:200])
    pull_source(Lake(tmp_path / "lake"), config_from_flags("cloudtrail", path=str(folder)))
    proc = run_cli("check", "--lake", str(tmp_path / "lake"), "--fail-on", "none", "--format", "json")
    assert proc.returncode == 3, proc.stderr
    assert json.loads(proc.stdout)["partial_evidence"]


def test_an_unknown_fail_on_is_a_usage_error(tmp_path):
    pull_source(Lake(tmp_path / "lake"), config_from_flags("cloudtrail", path=str(sorted(SAMPLES.glob("*.gz"))[0])))
    proc = run_cli("check", "--lake", str(tmp_path / "lake"), "--fail-on", "never")
    assert proc.returncode == 2
    assert proc.stderr.splitlines() == ["error: --fail-on: found 'never', expected one of critical, high, medium, "
                                        "low, info, none"]
