"""`--format ocsf`: findings as OCSF Compliance Findings, validated against the OCSF schema itself (the versions
the ocsf-json-schema package ships, compiled from the OCSF project's schema into JSON Schema draft 2020-12)."""

import copy
import json
from functools import cache

import pytest
from conftest import run_cli
from jsonschema import Draft202012Validator
from ocsf_json_schema import OcsfJsonSchemaEmbedded, get_ocsf_schema

from sovaudit.checks.catalogue import discover

CHECKS = {c.id: c for c in discover()}
# 1.1.0: what Security Lake's custom sources take, and what the documents declare; 1.6.0: Security Hub's.
VERSIONS = ("1.1.0", "1.6.0")


@cache
def validator(version: str, profiles: tuple[str, ...]) -> Draft202012Validator:
    schema = OcsfJsonSchemaEmbedded(get_ocsf_schema(version=version))
    return Draft202012Validator(schema.get_class_schema(class_name="compliance_finding", profiles=list(profiles)))


def errors(event: dict, version: str) -> list[str]:
    found = validator(version, tuple(sorted(event["metadata"]["profiles"]))).iter_errors(event)
    return [f"{e.json_path}: {e.message[:200]}" for e in found]


@pytest.fixture(scope="module")
def ocsf(planted_scenario):
    _, lake, config = planted_scenario
    proc = run_cli("check", "--lake", str(lake.root), "--config", str(config), "--format", "ocsf")
    assert proc.returncode == 1, proc.stderr
    return json.loads(proc.stdout)


@pytest.fixture(scope="module")
def planted_json(planted_scenario):
    _, lake, config = planted_scenario
    return json.loads(run_cli("check", "--lake", str(lake.root), "--config", str(config), "--format", "json").stdout)


@pytest.mark.parametrize("version", VERSIONS)
def test_every_finding_is_a_valid_ocsf_compliance_finding(ocsf, version):
    assert ocsf
    for event in ocsf:
        assert not errors(event, version), (event["finding_info"]["uid"], errors(event, version)[:3])


def test_the_validation_rejects_what_ocsf_does_not_allow(ocsf):
    """The schema is strict enough to matter: a wrong enum value, a missing required attribute, an attribute
    OCSF does not define and a time in the wrong type each fail it."""
    good = ocsf[0]
    for path, value in ((("severity_id",), 7), (("finding_info", "uid"), None), (("compliance", "sovereign"), 1),
                        (("time",), "2026-09-07T12:00:00Z"), (("start_time_dt",), "07/09/2026")):
        bad = copy.deepcopy(good)
        target = bad
        for key in path[:-1]:
            target = target[key]
        if value is None:
            del target[path[-1]]
        else:
            target[path[-1]] = value
        assert errors(bad, "1.1.0"), path


def test_one_compliance_finding_per_finding_with_what_an_auditor_filters_on(ocsf, planted_json):
    findings = {f["finding_id"]: (c, f) for c in planted_json["checks"] for f in c["findings"]}
    assert [e["finding_info"]["uid"] for e in ocsf] == list(findings)
    for event in ocsf:
        check, finding = findings[event["finding_info"]["uid"]]
        assert (event["class_uid"], event["category_uid"], event["type_uid"]) == (2003, 2, 200301)
        assert event["metadata"]["version"] == "1.1.0" and event["metadata"]["product"]["name"] == "sovaudit"
        assert event["compliance"] == {"standards": ["GDPR"], "requirements": check["gdpr"], "control": check["id"],
                                       "status": "Fail", "status_id": 3}
        assert event["severity"].lower() == check["severity"] and event["message"] == finding["reason"]
        assert event["start_time_dt"] == finding["first_seen"] and event["count"] == finding["event_count"]
        assert [e["uid"] for e in event["finding_info"]["related_events"]] == finding["evidence"]
        assert event["finding_info"]["src_url"].endswith(f"#check-{check['id'].lower()}")
        assert event["unmapped"]["actor"] == finding["actor"]
        if finding["resource"]:
            assert event["resource"]["uid"] == finding["resource"]
    xr3 = next(e for e in ocsf if e["compliance"]["control"] == "XR-003")
    assert xr3["cloud"] == {"provider": "AWS", "region": "eu-west-1"}
    assert "cloud" in xr3["metadata"]["profiles"]
    azure = next(e for e in ocsf if e.get("cloud", {}).get("region") == "westeurope")
    assert azure["cloud"]["provider"] == "Azure"


def test_an_accepted_finding_is_suppressed_with_its_justification(ocsf, planted_json):
    """The demo policy accepts EG-003's backup spike while its suppression is in force."""
    state = next(s for s in planted_json["suppressions"] if s["check"] == "EG-003")
    accepted = [e for e in ocsf if e["status_id"] == 3]
    if state["state"] == "expired":
        assert not accepted
        return
    assert [e["finding_info"]["uid"] for e in accepted] == state["findings"]
    assert accepted[0]["status"] == "Suppressed" and accepted[0]["compliance"]["status"] == "Fail"
    assert "Quarterly full backup" in accepted[0]["status_detail"]
    assert accepted[0]["unmapped"]["accepted"]["approved_by"] == "Dr. Ada Jansen, DPO"
    assert {e["status_id"] for e in ocsf if e["status_id"] != 3} == {1}
