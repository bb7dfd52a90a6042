"""The whole catalogue over a real third-party log: the Stratus Red Team attack simulation in
fixtures/aws/cloudtrail (copied from ../shared/samples/aws/cloudtrail), with a sample policy."""

import json

import pytest
from conftest import SAMPLES, run_cli

SAMPLE_POLICY = """\
[[data_classes]]
name = "simulation-buckets"
home = "EU"
tier = 1
retention_days = 30
resources = ["arn:aws:s3:::stratus-red-team-*"]
keys = ["arn:aws:kms:us-east-1:*"]

# The simulation's account, declared as an EU one: everything it creates in us-east-1 is outside (XR-007).
[[accounts]]
id = "123837392027"
jurisdiction = "EU"
"""


@pytest.fixture(scope="module")
def sample_check(tmp_path_factory):
    root = tmp_path_factory.mktemp("samples")
    (root / "sovaudit.toml").write_text(SAMPLE_POLICY)
    lake = root / "lake"
    pulled = run_cli("pull", "cloudtrail", "--path", str(SAMPLES), "--lake", str(lake))
    assert pulled.returncode == 0, pulled.stderr
    proc = run_cli("check", "--lake", str(lake), "--format", "json", cwd=root)
    trail_events = run_cli("sql", "--lake", str(lake), "--format", "json",
                           "SELECT event_uid, action, outcome FROM events WHERE action IN ('StopLogging', 'DeleteTrail')")
    return proc, json.loads(proc.stdout), json.loads(trail_events.stdout)


def test_every_check_runs_on_the_real_sample(sample_check):
    proc, doc, _ = sample_check
    assert proc.returncode == 1  # findings at high and above
    assert "error" not in proc.stderr
    statuses = {c["id"]: c["status"] for c in doc["checks"]}
    assert set(statuses.values()) <= {"PASS", "FAIL", "NOT_ASSESSED"}
    # The simulation lasts one hour: there is no 30-day look-back for the baseline checks, and they say so.
    # The Azure-only and Kafka checks are out of scope: neither was pulled, which is not partial evidence.
    for check in doc["checks"]:
        if check["status"] == "NOT_ASSESSED":
            assert check["status_reason"].startswith("no baseline") or check.get("out_of_scope"), check
    assert {c["id"] for c in doc["checks"] if c.get("out_of_scope")} == {
        "KU-006", "RT-003", "IN-004", "XR-004", "XR-005", "EG-004", "RT-004", "IN-005", "IN-006", "IN-007"}


def test_stop_logging_and_delete_trail_are_reported(sample_check):
    _, doc, trail_events = sample_check
    assert {e["action"] for e in trail_events} == {"StopLogging", "DeleteTrail"}
    in001 = next(c for c in doc["checks"] if c["id"] == "IN-001")
    assert in001["status"] == "FAIL"
    cited = {uid for f in in001["findings"] for uid in f["evidence"]}
    assert {e["event_uid"] for e in trail_events} <= cited
    reasons = " ".join(f["reason"] for f in in001["findings"])
    assert "DeleteTrail succeeded" in reasons and "StopLogging attempted and failed (TrailNotFoundException)" in reasons


def test_event_selector_tampering_is_reported(sample_check):
    """Stratus technique aws.defense-evasion.cloudtrail-event-selectors: the trail Terraform created (CloudTrail's
    default selectors: all management events) is given a read-only selector with management events off and data
    resources that select nothing. Judged against the trail's state after CreateTrail, which itself is quiet."""
    _, doc, _ = sample_check
    in002 = next(c for c in doc["checks"] if c["id"] == "IN-002")
    assert in002["status"] == "FAIL"
    [finding] = in002["findings"]
    assert finding["reason"] == "PutEventSelectors: management events no longer recorded"
    assert finding["resource"] == "arn:aws:cloudtrail:us-east-1:123837392027:trail/stratus-red-team-ctes-trail-qyxyekjbtk"
    assert len(finding["evidence"]) == 2  # the CreateTrail it is compared with, and the change


def test_kms_use_outside_the_declared_home_is_reported(sample_check):
    _, doc, _ = sample_check
    ku1 = next(c for c in doc["checks"] if c["id"] == "KU-001")
    assert ku1["status"] == "FAIL"
    assert {f["region"] for f in ku1["findings"]} == {"us-east-1"}


def test_stores_the_simulation_created_in_us_east_1_are_outside_its_eu_account(sample_check):
    """Stratus's Terraform creates its buckets, EBS volumes and an RDS instance in us-east-1: with the account
    declared EU in [[accounts]], each is an XR-007 finding, from the published records."""
    _, doc, _ = sample_check
    xr7 = next(c for c in doc["checks"] if c["id"] == "XR-007")
    assert xr7["status"] == "FAIL"
    assert sorted(f["resource"] for f in xr7["findings"]) == [
        "arn:aws:ec2:us-east-1:123837392027:volume/vol-0a2e548958718390d",
        "arn:aws:ec2:us-east-1:123837392027:volume/vol-0fc2e34e74650e145",
        "arn:aws:rds:us-east-1:123837392027:db:terraform-20230710121504061500000001",
        "arn:aws:s3:::stratus-red-team-bdbp-lhfzvgcamn",
        "arn:aws:s3:::stratus-red-team-ctes-bucket-qyxyekjbtk",
        "arn:aws:s3:::stratus-red-team-olc-bucket-xhfgzaowxc",
    ]
    assert all(f["reason"].endswith("but account 123837392027 belongs in EU") for f in xr7["findings"])
    # Nothing in the simulation replicates a database or touches an SCP.
    assert {c["id"]: c["status"] for c in doc["checks"] if c["id"] in ("XR-006", "IN-008")} == {
        "XR-006": "PASS", "IN-008": "PASS"}
