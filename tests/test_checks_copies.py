"""EG-005, EG-006 and EG-007 on paths the scenario does not plant: parameter names in the APIs' PascalCase, a copy to
an allowed transfer's destination, the organisation's accounts declared in the config, failed calls, and the
real ModifySnapshotAttribute, ModifyImageAttribute and ModifyDBSnapshotAttribute records of the Stratus Red Team
simulation in fixtures/aws/cloudtrail."""

from pathlib import Path

import pytest
from conftest import SAMPLES, ct_event, write_trail_file

from sovaudit.checks.catalogue import discover
from sovaudit.checks.runner import run_checks
from sovaudit.config import LoadedConfig, parse_config
from sovaudit.lake import Lake
from sovaudit.pull import pull_source
from sovaudit.sources import config_from_flags

EU, OTHER = "111122223333", "222233334444"
MANAGEMENT = {"eventCategory": "Management", "managementEvent": True, "readOnly": False,
              "additionalEventData": None, "responseElements": None}
POLICY = f"""\
[[data_classes]]
name = "db-backups"
home = "EU"
tier = 2
retention_days = 35
resources = ["arn:aws:backup:eu-west-1:{EU}:backup-vault:db-*", "arn:aws:ec2:eu-west-1::snapshot/*",
             "arn:aws:ec2:eu-west-1::image/*", "arn:aws:rds:eu-west-1:{EU}:cluster-snapshot:db-*"]
allowed_transfers = [{{ to = "CH", safeguard = "Swiss adequacy decision" }}]
"""


def _event(uid, name, source, region, params, response=None, **fields):
    return ct_event(uid, "2024-01-02T10:00:00Z", eventSource=source, eventName=name, awsRegion=region,
                    requestParameters=params, **{**MANAGEMENT, "responseElements": response, **fields})


EVENTS = [
    # A plan written by a tool that sends the API's own (PascalCase) names: two rules, one copying abroad.
    _event("plan-pascal", "CreateBackupPlan", "backup.amazonaws.com", "eu-west-1", {"BackupPlan": {
        "BackupPlanName": "db-nightly", "Rules": [
            {"RuleName": "stay", "TargetBackupVaultName": "db-vault", "CopyActions": [
                {"DestinationBackupVaultArn": f"arn:aws:backup:eu-central-1:{EU}:backup-vault:db-dr"}]},
            {"RuleName": "away", "TargetBackupVaultName": "db-vault", "CopyActions": [
                {"DestinationBackupVaultArn": f"arn:aws:backup:ap-southeast-2:{EU}:backup-vault:db-syd"}]}]}}),
    # To Switzerland, an allowed transfer of the class: quiet.
    _event("job-allowed", "StartCopyJob", "backup.amazonaws.com", "eu-west-1", {
        "recoveryPointArn": f"arn:aws:backup:eu-west-1:{EU}:recovery-point:ABC",
        "sourceBackupVaultName": "db-vault",
        "destinationBackupVaultArn": f"arn:aws:backup:eu-central-2:{EU}:backup-vault:db-zurich"}),
    # A vault no class lists: quiet.
    _event("job-unclassed", "StartCopyJob", "backup.amazonaws.com", "eu-west-1", {
        "recoveryPointArn": f"arn:aws:backup:eu-west-1:{EU}:recovery-point:DEF", "sourceBackupVaultName": "scratch",
        "destinationBackupVaultArn": f"arn:aws:backup:us-east-1:{EU}:backup-vault:dr"}),
    # A copy refused by AWS copied nothing: quiet.
    _event("copy-denied", "CopySnapshot", "ec2.amazonaws.com", "us-east-1",
           {"SourceRegion": "eu-west-1", "SourceSnapshotId": "snap-0123456789abcdef0"},
           errorCode="Client.UnauthorizedOperation", errorMessage="not authorized"),
    _event("copy-image", "CopyImage", "ec2.amazonaws.com", "us-west-2",
           {"SourceRegion": "eu-west-1", "SourceImageId": "ami-0528b3966f95526ee"},
           {"requestId": "r", "imageId": "ami-00339be3aeeb7ac2d"}),
    # An Aurora cluster snapshot copied from eu-west-1 (named by ARN) into us-east-1.
    _event("copy-cluster", "CopyDBClusterSnapshot", "rds.amazonaws.com", "us-east-1", {
        "sourceDBClusterSnapshotIdentifier": f"arn:aws:rds:eu-west-1:{EU}:cluster-snapshot:db-2024-01-01",
        "targetDBClusterSnapshotIdentifier": "DB-2024-01-01-US", "sourceRegion": "eu-west-1"}),
    # Shares: to an account the config declares (quiet), to one it does not, and publicly (the RDS spelling).
    _event("share-declared", "ModifySnapshotAttribute", "ec2.amazonaws.com", "eu-west-1", {
        "snapshotId": "snap-0123456789abcdef0", "attributeType": "CREATE_VOLUME_PERMISSION",
        "createVolumePermission": {"add": {"items": [{"userId": OTHER}]}}}),
    _event("share-foreign", "ModifySnapshotAttribute", "ec2.amazonaws.com", "eu-west-1", {
        "SnapshotId": "snap-0123456789abcdef0", "AttributeType": "CREATE_VOLUME_PERMISSION",
        "CreateVolumePermission": {"Add": {"Items": [{"UserId": "999988887777"}, {"UserId": OTHER}]}}}),
    _event("share-removed", "ModifySnapshotAttribute", "ec2.amazonaws.com", "eu-west-1", {
        "snapshotId": "snap-0123456789abcdef0", "createVolumePermission": {"remove": {"items": [{"group": "all"}]}}}),
    _event("share-public", "ModifyDBClusterSnapshotAttribute", "rds.amazonaws.com", "eu-west-1", {
        "dBClusterSnapshotIdentifier": "db-2024-01-01", "attributeName": "restore", "valuesToAdd": ["all"]}),
]


