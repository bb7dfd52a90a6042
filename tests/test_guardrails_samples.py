"""IN-008 and XR-007 on published record shapes: the AWS Organizations User Guide's AttachPolicy entry
(fixtures/aws/organizations-docs) and Microsoft's activity-log sample in the REST shape (fixtures/azure). No
published DetachPolicy record or policy-assignment deletion with a clear licence was found, so the tests derive
them from these records, changing only what names the operation; the fields the checks read keep the published
names and nesting."""

import copy
import json

from conftest import REPO

from sovaudit.checks.runner import run_checks
from sovaudit.config import LoadedConfig, parse_config
from sovaudit.lake import Lake
from sovaudit.pull import pull_source
from sovaudit.sources import config_from_flags

ATTACH = json.loads((REPO / "fixtures" / "aws" / "organizations-docs" / "AttachPolicy.json").read_text())
ACTIVITY = json.loads((REPO / "fixtures" / "azure" / "activity-log-rest-administrative.json").read_text())
SUBSCRIPTION = "/subscriptions/<subscription ID>"


def _detach(event_id: str, policy_id: str) -> dict:
    record = copy.deepcopy(ATTACH)
    record.update(eventName="DetachPolicy", eventID=event_id)
    record["requestParameters"]["policyId"] = policy_id
    del record["errorCode"], record["errorMessage"]
    return record


def _azure(event_id: str, operation: str, resource_id: str, status_code: str = "OK", body: dict | None = None) -> dict:
    record = copy.deepcopy(ACTIVITY)
    record.update(eventDataId=event_id, correlationId=event_id, resourceId=resource_id, id=resource_id + "/events/1")
    record["operationName"]["value"] = record["authorization"]["action"] = operation
    record["authorization"]["scope"] = resource_id
    record["properties"]["statusCode"] = status_code
    record["properties"]["requestbody"] = json.dumps(body) if body else ""
    return record


def _run(tmp_path, aws: list[dict], azure: list[dict], config: str, check: str):
    (tmp_path / "ct").mkdir()
    (tmp_path / "ct" / "org.json").write_text(json.dumps({"Records": aws}))
    (tmp_path / "az").mkdir()
    (tmp_path / "az" / "activity.json").write_text("\n".join(json.dumps(r) for r in azure) + "\n")
    lake = Lake(tmp_path / "lake")
    for spec in (config_from_flags("cloudtrail", path=str(tmp_path / "ct")),
                 config_from_flags("azure", path=str(tmp_path / "az"))):
        result = pull_source(lake, spec)
        assert result.counts["quarantined"] == 0, result.counts
    loaded = LoadedConfig(config=parse_config(config), path=None)
    [result] = run_checks(lake, loaded, check_ids=[check], since="2017-01-01", until="2019-01-01").results
    return result


def test_a_detached_scp_and_a_deleted_allowed_locations_assignment_fire_in_008_and_the_failed_attach_does_not(
        tmp_path):
    assignment = f"{SUBSCRIPTION}/providers/Microsoft.Authorization/policyAssignments/allowed-locations"
    result = _run(tmp_path, [ATTACH, _detach("detach-1", "p-examplepolicyid111"),
                             _detach("detach-2", "p-FullAWSAccess")],
                  [_azure("azure-delete-1", "Microsoft.Authorization/policyAssignments/delete", assignment)],
                  "", "IN-008")
    assert result.status == "FAIL", result.status_reason
    reasons = sorted(f.reason for f in result.findings)
    assert reasons == [
        "SCP p-examplepolicyid111 detached from OU ou-examplerootid111-exampleouid111 by "
        "arn:aws:iam::111111111111:user/diego from 192.0.2.0",
        "region guardrail policy assignment allowed-locations deleted at /subscriptions/<subscription id> by "
        "rob@contoso.com from 111.111.1.111",
    ]
    cited = {uid for f in result.findings for uid in f.evidence}
    # The failed AttachPolicy and the removal of FullAWSAccess, which tightens, are not findings.
    assert cited == {"detach-1", "azure-delete-1"}


def test_xr_007_judges_creations_against_accounts_and_is_not_assessed_without_them(tmp_path):
    scratch = f"{SUBSCRIPTION}/resourceGroups/rg-us/providers/Microsoft.Storage/storageAccounts/scratchus"
    updated = f"{SUBSCRIPTION}/resourceGroups/rg-us/providers/Microsoft.Storage/storageAccounts/olderus"
    azure = [_azure("create-1", "Microsoft.Storage/storageAccounts/write", scratch, "Created",
                    {"location": "East US", "sku": {"name": "Standard_LRS"}, "kind": "StorageV2"}),
             _azure("update-1", "Microsoft.Storage/storageAccounts/write", updated, "OK",
                    {"location": "eastus", "sku": {"name": "Standard_LRS"}})]
    accounts = '[[accounts]]\nid = "<SUBSCRIPTION ID>"\njurisdiction = "EU"\n'
    result = _run(tmp_path, [ATTACH], azure, accounts, "XR-007")
    assert result.status == "FAIL", result.status_reason
    [finding] = result.findings
    assert finding.evidence == ["create-1"]  # the write that updated an account created nothing
    assert finding.reason == (f"storage account {scratch.lower()} created in eastus (US) by "
                              "Microsoft.Storage/storageAccounts/write, but subscription <subscription id> belongs in EU")
    [without] = run_checks(Lake(tmp_path / "lake"), LoadedConfig(config=parse_config(""), path=None),
                           check_ids=["XR-007"], since="2017-01-01", until="2019-01-01").results
    assert without.status == "NOT_ASSESSED"
    assert without.status_reason.startswith("policy missing: no [[accounts]] are declared in the config: give each "
                                            "AWS account or Azure subscription its id and the jurisdiction")
