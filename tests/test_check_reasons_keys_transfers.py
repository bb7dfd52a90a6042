"""Reasons of KU-004, KU-005, XR-002 and RT-002 rendered from their templates on paths the scenario does not plant:
several distinct changes in one finding (listed sorted), error codes and the hour of a burst, a second address, and
the retention limit at the second (epoch seconds, not to_days())."""

import pytest
from conftest import ct_event, write_trail_file

from sovaudit.checks.runner import run_checks
from sovaudit.config import LoadedConfig, parse_config
from sovaudit.lake import Lake
from sovaudit.pull import pull_source
from sovaudit.sources import config_from_flags

EU = "111122223333"
KEY = f"arn:aws:kms:eu-west-1:{EU}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
POLICY = f"""\
[[data_classes]]
name = "pii"
home = "EU"
tier = 1
retention_days = 30
resources = ["arn:aws:s3:::pii-eu*"]
keys = ["{KEY}"]
"""
MANAGEMENT = {"eventCategory": "Management", "managementEvent": True, "readOnly": False,
              "additionalEventData": None, "responseElements": None}
ADMIN = {"type": "IAMUser", "principalId": "AIDAADMIN", "accountId": EU, "arn": f"arn:aws:iam::{EU}:user/admin"}
INTERN = {"type": "IAMUser", "principalId": "AIDAINTERN", "accountId": EU, "arn": f"arn:aws:iam::{EU}:user/intern"}


def _kms(uid, time, name, identity, params=None, **fields):
    return ct_event(uid, time, eventSource="kms.amazonaws.com", eventName=name, userIdentity=identity,
                    sourceIPAddress="10.20.4.66", requestParameters=params or {"keyId": KEY},
                    resources=[{"accountId": EU, "type": "AWS::KMS::Key", "ARN": KEY}], **{**MANAGEMENT, **fields})


def _s3(uid, time, name, key, ip):
    return ct_event(uid, time, eventName=name, sourceIPAddress=ip,
                    requestParameters={"bucketName": "pii-eu", "key": key,
                                       "Host": "pii-eu.s3.eu-west-1.amazonaws.com"},
                    resources=[{"type": "AWS::S3::Object", "ARN": f"arn:aws:s3:::pii-eu/{key}"},
                               {"accountId": EU, "type": "AWS::S3::Bucket", "ARN": "arn:aws:s3:::pii-eu"}])


EVENTS = [
    # KU-004: one admin schedules the key's deletion three times, two of them with a pending window.
    _kms("del-7", "2024-01-02T09:00:00Z", "ScheduleKeyDeletion", ADMIN, {"keyId": KEY, "pendingWindowInDays": 7}),
    _kms("del-30", "2024-01-02T09:05:00Z", "ScheduleKeyDeletion", ADMIN, {"keyId": KEY, "pendingWindowInDays": 30}),
    _kms("del-plain", "2024-01-02T09:10:00Z", "ScheduleKeyDeletion", ADMIN),
    # KU-005: ten denied calls in one hour, with two error codes.
    *[_kms(f"deny-{n}", f"2024-01-02T10:{n * 5:02d}:00Z", "Decrypt", INTERN,
           errorCode="KMSInvalidStateException" if n % 3 == 0 else "AccessDenied", errorMessage="denied")
      for n in range(10)],
    # XR-002: a tier-1 object read from two addresses registered to the US.
    _s3("read-us-1", "2024-01-02T11:00:00Z", "GetObject", "a.csv", "12.0.0.77"),
    _s3("read-us-2", "2024-01-02T11:30:00Z", "GetObject", "a.csv", "12.0.0.78"),
    # RT-002: objects written 2023-12-01 10:00; one read exactly 30 days later (on the limit), one a second past it.
    _s3("put-edge", "2023-12-01T10:00:00Z", "PutObject", "edge.csv", "10.0.0.1"),
    _s3("put-late", "2023-12-01T10:00:00Z", "PutObject", "late.csv", "10.0.0.1"),
    _s3("read-edge", "2023-12-31T10:00:00Z", "GetObject", "edge.csv", "10.0.0.1"),
    _s3("read-late", "2023-12-31T10:00:01Z", "GetObject", "late.csv", "10.0.0.1"),
]


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    root = tmp_path_factory.mktemp("reasons")
    write_trail_file(root / "logs" / "t.json.gz", EVENTS)
    lake = Lake(root / "lake")
    pull_source(lake, config_from_flags("cloudtrail", path=str(root / "logs")))
    loaded = LoadedConfig(config=parse_config(POLICY, root / "sovaudit.toml"), path=root / "sovaudit.toml")
    run = run_checks(lake, loaded, check_ids=["KU-004", "KU-005", "XR-002", "RT-002"], since="2023-12-31",
                     until="2024-01-03")
    return {r.check.id: r for r in run.results}


def test_distinct_changes_in_one_finding_are_listed_sorted(results):
    [finding] = results["KU-004"].findings
    assert finding.reason == ("ScheduleKeyDeletion key (class pii): deletion scheduled; deletion scheduled in 30 days; "
                              "deletion scheduled in 7 days")
    assert finding.evidence == ["del-7", "del-30", "del-plain"]
    assert finding.details["action"] == "ScheduleKeyDeletion"


def test_a_burst_names_its_hour_and_sorted_error_codes(results):
    [finding] = results["KU-005"].findings
    assert finding.reason == ("10 failed key-use calls within the hour from 2024-01-02 10:00 UTC (AccessDenied, "
                              "KMSInvalidStateException), at least 10 is a burst")
    assert finding.details["key_failure_burst"] == 10
    assert finding.details["error_codes"] == "AccessDenied, KMSInvalidStateException"


def test_a_second_address_is_counted(results):
    [finding] = results["XR-002"].findings
    assert finding.reason == ("tier-1 pii data (home EU) was accessed from an address registered to US, address "
                              "12.0.0.77 and 1 other address(es)")
    assert finding.details["src_ip"] == "12.0.0.77"
    assert finding.evidence == ["read-us-1", "read-us-2"]


def test_a_read_past_retention_is_judged_to_the_second(results):
    # edge.csv is read exactly 30 days after its write: not past its retention. late.csv, a second later, is.
    [finding] = results["RT-002"].findings
    assert finding.resource == "arn:aws:s3:::pii-eu/late.csv"
    assert finding.evidence == ["put-late", "read-late"]
    assert finding.reason == "pii object written 2023-12-01 was read 30 day(s) later, past its retention of 30 days"
    assert (finding.details["days_later"], finding.details["retention_days"]) == (30, 30)