def _run(root: Path, policy: str, check_ids: list[str], since="2024-01-01", until="2024-01-03"):
    lake = Lake(root / "lake")
    run = run_checks(lake, LoadedConfig(config=parse_config(policy, root / "sovaudit.toml"),
                                        path=root / "sovaudit.toml"), check_ids=check_ids, since=since, until=until)
    return {r.check.id: r for r in run.results}


@pytest.fixture(scope="module")
def lake_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("copies")
    write_trail_file(root / "logs" / "t.json.gz", EVENTS)
    pull_source(Lake(root / "lake"), config_from_flags("cloudtrail", path=str(root / "logs")))
    return root


def test_a_plan_is_judged_per_rule_with_names_in_any_case(lake_root):
    results = _run(lake_root, POLICY, ["EG-005"])
    [finding] = results["EG-005"].findings
    assert finding.evidence == ["plan-pascal"]
    assert finding.reason == (f"backup plan db-nightly (rule away) copies every recovery point of vault db-vault "
                              f"(class db-backups, home EU) to arn:aws:backup:ap-southeast-2:{EU}:backup-vault:db-syd "
                              "(AU)")
    assert finding.resource == f"arn:aws:backup:eu-west-1:{EU}:backup-vault:db-vault"
    assert (finding.region_jurisdiction, finding.counterpart_jurisdiction) == ("EU", "AU")


def test_snapshot_and_image_copies_take_the_class_of_their_source(lake_root):
    findings = {f.evidence[0]: f for f in _run(lake_root, POLICY, ["EG-006"])["EG-006"].findings}
    assert set(findings) == {"copy-image", "copy-cluster"}  # the denied copy copied nothing
    assert findings["copy-image"].reason == (
        "AMI arn:aws:ec2:eu-west-1::image/ami-0528b3966f95526ee (class db-backups, home EU) copied from eu-west-1 to "
        "arn:aws:ec2:us-west-2::image/ami-00339be3aeeb7ac2d in us-west-2 (US)")
    assert findings["copy-cluster"].reason == (
        f"DB cluster snapshot arn:aws:rds:eu-west-1:{EU}:cluster-snapshot:db-2024-01-01 (class db-backups, home EU) "
        f"copied from eu-west-1 to arn:aws:rds:us-east-1:{EU}:cluster-snapshot:db-2024-01-01-us in us-east-1 (US)")
    assert findings["copy-cluster"].region == "us-east-1"


def test_shares_are_judged_against_the_declared_accounts(lake_root):
    declared = f'[organisation]\naccounts = ["{EU}", "{OTHER}"]\n' + POLICY
    findings = {(f.evidence[0], f.details["shared_with"]): f
                for f in _run(lake_root, declared, ["EG-007"])["EG-007"].findings}
    assert set(findings) == {("share-foreign", "999988887777"), ("share-public", "all")}
    assert findings["share-foreign", "999988887777"].reason == (
        "EBS snapshot arn:aws:ec2:eu-west-1::snapshot/snap-0123456789abcdef0 (class db-backups, home EU) shared with "
        "account 999988887777, which is not one of the organisation's (the organisation's accounts: declared in "
        "[organisation] accounts)")
    assert "made public (shared with all)" in findings["share-public", "all"].reason


def test_without_declared_accounts_the_trails_accounts_are_the_organisations(lake_root):
    findings = _run(lake_root, POLICY, ["EG-007"])["EG-007"].findings
    shared = {f.details["shared_with"]: f.evidence for f in findings}
    # OTHER is no account the lake's trails deliver for (they all deliver for EU): now it is outside, and the
    # two calls that shared the snapshot with it are one finding.
    assert shared == {OTHER: ["share-declared", "share-foreign"], "999988887777": ["share-foreign"],
                      "all": ["share-public"]}
    assert all(f.reason.endswith("(the organisation's accounts: the accounts the lake's trails deliver for)")
               for f in findings)


