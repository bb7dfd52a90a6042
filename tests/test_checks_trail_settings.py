"""IN-002 judges each trail change in the window against the trail's configuration before it, from the lake's
history; IN-001 says where a StopLogging came from as far as the record knows. Request shapes are CloudTrail's own (camelCase, as in the Stratus Red Team sample in
fixtures/aws/cloudtrail) built on the examples of the AWS CLI reference for put-event-selectors (basic and
advanced selectors, the "exclude AWS KMS events" selector) and update-trail; the PascalCase case is how the API
and SDKs spell the same parameters."""

import pytest
from conftest import ct_event, write_trail_file

from sovaudit.checks.runner import run_checks
from sovaudit.config import Config, LoadedConfig
from sovaudit.lake import Lake
from sovaudit.pull import pull_source
from sovaudit.sources import config_from_flags

TRAIL = "arn:aws:cloudtrail:eu-west-1:111122223333:trail/org-trail"
MANAGEMENT_ONLY = [{"readWriteType": "All", "includeManagementEvents": True, "dataResources": [],
                    "excludeManagementEventSources": []}]
WITH_DATA = [{"readWriteType": "All", "includeManagementEvents": True, "excludeManagementEventSources": [],
              "dataResources": [{"type": "AWS::S3::Object", "values": ["arn:aws:s3:::pii-eu/"]}]}]
ADVANCED_MANAGEMENT = [{"name": "Management events selector",
                        "fieldSelectors": [{"field": "eventCategory", "equals": ["Management"]}]}]
CREATED = {"name": "org-trail", "s3BucketName": "org-trail-logs", "s3KeyPrefix": "audit", "isMultiRegionTrail": True,
           "includeGlobalServiceEvents": True, "enableLogFileValidation": True,
           "kmsKeyId": "arn:aws:kms:eu-west-1:111122223333:key/0b1c2d3e-4f50-4617-8293-a4b5c6d7e8f9"}


def _change(uid: str, time: str, name: str, params: dict) -> dict:
    return ct_event(uid, time, eventSource="cloudtrail.amazonaws.com", eventName=name, requestParameters=params,
                    eventCategory="Management", managementEvent=True, readOnly=False, additionalEventData=None)


def _selectors(uid: str, time: str, selectors: list, key: str = "eventSelectors") -> dict:
    return _change(uid, time, "PutEventSelectors", {"trailName": TRAIL, key: selectors})


def _in_002(tmp_path, events: list[dict], since: str = "2024-01-02T00:00:00Z"):
    write_trail_file(tmp_path / "logs" / "t.json.gz", events)
    lake = Lake(tmp_path / "lake")
    pull_source(lake, config_from_flags("cloudtrail", path=str(tmp_path / "logs")))
    [result] = run_checks(lake, LoadedConfig(config=Config(), path=None), check_ids=["IN-002"], since=since,
                          until="2024-01-03T00:00:00Z").results
    return result


BEFORE = "2024-01-01T09:00:00Z"  # before the window: the trail's known configuration
AT = "2024-01-02T10:00:00Z"

WEAKENED = {
    "readWriteType ReadOnly": (
        MANAGEMENT_ONLY, [{**MANAGEMENT_ONLY[0], "readWriteType": "ReadOnly"}], "eventSelectors",
        "PutEventSelectors: management write events no longer recorded (read-only)"),
    "readWriteType WriteOnly": (
        MANAGEMENT_ONLY, [{**MANAGEMENT_ONLY[0], "readWriteType": "WriteOnly"}], "eventSelectors",
        "PutEventSelectors: management read events no longer recorded (write-only)"),
    "advanced selector readOnly = true": (
        ADVANCED_MANAGEMENT, [{"name": "Log readOnly management events", "fieldSelectors": [
            {"field": "eventCategory", "equals": ["Management"]}, {"field": "readOnly", "equals": ["true"]}]}],
        "advancedEventSelectors", "PutEventSelectors: management write events no longer recorded (read-only)"),
    "excludeManagementEventSources kms": (
        MANAGEMENT_ONLY, [{**MANAGEMENT_ONLY[0], "excludeManagementEventSources": ["kms.amazonaws.com"]}],
        "eventSelectors",
        "PutEventSelectors: management events of kms.amazonaws.com no longer recorded (excludeManagementEventSources)"),
    "advanced selector eventSource notEquals kms": (
        ADVANCED_MANAGEMENT, [{"name": "Management events except AWS KMS", "fieldSelectors": [
            {"field": "eventCategory", "equals": ["Management"]},
            {"field": "eventSource", "notEquals": ["kms.amazonaws.com"]}]}], "advancedEventSelectors",
        "PutEventSelectors: management events of kms.amazonaws.com no longer recorded (excludeManagementEventSources)"),
    "management events off": (
        WITH_DATA, [{**WITH_DATA[0], "includeManagementEvents": False}], "eventSelectors",
        "PutEventSelectors: management events no longer recorded"),
    "data events removed": (
        WITH_DATA, MANAGEMENT_ONLY, "eventSelectors",
        "PutEventSelectors: data events no longer recorded for AWS::S3::Object arn:aws:s3:::pii-eu/"),
    "data events narrowed to reads": (
        WITH_DATA, [{**WITH_DATA[0], "readWriteType": "ReadOnly"}], "eventSelectors",
        "PutEventSelectors: management write events no longer recorded (read-only); data write events no longer "
        "recorded (read-only)"),
    "PascalCase parameters (the API's spelling)": (
        MANAGEMENT_ONLY, [{"ReadWriteType": "ReadOnly", "IncludeManagementEvents": True, "DataResources": []}],
        "EventSelectors", "PutEventSelectors: management write events no longer recorded (read-only)"),
}


