"""A lake whose path has quotes in it: every path reaches DuckDB as a bound value, never inside SQL text."""

import json
from datetime import UTC, datetime

import pytest
from conftest import ct_event, run_cli, write_trail_file

from sovaudit.lake import Lake
from sovaudit.pull import pull_source
from sovaudit.sources import config_from_flags
from sovaudit.verify.cloudtrail.digest_table import commit_verdicts
from sovaudit.verify.cloudtrail.validation import DigestValidation, Verdict


@pytest.fixture
def hostile(tmp_path):
    root = tmp_path / "it's a \"lake\""
    write_trail_file(root / "in" / "first.json.gz", [ct_event("e1"), ct_event("e2")])
    # e2 again, in a file of other bytes: a duplicate of a committed row, and e3 twice within one pull
    write_trail_file(root / "in" / "again" / "second.json.gz", [ct_event("e2"), ct_event("e3")])
    write_trail_file(root / "in" / "again" / "third.json.gz", [ct_event("e3"), ct_event("e4")])
    return root


def test_a_pull_that_meets_duplicates_checks_and_a_report(hostile):
    lake = hostile / "lake"
    first = run_cli("pull", "cloudtrail", "--path", str(hostile / "in" / "first.json.gz"), "--lake", str(lake),
                    "--format", "json")
    assert first.returncode == 0, first.stderr
    again = run_cli("pull", "cloudtrail", "--path", str(hostile / "in" / "again"), "--lake", str(lake),
                    "--format", "json")
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)[0]["counts"] == {"read": 4, "stored": 2, "duplicate": 2, "quarantined": 0}
    assert Lake(lake).sql("SELECT count(*), count(DISTINCT event_id) FROM cloudtrail").fetchall() == [(4, 4)]

    check = run_cli("check", "--lake", str(lake), "--format", "json")
    assert check.returncode in (0, 1, 3) and "Traceback" not in check.stderr, check.stderr
    assert json.loads(check.stdout)["checks"]
    report = run_cli("report", "--format", "json", "--out", str(hostile / "report.json"), "--lake", str(lake))
    assert report.returncode in (0, 1, 3), report.stderr
    assert json.loads((hostile / "report.json").read_text())["lake"]["path"] == str(lake)
    verify = run_cli("verify", "--lake", str(lake))
    assert verify.returncode == 0, verify.stdout + verify.stderr


def test_verdicts_are_recorded_in_a_lake_with_quotes_in_its_path(hostile):
    lake = Lake(hostile / "lake")
    pull_source(lake, config_from_flags("cloudtrail", path=str(hostile / "in" / "first.json.gz")))
    verdict = Verdict(kind="log", location="s3://bucket/key.json.gz", status="not_covered", message="not covered")
    assert commit_verdicts(lake, DigestValidation(verdicts=[verdict]), datetime.now(UTC)) is not None
    assert lake.sql("SELECT status FROM cloudtrail_digest").fetchall() == [("not_covered",)]