def test_an_account_id_that_is_not_one_is_a_config_error(tmp_path):
    from sovaudit.errors import ConfigError

    with pytest.raises(ConfigError, match="accounts"):
        parse_config('[organisation]\naccounts = ["1234"]\n', tmp_path / "sovaudit.toml")


@pytest.mark.parametrize("check_id", ["EG-005", "EG-006", "EG-007"])
def test_not_assessed_without_data_classes(lake_root, check_id):
    result = _run(lake_root, "", [check_id])[check_id]
    assert result.status == "NOT_ASSESSED" and "policy missing" in result.status_reason


@pytest.mark.parametrize("check_id", ["EG-005", "EG-006", "EG-007"])
def test_not_assessed_without_cloudtrail_in_the_window(lake_root, check_id):
    result = _run(lake_root, POLICY, [check_id], since="2025-01-01", until="2025-01-02")[check_id]
    assert result.status == "NOT_ASSESSED" and "cloudtrail" in result.status_reason


def test_the_stratus_simulation_shares_are_reported(tmp_path):
    """The real records: an AMI and an EBS snapshot shared with another account (then unshared, which is no
    share), and an RDS snapshot shared for restore. The simulation's own account is the only one its trail
    delivers for."""
    lake = Lake(tmp_path / "lake")
    pull_source(lake, config_from_flags("cloudtrail", path=str(SAMPLES)))
    policy = ('[[data_classes]]\nname = "simulation"\nhome = "US"\ntier = 2\nretention_days = 30\n'
              'resources = ["arn:aws:ec2:us-east-1::snapshot/*", "arn:aws:ec2:us-east-1::image/*", '
              '"arn:aws:rds:us-east-1:*:snapshot:exfiltration"]\n')
    run = run_checks(lake, LoadedConfig(config=parse_config(policy, tmp_path / "sovaudit.toml"),
                                        path=tmp_path / "sovaudit.toml"), check_ids=["EG-007"],
                     since="2023-07-10", until="2023-07-11")
    findings = {(f.resource, f.details["shared_with"]): f.evidence for f in run.results[0].findings}
    assert findings == {
        ("arn:aws:ec2:us-east-1::image/ami-0aa1d83d0b0985c86", "012345678901"): ["8fe3095f-909c-41f5-a769-00b9ec6e95df"],
        ("arn:aws:ec2:us-east-1::snapshot/snap-083d3b857c13988bc", "012345678912"):
            ["741616fd-4713-426d-8861-3ccae4ba994e"],
        ("arn:aws:rds:us-east-1:123837392027:snapshot:exfiltration", "193672423079"):
            ["2d19ab1e-82e9-4302-ad10-a405b50c8d49"],
    }


def test_azure_cross_region_restore_on_a_vault_of_classed_items_abroad(planted_scenario):
    """The scenario's US export account is backed up in an East US vault with cross-region restore turned on
    (its pair is West US); its twin, the loyalty account's North Europe vault (pair West Europe), stays quiet."""
    from sovaudit.checks.session import open_session
    from sovaudit.config import load_config
    from sovaudit.demo.scenario_azure import BACKUP_VAULT_NEU, BACKUP_VAULT_US

    _, lake, config = planted_scenario
    [result] = run_checks(lake, load_config(config), check_ids=["EG-005"]).results
    azure = [f for f in result.findings if f.resource.startswith("/subscriptions/")]
    assert [(f.resource, f.region, f.region_jurisdiction, f.counterpart_jurisdiction) for f in azure] == [
        (BACKUP_VAULT_US.lower(), "eastus", "US", "US")]
    assert azure[0].reason == ("cross-region restore turned on for Recovery Services vault acme-export-bv-us (class "
                               "customer-pii, home EU, protecting acmeloyaltyexportus): its backups can be restored "
                               "in its paired region westus (US)")
    # The vault's later write without a request body (a tag change, as the log shows it) is not judged.
    assert azure[0].evidence == ["planted-EG-005-az01", "planted-EG-005-az02"]
    # The twin is seen and classed (through the loyalty account its vault protects), and stays inside the EU.
    con, _, _ = open_session(lake, load_config(config).config, discover())
    try:
        rows = con.sql("SELECT vault, class_name, dest_region, dest_jurisdiction FROM checks.azure_backup_restores "
                       "ORDER BY vault").fetchall()
    finally:
        con.close()
    assert rows == [(BACKUP_VAULT_NEU.lower(), "customer-pii", "westeurope", "EU"),
                    (BACKUP_VAULT_US.lower(), "customer-pii", "westus", "US")]


def test_azure_cross_region_restore_is_quiet_when_the_vault_holds_no_classed_items(planted_scenario):

    _, lake, config = planted_scenario
    text = Path(config).read_text()
    quiet = text.replace('"/subscriptions/', '"/nothing/')  # no Azure resource classed: no vault holds classed items
    assert quiet != text
    run = run_checks(lake, LoadedConfig(config=parse_config(quiet), path=Path(config)), check_ids=["EG-005"])
    assert run.results[0].findings and not any(f.resource.startswith("/subscriptions/")
                                               for f in run.results[0].findings)