@pytest.mark.parametrize("case", WEAKENED)
def test_each_selector_weakening_fires_against_the_previous_selectors(tmp_path, case):
    before, after, key, reason = WEAKENED[case]
    result = _in_002(tmp_path, [_selectors("before", BEFORE, before, "eventSelectors" if key != "advancedEventSelectors"
                                           else key), _selectors("change", AT, after, key)])
    assert result.status == "FAIL", result.status_reason
    [finding] = result.findings
    assert finding.reason == reason
    assert finding.resource == TRAIL
    # The change and the configuration it is compared with, in time order.
    assert finding.evidence == ["before", "change"]


QUIET = {
    "the common management-events-only selector, first seen": [_selectors("change", AT, MANAGEMENT_ONLY)],
    "the management-events-only selector again": [_selectors("before", BEFORE, MANAGEMENT_ONLY),
                                                  _selectors("change", AT, MANAGEMENT_ONLY)],
    "the advanced management selector, first seen": [_selectors("change", AT, ADVANCED_MANAGEMENT,
                                                                "advancedEventSelectors")],
    "data events added": [_selectors("before", BEFORE, MANAGEMENT_ONLY), _selectors("change", AT, WITH_DATA)],
    "write-only management events, first seen (a choice, not weak in itself)": [
        _selectors("change", AT, [{**MANAGEMENT_ONLY[0], "readWriteType": "WriteOnly"}])],
    "multi-region logging turned on": [_change("create", BEFORE, "CreateTrail", {**CREATED, "isMultiRegionTrail": False}),
                                       _change("change", AT, "UpdateTrail", {"name": "org-trail",
                                                                             "isMultiRegionTrail": True})],
    "a bucket named on a trail first seen (nothing to redirect from)": [
        _change("change", AT, "UpdateTrail", {"name": "org-trail", "s3BucketName": "org-trail-logs"})],
    "the same bucket named again": [_change("create", BEFORE, "CreateTrail", CREATED),
                                    _change("change", AT, "UpdateTrail", {"name": "org-trail",
                                                                          "s3BucketName": "org-trail-logs"})],
    "a trail created with CloudTrail's defaults": [_change("change", AT, "CreateTrail", {
        "name": "org-trail", "s3BucketName": "org-trail-logs", "includeGlobalServiceEvents": True})],
    "a trail deleted and created again starts anew": [
        _selectors("before", BEFORE, WITH_DATA), _change("delete", "2024-01-02T08:00:00Z", "DeleteTrail",
                                                         {"name": TRAIL}),
        _change("create", "2024-01-02T09:00:00Z", "CreateTrail", {"name": "org-trail", "s3BucketName": "logs"}),
        _selectors("change", AT, MANAGEMENT_ONLY)],
}


@pytest.mark.parametrize("case", QUIET)
def test_changes_that_do_not_weaken_the_trail_are_quiet(tmp_path, case):
    result = _in_002(tmp_path, QUIET[case])
    assert result.status == "PASS", [f.reason for f in result.findings]


FIRST_SEEN = {
    "management events off": ([{**WITH_DATA[0], "includeManagementEvents": False}],
                              "PutEventSelectors: management events not recorded"),
    "read-only management events": ([{**MANAGEMENT_ONLY[0], "readWriteType": "ReadOnly"}],
                                    "PutEventSelectors: only read-only management events recorded"),
    "kms excluded": ([{**MANAGEMENT_ONLY[0], "excludeManagementEventSources": ["kms.amazonaws.com"]}],
                     "PutEventSelectors: management events of kms.amazonaws.com not recorded "
                     "(excludeManagementEventSources)"),
}


@pytest.mark.parametrize("case", FIRST_SEEN)
def test_a_trail_first_seen_is_flagged_only_for_settings_weak_in_themselves(tmp_path, case):
    selectors, reason = FIRST_SEEN[case]
    result = _in_002(tmp_path, [_selectors("change", AT, selectors)])
    assert [(f.reason, f.evidence) for f in result.findings] == [(reason, ["change"])]


TRAIL_SETTINGS = {
    "isMultiRegionTrail": (False, "UpdateTrail: multi-region logging turned off"),
    "includeGlobalServiceEvents": (False, "UpdateTrail: global service events turned off"),
    "enableLogFileValidation": (False, "UpdateTrail: log-file validation turned off"),
    "kmsKeyId": ("", "UpdateTrail: KMS encryption removed"),
    "s3BucketName": ("attacker-logs", "UpdateTrail: delivery redirected from bucket org-trail-logs to attacker-logs"),
    "s3KeyPrefix": ("elsewhere", 'UpdateTrail: delivery redirected from prefix "audit" to "elsewhere" of bucket '
                                 "org-trail-logs"),
}


@pytest.mark.parametrize("setting", TRAIL_SETTINGS)
def test_update_trail_weakenings_fire_against_the_created_trail(tmp_path, setting):
    value, reason = TRAIL_SETTINGS[setting]
    result = _in_002(tmp_path, [_change("create", BEFORE, "CreateTrail", CREATED),
                                _change("change", AT, "UpdateTrail", {"name": "org-trail", setting: value})])
    assert [(f.reason, f.evidence) for f in result.findings] == [(reason, ["create", "change"])]


def test_the_previous_configuration_may_lie_before_the_window_but_a_change_before_it_is_not_judged(tmp_path):
    events = [_selectors("before", BEFORE, WITH_DATA), _selectors("change", AT, MANAGEMENT_ONLY),
              ct_event("read", "2024-01-02T12:00:00Z")]
    result = _in_002(tmp_path, events, since="2024-01-02T11:00:00Z")
    assert result.status == "PASS", result.status_reason


# -- IN-001 says where a StopLogging came from as far as the record knows --------------------------------

WHERE_FROM = {
    "an address": ({"sourceIPAddress": "95.108.128.1"}, "from 95.108.128.1"),
    "an AWS service acting for the caller": (
        {"sourceIPAddress": "cloudformation.amazonaws.com",
         "userIdentity": {"type": "AssumedRole", "accountId": "111122223333", "invokedBy": "cloudformation.amazonaws.com",
                          "arn": "arn:aws:sts::111122223333:assumed-role/deployer/session"},
         "userAgent": "cloudformation.amazonaws.com"},
        "through the AWS service cloudformation.amazonaws.com (AssumedRole identity, user agent "
        "cloudformation.amazonaws.com)"),
    "AWS Internal instead of an address": (
        {"sourceIPAddress": "AWS Internal", "userAgent": "AWS Internal"},
        'from "AWS Internal", which is not an address (IAMUser identity, user agent AWS Internal)'),
    "no address at all": ({"sourceIPAddress": None, "userAgent": None},
                          "from an unknown address (IAMUser identity, user agent unknown)"),
}


@pytest.mark.parametrize("case", WHERE_FROM)
def test_in_001_says_what_is_known_of_where_the_call_came_from(tmp_path, case):
    fields, where = WHERE_FROM[case]
    stop = {**_change("stop", AT, "StopLogging", {"name": TRAIL}), **fields}
    write_trail_file(tmp_path / "logs" / "t.json.gz", [stop])
    lake = Lake(tmp_path / "lake")
    pull_source(lake, config_from_flags("cloudtrail", path=str(tmp_path / "logs")))
    [result] = run_checks(lake, LoadedConfig(config=Config(), path=None), check_ids=["IN-001"],
                          since="2024-01-02T00:00:00Z", until="2024-01-03T00:00:00Z").results
    [finding] = result.findings
    assert finding.reason.startswith("StopLogging succeeded by arn:") and finding.reason.endswith(" " + where), \
        finding.reason
