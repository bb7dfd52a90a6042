"""A deterministic scenario: Acme Retail, with EU and US operations on AWS and a loyalty programme on Azure.

Sixty days of traffic (a 30-day baseline, then the 30-day window a default `sovaudit check` looks at):
- the loyalty programme (customer PII, tier 1, home EU) in eu-west-1, with a replica in eu-central-1 and an
  allowed transfer to a UK support centre (eu-west-2); its database credentials in Secrets Manager in eu-west-1,
  read every morning, with a replica in us-east-1;
- nightly backups (home EU, 35-day retention) in eu-west-1;
- purchase orders (home US, seven-year retention) in us-east-1, with a disaster-recovery copy in the US;
- on Azure (sovaudit.demo.scenario_azure): loyalty data in a storage account in North Europe, its key in a
  Key Vault in West Europe, an EU replica and the same UK support reads;
- on Kafka (sovaudit.demo.scenario_kafka): loyalty transactions on a topic of an EU cluster, and a US cluster
  that receives MirrorMaker 2 copies of EU topics.

`planted=True` adds one violation for every built-in check, each with stable event ids of the form
`planted-<check>-<n>` (Azure: `planted-<check>-az<n>` for activity-log records, the record's sha256 uid for
resource logs, which carry no id; Kafka: `planted-<check>-k<n>` for audit events, the lake's ids for
inventory and lineage rows); `Scenario.expected` says which planted ids each check must cite. Without
it the traffic is clean: every check must stay silent on it, including the allowed UK transfer.
"""

import gzip
import json
import random
import uuid
import zlib
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sovaudit.demo import scenario_azure, scenario_kafka
from sovaudit.demo.scenario_azure import PII_KEYS, PII_RESOURCES, AzureRecord
from sovaudit.demo.scenario_kafka import PII_TOPICS, KafkaHalf

# Where the Azure half's resource groups run: the `locations` of the Azure source that pulls it.
AZURE_LOCATIONS = scenario_azure.LOCATIONS
AZURE_SUBSCRIPTION = scenario_azure.SUBSCRIPTION
# The organisation's service control policy that keeps the EU workloads' OU in the EU (the EU account is the
# organisation's management account; Organizations logs in us-east-1).
EU_OU, EU_SCP = "ou-a1b2-euwrkld1", "p-eu0nly5cp1"

START = datetime(2026, 8, 3, tzinfo=UTC)
DAYS = 60
EU_ACCOUNT, US_ACCOUNT, FOREIGN_ACCOUNT = "111122223333", "444455556666", "999988887777"
LOYALTY_KEY = f"arn:aws:kms:eu-west-1:{EU_ACCOUNT}:key/mrk-1a2b3c4d5e6f47a8b9c0d1e2f3a4b5c6"
LOYALTY_KEY_REPLICA = f"arn:aws:kms:us-east-1:{EU_ACCOUNT}:key/mrk-1a2b3c4d5e6f47a8b9c0d1e2f3a4b5c6"
BACKUP_KEY = f"arn:aws:kms:eu-west-1:{EU_ACCOUNT}:key/0b1c2d3e-4f50-4617-8293-a4b5c6d7e8f9"
PO_KEY = f"arn:aws:kms:us-east-1:{US_ACCOUNT}:key/7e6d5c4b-3a29-4817-8e6f-5d4c3b2a1908"
US_TRAIL = f"arn:aws:cloudtrail:us-east-1:{US_ACCOUNT}:trail/acme-us-trail"
EU_SECURITY_TRAIL = f"arn:aws:cloudtrail:eu-west-1:{EU_ACCOUNT}:trail/acme-eu-security-trail"
# The loyalty database's credentials, in Secrets Manager in eu-west-1, with a replica in us-east-1 for disaster
# recovery. A secret's ARN ends in -xxxxxx, six random characters: a name alone gives the ARN without them.
LOYALTY_SECRET = "acme-loyalty-db-credentials"
LOYALTY_SECRET_REPLICA = f"arn:aws:secretsmanager:us-east-1:{EU_ACCOUNT}:secret:{LOYALTY_SECRET}-Qx7pZ2"
# AWS Backup: the nightly vault in eu-west-1, its disaster-recovery copy in eu-central-1 (EU) and a US vault.
BACKUP_VAULT = "acme-backups-vault"
BACKUP_VAULT_EU_DR = f"arn:aws:backup:eu-central-1:{EU_ACCOUNT}:backup-vault:acme-backups-dr-eu"
BACKUP_VAULT_US = f"arn:aws:backup:us-east-1:{EU_ACCOUNT}:backup-vault:acme-dr-us"
# The order database volume's nightly EBS snapshot in eu-west-1.
ORDERS_SNAPSHOT = "snap-0a1b2c3d4e5f60718"
OFFICE_IPS = {"DE": "217.0.0.41", "FR": "90.0.0.17", "IE": "87.32.0.9", "GB": "81.2.69.142", "US": "12.0.0.77"}
ATTACKER_IPS = {"CN": "1.0.1.1", "RU": "95.108.128.1"}
# An EC2 instance's public address in eu-west-1 (34.240.0.0/13 is EC2 eu-west-1 in AWS's ip-ranges.json).
EC2_EU_IP = "34.240.18.201"

_AZURE_PII_RESOURCES = (",\n" + " " * 13).join(f'"{p}"' for p in PII_RESOURCES)

POLICY = f"""\
# Policy of the Acme Retail demo (sovaudit.demo.scenario). Everything here is fictional.
[organisation]
controller = "Acme Retail B.V."
address = "Keizersgracht 1, 1015 CJ Amsterdam, the Netherlands"
dpo = "Dr. Ada Jansen, dpo@acme-retail.example"
contact = "privacy@acme-retail.example"
# Audit evidence must be shown for a year: an audit log kept for less loses it (IN-006).
evidence_period_days = 365

[resource_regions]
"arn:aws:s3:::acme-support-uk*" = "eu-west-2"

[[data_classes]]
name = "customer-pii"
home = "EU"
tier = 1
retention_days = 365
resources = ["arn:aws:s3:::acme-loyalty-*",
             # the loyalty secrets in Secrets Manager, in any region (a secret's ARN ends in -xxxxxx)
             "arn:aws:secretsmanager:*:{EU_ACCOUNT}:secret:acme-loyalty-*",
             # the loyalty tables in DynamoDB and the loyalty database's Aurora clusters, in any region
             "arn:aws:dynamodb:*:{EU_ACCOUNT}:table/acme-loyalty-*",
             "arn:aws:rds:*:{EU_ACCOUNT}:cluster:acme-loyalty-*",
             # Azure: the loyalty storage accounts (resource ids are lower case in the lake), and their blob
             # endpoints, which name the source of a copy
             {_AZURE_PII_RESOURCES}]
keys = ["{LOYALTY_KEY}", {", ".join(f'"{p}"' for p in PII_KEYS)}]
# Kafka topics of the class; MirrorMaker 2 copies (<alias>.eu.loyalty.…) are classed with them.
topics = [{", ".join(f'"{p}"' for p in PII_TOPICS)}]
allowed_transfers = [{{ to = "UK", safeguard = "UK adequacy decision (Commission Implementing Decision 2021/1772, renewed 2025)" }}]

[[data_classes]]
name = "backups"
home = "EU"
tier = 2
retention_days = 35
resources = ["arn:aws:s3:::acme-backups-eu*",
             # the AWS Backup vaults in the EU, every EBS snapshot in eu-west-1, the order database's snapshots
             "arn:aws:backup:eu-*:{EU_ACCOUNT}:backup-vault:acme-backups-*",
             "arn:aws:ec2:eu-west-1::snapshot/*",
             "arn:aws:rds:*:{EU_ACCOUNT}:snapshot:acme-orders-*"]
keys = ["{BACKUP_KEY}"]

[[data_classes]]
name = "purchase-orders"
home = "US"
tier = 2
retention_days = 2555
resources = ["arn:aws:s3:::acme-po-us*"]
keys = ["{PO_KEY}"]

# Where each account's data stores belong (XR-007): the EU account in two EU regions, the US account in the US,
# the Azure subscription in the EU.
[[accounts]]
id = "{EU_ACCOUNT}"
jurisdiction = "EU"
allowed_regions = ["eu-west-1", "eu-central-1"]

[[accounts]]
id = "{US_ACCOUNT}"
jurisdiction = "US"

[[accounts]]
id = "{AZURE_SUBSCRIPTION}"
jurisdiction = "EU"

[thresholds]
egress_bytes_per_actor_day = 1_000_000_000
anomaly_k = 3.0
baseline_days = 30
key_failure_burst = 10
kafka_denied_burst = 20

[[processing_activities]]
name = "Loyalty programme"
purpose = "Points, rewards and personalised offers for loyalty members"
data_subjects = ["loyalty members"]
data_categories = ["contact details", "purchase history", "loyalty balance"]
recipients = ["Acme Support Centre Ltd (UK)", "email delivery processor (EU)"]
data_classes = ["customer-pii"]
transfers = [{{ to = "UK", recipient = "Acme Support Centre Ltd", safeguard = "UK adequacy decision" }}]
retention = "12 months after the member's last activity"
security_measures = ["SSE-KMS with a customer-managed multi-region key", "Azure Key Vault customer-managed key",
                     "TLS 1.2+", "least-privilege IAM roles"]

[[processing_activities]]
name = "Backups"
purpose = "Nightly backups of the order and loyalty databases for disaster recovery"
data_subjects = ["customers", "loyalty members"]
data_categories = ["database snapshots"]
recipients = []
data_classes = ["backups"]
retention = "35 days"
security_measures = ["SSE-KMS", "S3 Object Lock (governance mode)", "lifecycle expiry at 30 days"]

[[processing_activities]]
name = "Purchase orders"
purpose = "Supplier purchase orders and invoices for the US business"
data_subjects = ["supplier contacts"]
data_categories = ["names", "business contact details", "invoices"]
recipients = ["external auditors (US)"]
data_classes = ["purchase-orders"]
retention = "7 years (tax law)"
security_measures = ["SSE-KMS", "MFA delete"]

# Accepted findings: shown in the report's own section with the justification, not counted towards --fail-on.
[[suppressions]]
check = "EG-003"
resource = "arn:aws:s3:::acme-backups-eu"
actor = "arn:aws:sts::{EU_ACCOUNT}:assumed-role/nightly-backup/*"
reason = "Quarterly full backup with a restore test (change CHG-2026-0912): the day's volume is expected"
approved_by = "Dr. Ada Jansen, DPO"
expires = 2027-09-30

# An expired acceptance matches nothing: the output lists it and the finding is FAIL again.
[[suppressions]]
check = "KU-002"
actor = "arn:aws:sts::{EU_ACCOUNT}:assumed-role/external-contractor"
reason = "Contractor onboarding for the loyalty data migration, until the end of September"
approved_by = "Dr. Ada Jansen, DPO"
expires = 2026-09-30
"""


@dataclass
class Scenario:
    events: list[dict[str, Any]]  # CloudTrail records
    expected: dict[str, set[str]] = field(default_factory=dict)
    window_start: datetime = START + timedelta(days=DAYS // 2)
    azure: list[AzureRecord] = field(default_factory=list)
    kafka: KafkaHalf = field(default_factory=KafkaHalf)

    def event_times(self) -> dict[str, datetime]:
        """Every event's uid (as the lake stores it) and time: CloudTrail, Azure and Kafka."""
        times = {e["eventID"]: datetime.fromisoformat(e["eventTime"].replace("Z", "+00:00")) for e in self.events}
        times.update({r.uid: r.time for r in self.azure})
        times.update(self.kafka.times)
        return times


def _role(account: str, name: str) -> dict[str, Any]:
    return {"type": "AssumedRole", "principalId": f"AROA{zlib.crc32(name.encode()):012d}:{name}",
            "arn": f"arn:aws:sts::{account}:assumed-role/{name}/{name}-session", "accountId": account,
            "accessKeyId": "ASIAEXAMPLEDEMO00001",
            "sessionContext": {"sessionIssuer": {"type": "Role", "arn": f"arn:aws:iam::{account}:role/{name}",
                                                 "accountId": account, "userName": name}}}


def _user(account: str, name: str) -> dict[str, Any]:
    return {"type": "IAMUser", "principalId": f"AIDA{zlib.crc32(name.encode()):012d}",
            "arn": f"arn:aws:iam::{account}:user/{name}", "accountId": account, "userName": name,
            "accessKeyId": "AKIAEXAMPLEDEMO00001"}


class _Builder:
    def __init__(self, seed: int):
        self.rng = random.Random(seed)
        self.events: list[dict[str, Any]] = []
        self.expected: dict[str, set[str]] = {}

    def _uid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def add(self, when: datetime, account: str, region: str, source: str, name: str, identity: dict[str, Any],
            ip: str, *, params: dict[str, Any] | None = None, resources: list[dict[str, Any]] | None = None,
            extra: dict[str, Any] | None = None, data: bool = False, error: str | None = None,
            response: dict[str, Any] | None = None, planted: str | None = None, also: tuple[str, ...] = ()) -> str:
        uid = f"planted-{planted}-{len(self.expected.get(planted, ())) + 1:02d}" if planted else self._uid()
        event = {
            "eventVersion": "1.09", "userIdentity": identity,
            "eventTime": when.strftime("%Y-%m-%dT%H:%M:%SZ"), "eventSource": source, "eventName": name,
            "awsRegion": region, "sourceIPAddress": ip,
            "userAgent": "aws-sdk-java/2.25.1 Linux/6.1 OpenJDK_64-Bit_Server_VM/17" if identity["type"] == "AssumedRole"
            else "aws-cli/2.15.30 Python/3.11.8 Linux/6.5",
            "requestParameters": params, "responseElements": response,
            "requestID": self._uid().replace("-", "")[:16].upper(), "eventID": uid,
            "readOnly": name.startswith(("Get", "List", "Describe", "Head", "Decrypt")),
            "eventType": "AwsApiCall", "managementEvent": not data, "recipientAccountId": account,
            "eventCategory": "Data" if data else "Management",
        }
        if extra:
            event["additionalEventData"] = extra
        if resources:
            event["resources"] = resources
        if error:
            event["errorCode"], event["errorMessage"] = error, "User is not authorized to perform this operation"
        self.events.append(event)
        for check in ((planted,) if planted else ()) + also:
            self.expected.setdefault(check, set()).add(uid)
        return uid

    # -- shapes of the calls the scenario makes ----------------------------------------------------

    def backup_plan(self, when, name, plan, vault, destination, identity, ip, *, planted=None):
        """A backup plan with one nightly rule that backs up into `vault` and copies each recovery point to
        the vault ARN `destination` (the call's account and region: eu-west-1 of the EU account)."""
        params = {"backupPlan": {"backupPlanName": plan, "rules": [{
            "ruleName": "nightly", "targetBackupVaultName": vault, "scheduleExpression": "cron(0 1 ? * * *)",
            "startWindowMinutes": 60, "lifecycle": {"deleteAfterDays": 35},
            "copyActions": [{"destinationBackupVaultArn": destination, "lifecycle": {"deleteAfterDays": 35}}]}]}}
        if name == "UpdateBackupPlan":
            params["backupPlanId"] = "8f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0"
        return self.add(when, EU_ACCOUNT, "eu-west-1", "backup.amazonaws.com", name, identity, ip, params=params,
                        response={"backupPlanId": "8f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0", "versionId": "NjQ3ZjE"},
                        planted=planted)

    def backup_copy_job(self, when, vault, destination, identity, ip, *, planted=None):
        point = f"arn:aws:backup:eu-west-1:{EU_ACCOUNT}:recovery-point:{self._uid().upper()}"
        params = {"recoveryPointArn": point, "sourceBackupVaultName": vault, "destinationBackupVaultArn": destination,
                  "iamRoleArn": f"arn:aws:iam::{EU_ACCOUNT}:role/service-role/AWSBackupDefaultServiceRole"}
        return self.add(when, EU_ACCOUNT, "eu-west-1", "backup.amazonaws.com", "StartCopyJob", identity, ip,
                        params=params, response={"copyJobId": self._uid().upper()}, planted=planted)

    def ec2_copy(self, when, region, name, source_region, source_id, new_id, identity, ip, *, planted=None,
                 also=()):
        """CopySnapshot or CopyImage, logged in the destination region as EC2 logs it."""
        source = "sourceSnapshotId" if name == "CopySnapshot" else "sourceImageId"
        new = "snapshotId" if name == "CopySnapshot" else "imageId"
        return self.add(when, EU_ACCOUNT, region, "ec2.amazonaws.com", name, identity, ip,
                        params={"sourceRegion": source_region, source: source_id, "description": "nightly copy"},
                        response={"requestId": self._uid(), new: new_id}, planted=planted, also=also)

    def rds_copy(self, when, region, source_arn, target, identity, ip, *, planted=None, also=()):
        params = {"sourceDBSnapshotIdentifier": source_arn, "targetDBSnapshotIdentifier": target,
                  "sourceRegion": source_arn.split(":")[3], "copyTags": True}
        arn = f"arn:aws:rds:{region}:{EU_ACCOUNT}:snapshot:{target}"
        return self.add(when, EU_ACCOUNT, region, "rds.amazonaws.com", "CopyDBSnapshot", identity, ip, params=params,
                        response={"dBSnapshotIdentifier": target, "dBSnapshotArn": arn, "status": "pending"},
                        planted=planted, also=also)

    def snapshot_share(self, when, snapshot, grantee, identity, ip, *, planted=None):
        """ModifySnapshotAttribute as the Stratus Red Team simulation in fixtures/aws/cloudtrail logs it."""
        params = {"snapshotId": snapshot, "createVolumePermission": {"add": {"items": [
            {"group": "all"} if grantee == "all" else {"userId": grantee}]}},
                  "attributeType": "CREATE_VOLUME_PERMISSION"}
        return self.add(when, EU_ACCOUNT, "eu-west-1", "ec2.amazonaws.com", "ModifySnapshotAttribute", identity, ip,
                        params=params, response={"requestId": self._uid(), "_return": True}, planted=planted)

    def db_snapshot_share(self, when, snapshot, grantee, identity, ip, *, planted=None):
        """ModifyDBSnapshotAttribute as the Stratus Red Team simulation logs it."""
        params = {"dBSnapshotIdentifier": snapshot, "attributeName": "restore", "valuesToAdd": [grantee]}
        return self.add(when, EU_ACCOUNT, "eu-west-1", "rds.amazonaws.com", "ModifyDBSnapshotAttribute", identity,
                        ip, params=params, response={"dBSnapshotIdentifier": snapshot, "dBSnapshotAttributes": [
                            {"attributeName": "restore", "attributeValues": [grantee]}]}, planted=planted)

    def s3(self, when, account, region, name, bucket, key, identity, ip, *, nbytes=None, planted=None, also=(),
           copy_source=None):
        params = {"bucketName": bucket, "Host": f"{bucket}.s3.{region}.amazonaws.com", "key": key}
        if copy_source:
            params["x-amz-copy-source"] = copy_source
        extra = {"SignatureVersion": "SigV4", "CipherSuite": "TLS_AES_128_GCM_SHA256",
                 "bytesTransferredIn": 0 if name.startswith("Get") else (nbytes or 0),
                 "bytesTransferredOut": nbytes if name.startswith("Get") else 0, "x-amz-id-2": "demo"}
        resources = [{"type": "AWS::S3::Object", "ARN": f"arn:aws:s3:::{bucket}/{key}"},
                     {"accountId": account, "type": "AWS::S3::Bucket", "ARN": f"arn:aws:s3:::{bucket}"}]
        return self.add(when, account, region, "s3.amazonaws.com", name, identity, ip, params=params,
                        resources=resources, extra=extra, data=True, planted=planted, also=also)

    def kms(self, when, account, region, name, key, identity, ip, *, error=None, planted=None, also=(), params=None):
        resources = [{"accountId": account, "type": "AWS::KMS::Key", "ARN": key}]
        return self.add(when, account, region, "kms.amazonaws.com", name, identity, ip,
                        params=params or {"encryptionAlgorithm": "SYMMETRIC_DEFAULT"}, resources=resources,
                        error=error, planted=planted, also=also)


def build(planted: bool = True, seed: int = 20261127) -> Scenario:
    b = _Builder(seed)
    rng = b.rng
    loyalty_app = _role(EU_ACCOUNT, "loyalty-api")
    backup_job = _role(EU_ACCOUNT, "nightly-backup")
    po_app = _role(US_ACCOUNT, "po-service")
    dr_job = _role(US_ACCOUNT, "dr-verify")
    analyst = _user(EU_ACCOUNT, "marie.dupont")
    support = _user(EU_ACCOUNT, "uk-support-agent")
    platform = _user(EU_ACCOUNT, "platform-admin")
    vpc_ip_eu, vpc_ip_us = "10.20.4.17", "10.40.8.23"
    segment_builder = _role(EU_ACCOUNT, "segment-builder")
    backups_written: list[tuple[datetime, str]] = []

    for day in range(DAYS):
        midnight = START + timedelta(days=day)
        for hour in range(24):
            at = midnight + timedelta(hours=hour)
            # The loyalty API works every hour, so a silent hour in eu-west-1 means missing logs.
            for _ in range(2 + rng.randrange(2)):
                when = at + timedelta(seconds=rng.randrange(3600))
                member = f"members/{rng.randrange(50_000):05d}.json"
                b.s3(when, EU_ACCOUNT, "eu-west-1", "GetObject", "acme-loyalty-eu", member, loyalty_app, vpc_ip_eu,
                     nbytes=2_000 + rng.randrange(6_000))
                b.kms(when + timedelta(milliseconds=40), EU_ACCOUNT, "eu-west-1", "Decrypt", LOYALTY_KEY, loyalty_app,
                      vpc_ip_eu)
            if hour % 3 == 0:
                member = f"members/{rng.randrange(50_000):05d}.json"
                b.s3(at + timedelta(minutes=7), EU_ACCOUNT, "eu-west-1", "PutObject", "acme-loyalty-eu", member,
                     loyalty_app, vpc_ip_eu, nbytes=4_000)
                b.kms(at + timedelta(minutes=7, milliseconds=30), EU_ACCOUNT, "eu-west-1", "GenerateDataKey",
                      LOYALTY_KEY, loyalty_app, vpc_ip_eu)
            # US purchase orders, every hour in us-east-1.
            for _ in range(1 + rng.randrange(2)):
                when = at + timedelta(seconds=rng.randrange(3600))
                b.s3(when, US_ACCOUNT, "us-east-1", "GetObject", "acme-po-us", f"po/{rng.randrange(9000):04d}.pdf",
                     po_app, OFFICE_IPS["US"], nbytes=800_000_000 + rng.randrange(50_000_000))
                b.kms(when + timedelta(milliseconds=35), US_ACCOUNT, "us-east-1", "Decrypt", PO_KEY, po_app, vpc_ip_us)
        # Nightly backup: written at 01:00, its key used; the backup of 30 days ago is still read by restores tests.
        at = midnight + timedelta(hours=1, minutes=rng.randrange(20))
        key = f"db/{midnight:%Y-%m-%d}.dump"
        b.s3(at, EU_ACCOUNT, "eu-west-1", "PutObject", "acme-backups-eu", key, backup_job, vpc_ip_eu, nbytes=40_000_000)
        for n in range(20 + rng.randrange(3)):
            b.kms(at + timedelta(seconds=n), EU_ACCOUNT, "eu-west-1", "GenerateDataKey", BACKUP_KEY, backup_job,
                  vpc_ip_eu)
        backups_written.append((at, key))
        if day >= 7:
            restore_at, restore_key = backups_written[day - 7]
            b.s3(midnight + timedelta(hours=4), EU_ACCOUNT, "eu-west-1", "GetObject", "acme-backups-eu", restore_key,
                 backup_job, vpc_ip_eu, nbytes=40_000_000 + rng.randrange(4_000_000))
        # Daily: the segment builder, an EC2 instance in eu-west-1, reads through its public address (AWS
        # registers it to the US; AWS's published ranges place it in eu-west-1, so it is no transfer).
        b.s3(midnight + timedelta(hours=6, minutes=day % 30), EU_ACCOUNT, "eu-west-1", "GetObject",
             "acme-loyalty-eu", "segments/daily.parquet", segment_builder, EC2_EU_IP, nbytes=9_000_000)
        # Daily: replication to the EU replica, analyst reads from the office, UK support (allowed transfer).
        b.s3(midnight + timedelta(hours=2), EU_ACCOUNT, "eu-central-1", "GetObject", "acme-loyalty-replica-eu",
             "members/00001.json", loyalty_app, vpc_ip_eu, nbytes=3_000)
        b.s3(midnight + timedelta(hours=9, minutes=rng.randrange(60)), EU_ACCOUNT, "eu-west-1", "GetObject",
             "acme-loyalty-eu", "reports/daily.csv", analyst, OFFICE_IPS[rng.choice(["DE", "FR", "IE"])],
             nbytes=5_000_000)
        uk = midnight + timedelta(hours=10, minutes=rng.randrange(60))
        b.s3(uk, EU_ACCOUNT, "eu-west-1", "GetObject", "acme-loyalty-eu", "members/00042.json", support,
             OFFICE_IPS["GB"], nbytes=6_000)
        b.s3(uk + timedelta(seconds=5), EU_ACCOUNT, "eu-west-2", "CopyObject", "acme-support-uk",
             f"tickets/{day:03d}.json", support, OFFICE_IPS["GB"], copy_source="acme-loyalty-eu/members/00042.json")
        # Disaster recovery in the US: copy within the US, verified from the DR bucket.
        b.s3(midnight + timedelta(hours=3), US_ACCOUNT, "us-east-1", "CopyObject", "acme-dr-us",
             f"po/{day:04d}.pdf", dr_job, vpc_ip_us, copy_source=f"acme-po-us/po/{day:04d}.pdf")
        b.s3(midnight + timedelta(hours=3, minutes=5), US_ACCOUNT, "us-east-1", "HeadObject", "acme-dr-us",
             f"po/{day:04d}.pdf", dr_job, vpc_ip_us)

    window = START + timedelta(days=DAYS // 2)
    # Configuration changes that keep to the policy: replication inside the EU, a 30-day backup lifecycle.
    b.add(window + timedelta(days=2, hours=11), EU_ACCOUNT, "eu-west-1", "s3.amazonaws.com", "PutBucketReplication",
          platform, OFFICE_IPS["DE"], params={"bucketName": "acme-loyalty-eu", "ReplicationConfiguration": {
              "Role": f"arn:aws:iam::{EU_ACCOUNT}:role/replication", "Rule": {
                  "ID": "eu-replica", "Status": "Enabled",
                  "Destination": {"Bucket": "arn:aws:s3:::acme-loyalty-replica-eu"}}}})
    b.add(window + timedelta(days=3, hours=11), EU_ACCOUNT, "eu-west-1", "s3.amazonaws.com",
          "PutBucketLifecycleConfiguration", platform, OFFICE_IPS["DE"], params={
              "bucketName": "acme-backups-eu", "LifecycleConfiguration": {"Rule": [
                  {"ID": "expire", "Status": "Enabled", "Filter": {"Prefix": "db/"}, "Expiration": {"Days": 30}}]}})
    b.add(window + timedelta(days=4, hours=14), EU_ACCOUNT, "eu-west-1", "cloudtrail.amazonaws.com",
          "PutEventSelectors", platform, OFFICE_IPS["DE"], params={
              "trailName": "acme-org-trail", "eventSelectors": [{
                  "readWriteType": "All", "includeManagementEvents": True,
                  "dataResources": [{"type": "AWS::S3::Object", "values": ["arn:aws:s3:::acme-loyalty-eu/"]}]}]})
    # The US account's trail gets the common management-events-only selector, and the EU security trail the
    # advanced selector for all management events: both record everything they should (IN-002 stays quiet).
    it_ops = _user(US_ACCOUNT, "it-ops")
    b.add(window + timedelta(days=1, hours=15), US_ACCOUNT, "us-east-1", "cloudtrail.amazonaws.com",
          "PutEventSelectors", it_ops, OFFICE_IPS["US"], params={
              "trailName": US_TRAIL, "eventSelectors": [{
                  "readWriteType": "All", "includeManagementEvents": True, "dataResources": [],
                  "excludeManagementEventSources": []}]})
    b.add(window + timedelta(days=2, hours=16), EU_ACCOUNT, "eu-west-1", "cloudtrail.amazonaws.com",
          "PutEventSelectors", platform, OFFICE_IPS["DE"], params={
              "trailName": EU_SECURITY_TRAIL, "advancedEventSelectors": [{
                  "name": "Management events selector",
                  "fieldSelectors": [{"field": "eventCategory", "equals": ["Management"]}]}]})
    # Every morning the loyalty API reads its database credentials from Secrets Manager, in eu-west-1, by name.
    # (Added after the traffic above, so that its random draws stay as they were.)
    for day in range(DAYS):
        b.add(START + timedelta(days=day, hours=6, minutes=15), EU_ACCOUNT, "eu-west-1",
              "secretsmanager.amazonaws.com", "GetSecretValue", loyalty_app, vpc_ip_eu,
              params={"secretId": LOYALTY_SECRET, "versionStage": "AWSCURRENT"})
    # Backups and snapshots that stay in the EU: a backup plan and a copy job to the vault in eu-central-1, the
    # order database's volume snapshot and DB snapshot copied there, and a snapshot shared with the US account,
    # which is the organisation's own.
    b.backup_plan(window + timedelta(days=1, hours=10), "CreateBackupPlan", "acme-nightly-eu", BACKUP_VAULT,
                  BACKUP_VAULT_EU_DR, platform, OFFICE_IPS["DE"])
    b.backup_copy_job(window + timedelta(days=3, hours=4), BACKUP_VAULT, BACKUP_VAULT_EU_DR, backup_job, vpc_ip_eu)
    b.ec2_copy(window + timedelta(days=4, hours=5), "eu-central-1", "CopySnapshot", "eu-west-1", ORDERS_SNAPSHOT,
               "snap-0c4d5e6f7a8b9c0d1", backup_job, vpc_ip_eu)
    b.rds_copy(window + timedelta(days=4, hours=6), "eu-central-1",
               f"arn:aws:rds:eu-west-1:{EU_ACCOUNT}:snapshot:acme-orders-2026-09-05", "acme-orders-2026-09-05-dr",
               backup_job, vpc_ip_eu)
    b.snapshot_share(window + timedelta(days=5, hours=11), ORDERS_SNAPSHOT, US_ACCOUNT, platform, OFFICE_IPS["DE"])
    _clean_stores(b, window, platform)
    if planted:
        _plant(b, window)
    b.events.sort(key=lambda e: (e["eventTime"], e["eventID"]))
    # The Azure half draws from its own generator, so the CloudTrail half is the same with or without it.
    azure = scenario_azure.build_azure(START, DAYS, window, planted, seed + 1, b.expected)
    kafka = scenario_kafka.build_kafka(START, DAYS, window, planted, seed + 2, LOYALTY_KEY, b.expected)
    return Scenario(b.events, b.expected, window, azure, kafka)


def _clean_stores(b: _Builder, window: datetime, platform: dict[str, Any]) -> None:
    """Databases, stores and guardrails that keep to the policy: the quiet twins of XR-006, XR-007 and IN-008.
    (Added after the traffic above, so that its random draws stay as they were.)"""
    at = lambda n, h=11: window + timedelta(days=n, hours=h)  # noqa: E731
    ip = OFFICE_IPS["DE"]
    # The loyalty members table gets a replica in eu-central-1, inside the EU.
    b.add(at(1), EU_ACCOUNT, "eu-west-1", "dynamodb.amazonaws.com", "UpdateTable", platform, ip, params={
        "tableName": "acme-loyalty-members", "replicaUpdates": [{"create": {"regionName": "eu-central-1"}}]})
    # The loyalty database becomes an Aurora global database with a secondary cluster in eu-central-1.
    b.add(at(1, 12), EU_ACCOUNT, "eu-west-1", "rds.amazonaws.com", "CreateGlobalCluster", platform, ip, params={
        "globalClusterIdentifier": "acme-loyalty-global",
        "sourceDBClusterIdentifier": f"arn:aws:rds:eu-west-1:{EU_ACCOUNT}:cluster:acme-loyalty-db"})
    b.add(at(1, 13), EU_ACCOUNT, "eu-central-1", "rds.amazonaws.com", "CreateDBCluster", platform, ip, params={
        "dBClusterIdentifier": "acme-loyalty-db-fra", "globalClusterIdentifier": "acme-loyalty-global",
        "engine": "aurora-postgresql"})
    # An archive bucket created in eu-west-1, one of the EU account's allowed regions.
    b.add(at(2, 9), EU_ACCOUNT, "eu-west-1", "s3.amazonaws.com", "CreateBucket", platform, ip, params={
        "bucketName": "acme-loyalty-archive-eu", "Host": "acme-loyalty-archive-eu.s3.eu-west-1.amazonaws.com",
        "CreateBucketConfiguration": {"LocationConstraint": "eu-west-1"}})
    # The SCP that denies regions outside the EU, created and attached to the EU workloads' OU; the
    # FullAWSAccess policy detached from it, which tightens.
    b.add(at(0, 10), EU_ACCOUNT, "us-east-1", "organizations.amazonaws.com", "CreateOrganizationalUnit", platform, ip,
          params={"name": "eu-workloads", "parentId": "r-a1b2"},
          response={"organizationalUnit": {"id": EU_OU, "name": "eu-workloads",
                                           "arn": f"arn:aws:organizations::{EU_ACCOUNT}:ou/o-acme0001/{EU_OU}"}})
    content = json.dumps({"Version": "2012-10-17", "Statement": [{
        "Sid": "DenyOutsideEU", "Effect": "Deny", "NotAction": ["iam:*", "organizations:*", "sts:*"],
        "Resource": "*", "Condition": {"StringNotEquals": {"aws:RequestedRegion": ["eu-west-1", "eu-central-1"]}}}]})
    b.add(at(0, 10) + timedelta(minutes=5), EU_ACCOUNT, "us-east-1", "organizations.amazonaws.com", "CreatePolicy",
          platform, ip, params={"name": "acme-deny-outside-eu", "type": "SERVICE_CONTROL_POLICY", "content": content,
                                "description": "Keep the EU workloads in the EU"},
          response={"policy": {"policySummary": {
              "id": EU_SCP, "type": "SERVICE_CONTROL_POLICY", "awsManaged": False, "name": "acme-deny-outside-eu",
              "arn": f"arn:aws:organizations::{EU_ACCOUNT}:policy/o-acme0001/service_control_policy/{EU_SCP}"},
              "content": content}})
    b.add(at(0, 10) + timedelta(minutes=6), EU_ACCOUNT, "us-east-1", "organizations.amazonaws.com", "AttachPolicy",
          platform, ip, params={"policyId": EU_SCP, "targetId": EU_OU})
    b.add(at(0, 10) + timedelta(minutes=7), EU_ACCOUNT, "us-east-1", "organizations.amazonaws.com", "DetachPolicy",
          platform, ip, params={"policyId": "p-FullAWSAccess", "targetId": EU_OU})


def _plant(b: _Builder, window: datetime) -> None:
    """One violation per check, inside the window, each with ids planted-<check>-<n>."""
    day = lambda n, h=12, m=0: window + timedelta(days=n, hours=h, minutes=m)  # noqa: E731
    intern = _user(EU_ACCOUNT, "summer-intern")
    contractor = _role(EU_ACCOUNT, "external-contractor")
    platform = _user(EU_ACCOUNT, "platform-admin")
    backup_job = _role(EU_ACCOUNT, "nightly-backup")
    eu_app, us_vpc = _role(EU_ACCOUNT, "loyalty-api"), "10.40.8.99"

    # XR-001: loyalty data in a bucket in us-east-1.
    b.s3(day(5), EU_ACCOUNT, "us-east-1", "PutObject", "acme-loyalty-analytics-us", "export/members.parquet",
         intern, OFFICE_IPS["DE"], nbytes=100_000, planted="XR-001")
    b.s3(day(5, 13), EU_ACCOUNT, "us-east-1", "GetObject", "acme-loyalty-analytics-us", "export/members.parquet",
         intern, OFFICE_IPS["DE"], nbytes=100_000, planted="XR-001")
    # XR-001: the loyalty database credentials read from their replica in us-east-1, named by ARN.
    b.add(day(5, 15), EU_ACCOUNT, "us-east-1", "secretsmanager.amazonaws.com", "GetSecretValue", eu_app, us_vpc,
          params={"secretId": LOYALTY_SECRET_REPLICA, "versionStage": "AWSCURRENT"}, planted="XR-001")
    # XR-002: a tier-1 object read from an address registered in China.
    b.s3(day(6, 3), EU_ACCOUNT, "eu-west-1", "GetObject", "acme-loyalty-eu", "members/31337.json", intern,
         ATTACKER_IPS["CN"], nbytes=7_000, planted="XR-002")
    # XR-003: replication of the loyalty bucket to the US DR bucket (its region is known from the lake).
    b.add(day(7, 15), EU_ACCOUNT, "eu-west-1", "s3.amazonaws.com", "PutBucketReplication", platform,
          OFFICE_IPS["DE"], params={"bucketName": "acme-loyalty-eu", "ReplicationConfiguration": {
              "Role": f"arn:aws:iam::{EU_ACCOUNT}:role/replication", "Rule": [{
                  "ID": "to-us", "Status": "Enabled", "Destination": {"Bucket": "arn:aws:s3:::acme-dr-us"}}]}},
          planted="XR-003")
    # EG-001: 1.5 GB of purchase orders (home US) downloaded from Germany in one day.
    for n in range(3):
        b.s3(day(8, 20, n), US_ACCOUNT, "us-east-1", "GetObject", "acme-po-us", f"po/{100 + n:04d}.pdf", intern,
             OFFICE_IPS["DE"], nbytes=500_000_000 + n, planted="EG-001")
    # EG-002 (and XR-001, since the copy lands in us-east-1): a loyalty object copied to the US DR bucket.
    b.s3(day(9, 16), EU_ACCOUNT, "us-east-1", "CopyObject", "acme-dr-us", "loyalty/members.json", intern,
         OFFICE_IPS["DE"], copy_source="acme-loyalty-eu/members/00007.json", planted="EG-002", also=("XR-001",))
    # EG-003: a day of bulk backup reads from the EU, 40 times the usual restore volume.
    for n in range(40):
        b.s3(day(10, 2, n), EU_ACCOUNT, "eu-west-1", "GetObject", "acme-backups-eu", "db/bulk.dump", backup_job,
             "10.20.4.17", nbytes=40_000_000, planted="EG-003")
    # KU-001: the loyalty key's multi-region replica used in us-east-1.
    for n in range(3):
        b.kms(day(11, 9, n), EU_ACCOUNT, "us-east-1", "Decrypt", LOYALTY_KEY_REPLICA, eu_app, us_vpc,
              planted="KU-001")
    # KU-002: a principal never seen on the loyalty key before.
    for n in range(2):
        b.kms(day(12, 10, n), EU_ACCOUNT, "eu-west-1", "Decrypt", LOYALTY_KEY, contractor, "10.20.4.50",
              planted="KU-002")
    # KU-003: backup key used ten times its usual daily volume by its usual principal.
    for n in range(250):
        b.kms(day(13, 2) + timedelta(seconds=n * 5), EU_ACCOUNT, "eu-west-1", "GenerateDataKey", BACKUP_KEY,
              backup_job, "10.20.4.17", planted="KU-003")
    # KU-004: the purchase-order key scheduled for deletion; the loyalty key granted to a foreign account.
    b.kms(day(14, 17), US_ACCOUNT, "us-east-1", "ScheduleKeyDeletion", PO_KEY, _user(US_ACCOUNT, "it-ops"),
          OFFICE_IPS["US"], params={"keyId": PO_KEY, "pendingWindowInDays": 7}, planted="KU-004")
    b.kms(day(14, 18), EU_ACCOUNT, "eu-west-1", "CreateGrant", LOYALTY_KEY, platform, OFFICE_IPS["DE"],
          params={"keyId": LOYALTY_KEY, "granteePrincipal": f"arn:aws:iam::{FOREIGN_ACCOUNT}:role/partner",
                  "operations": ["Decrypt"]}, planted="KU-004")
    # KU-005: a burst of denied decrypts within one hour from the intern.
    for n in range(12):
        b.kms(day(15, 21, n * 4), EU_ACCOUNT, "eu-west-1", "Decrypt", LOYALTY_KEY, intern, "10.20.4.66",
              error="AccessDenied", planted="KU-005")
    # RT-001: backups lifecycle set to 90 days, beyond the 35-day retention.
    b.add(day(16, 11), EU_ACCOUNT, "eu-west-1", "s3.amazonaws.com", "PutBucketLifecycleConfiguration", platform,
          OFFICE_IPS["DE"], params={"bucketName": "acme-backups-eu", "LifecycleConfiguration": {"Rule": [
              {"ID": "expire", "Status": "Enabled", "Filter": {"Prefix": "db/"}, "Expiration": {"Days": 90}}]}},
          planted="RT-001")
    # RT-002: a backup written in the first days of the baseline, read again in the window (past 35 days).
    b.s3(START + timedelta(days=1, hours=5), EU_ACCOUNT, "eu-west-1", "PutObject", "acme-backups-eu",
         "db/legacy-export.dump", backup_job, "10.20.4.17", nbytes=10_000_000, planted="RT-002")
    b.s3(day(17, 8), EU_ACCOUNT, "eu-west-1", "GetObject", "acme-backups-eu", "db/legacy-export.dump", intern,
         OFFICE_IPS["IE"], nbytes=10_000_000, planted="RT-002")
    # IN-001 and IN-002: the trail stopped, and its selectors stripped of data events.
    b.add(day(18, 23), EU_ACCOUNT, "eu-west-1", "cloudtrail.amazonaws.com", "StopLogging", intern,
          ATTACKER_IPS["RU"], params={"name": f"arn:aws:cloudtrail:eu-west-1:{EU_ACCOUNT}:trail/acme-org-trail"},
          planted="IN-001")
    b.add(day(18, 23, 2), EU_ACCOUNT, "eu-west-1", "cloudtrail.amazonaws.com", "PutEventSelectors", intern,
          ATTACKER_IPS["RU"], params={"trailName": "acme-org-trail", "eventSelectors": [{
              "readWriteType": "All", "includeManagementEvents": True, "dataResources": []}]}, planted="IN-002")
    # IN-002, against each trail's previous selectors: the US trail narrowed to read-only management events, the
    # EU security trail's advanced selector given readOnly = true, and the org trail's KMS events excluded,
    # which would blind the key-use checks.
    us_admin = _user(US_ACCOUNT, "it-ops")
    b.add(day(21, 15), US_ACCOUNT, "us-east-1", "cloudtrail.amazonaws.com", "PutEventSelectors", us_admin,
          OFFICE_IPS["US"], params={"trailName": US_TRAIL, "eventSelectors": [{
              "readWriteType": "ReadOnly", "includeManagementEvents": True, "dataResources": [],
              "excludeManagementEventSources": []}]}, planted="IN-002")
    b.add(day(22, 9), EU_ACCOUNT, "eu-west-1", "cloudtrail.amazonaws.com", "PutEventSelectors", contractor,
          "10.20.4.50", params={"trailName": EU_SECURITY_TRAIL, "advancedEventSelectors": [{
              "name": "Management events selector",
              "fieldSelectors": [{"field": "eventCategory", "equals": ["Management"]},
                                 {"field": "readOnly", "equals": ["true"]}]}]}, planted="IN-002")
    b.add(day(23, 2), EU_ACCOUNT, "eu-west-1", "cloudtrail.amazonaws.com", "PutEventSelectors", intern,
          ATTACKER_IPS["RU"], params={"trailName": "acme-org-trail", "eventSelectors": [{
              "readWriteType": "All", "includeManagementEvents": True, "dataResources": [],
              "excludeManagementEventSources": ["kms.amazonaws.com"]}]}, planted="IN-002")
    # EG-005: the nightly backup plan copies every recovery point of the EU vault to a vault in us-east-1, and a
    # one-off copy job sends one there too.
    b.backup_plan(day(19, 10), "UpdateBackupPlan", "acme-nightly-eu", BACKUP_VAULT, BACKUP_VAULT_US, platform,
                  OFFICE_IPS["DE"], planted="EG-005")
    b.backup_copy_job(day(19, 14), BACKUP_VAULT, BACKUP_VAULT_US, backup_job, "10.20.4.17", planted="EG-005")
    # EG-006 (and XR-001: the copy is served in us-east-1): the order database's snapshot copied to us-east-1.
    b.ec2_copy(day(24, 5), "us-east-1", "CopySnapshot", "eu-west-1", ORDERS_SNAPSHOT, "snap-0f9e8d7c6b5a49382",
               backup_job, us_vpc, planted="EG-006", also=("XR-001",))
    # EG-007: the snapshot shared with the partner's account, and a DB snapshot of the orders made public.
    b.snapshot_share(day(25, 16), ORDERS_SNAPSHOT, FOREIGN_ACCOUNT, intern, OFFICE_IPS["IE"], planted="EG-007")
    b.db_snapshot_share(day(25, 17), "acme-orders-2026-09-05", "all", intern, OFFICE_IPS["IE"], planted="EG-007")
    # IN-003: three silent hours in eu-west-1; planted events mark the last before and the first after.
    gap_start = day(20, 4)
    quiet_from = (gap_start - timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%SZ")
    quiet_to = (gap_start + timedelta(hours=3, minutes=5)).strftime("%Y-%m-%dT%H:%M:%SZ")
    b.events = [e for e in b.events if not (e["awsRegion"] == "eu-west-1" and e["recipientAccountId"] == EU_ACCOUNT
                                            and quiet_from <= e["eventTime"] < quiet_to)]
    b.s3(gap_start - timedelta(minutes=3), EU_ACCOUNT, "eu-west-1", "GetObject", "acme-loyalty-eu",
         "members/00100.json", eu_app, "10.20.4.17", nbytes=3_000, planted="IN-003")
    b.s3(gap_start + timedelta(hours=3, minutes=3), EU_ACCOUNT, "eu-west-1", "GetObject", "acme-loyalty-eu",
         "members/00101.json", eu_app, "10.20.4.17", nbytes=3_000, planted="IN-003")
    # IN-003: the US account's trail stops delivering three days before the end (a bucket policy that no longer
    # lets CloudTrail write): no US event after the planted last one, while the EU trail goes on.
    stop = day(27, 6)
    cut = (stop - timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%SZ")
    b.events = [e for e in b.events if not (e["recipientAccountId"] == US_ACCOUNT and e["eventTime"] >= cut)]
    b.s3(stop - timedelta(minutes=3), US_ACCOUNT, "us-east-1", "GetObject", "acme-po-us", "po/0042.pdf",
         _role(US_ACCOUNT, "po-service"), OFFICE_IPS["US"], nbytes=900_000, planted="IN-003")
    # XR-006: the loyalty members table given a replica in us-east-1, and a secondary cluster of the loyalty
    # database's global database created there (XR-007 too: the EU account may use only two EU regions).
    b.add(day(24, 10), EU_ACCOUNT, "eu-west-1", "dynamodb.amazonaws.com", "UpdateTable", contractor, "10.20.4.50",
          params={"tableName": "acme-loyalty-members",
                  "replicaUpdates": [{"create": {"regionName": "us-east-1"}}]}, planted="XR-006")
    b.add(day(24, 11), EU_ACCOUNT, "us-east-1", "rds.amazonaws.com", "CreateDBCluster", contractor, "10.20.4.50",
          params={"dBClusterIdentifier": "acme-loyalty-db-use1", "globalClusterIdentifier": "acme-loyalty-global",
                  "engine": "aurora-postgresql"}, planted="XR-006", also=("XR-007",))
    # IN-008: the SCP that keeps the EU workloads' OU in the EU detached from it.
    b.add(day(25, 22), EU_ACCOUNT, "us-east-1", "organizations.amazonaws.com", "DetachPolicy", intern,
          ATTACKER_IPS["RU"], params={"policyId": EU_SCP, "targetId": EU_OU}, planted="IN-008")
    # XR-007: a scratch bucket created in us-east-1 by the EU account (no LocationConstraint: the endpoint's region).
    b.add(day(26, 9), EU_ACCOUNT, "us-east-1", "s3.amazonaws.com", "CreateBucket", intern, OFFICE_IPS["DE"],
          params={"bucketName": "acme-scratch-use1", "Host": "acme-scratch-use1.s3.us-east-1.amazonaws.com"},
          planted="XR-007")


def write_cloudtrail(scenario: Scenario, directory: Path, days_per_file: int = 10) -> list[Path]:
    """Write the events in CloudTrail's delivery layout, AWSLogs/<account>/CloudTrail/<region>/YYYY/MM/DD/, as
    gzipped {"Records": [...]} files. A trail delivers every few minutes; here one file holds an account's
    region for `days_per_file` days, so that tests and the demo pull a few dozen files, not thousands."""
    groups: dict[tuple[str, str, int], list[dict[str, Any]]] = {}
    for event in scenario.events:
        period = (datetime.fromisoformat(event["eventTime"].replace("Z", "+00:00")) - START).days // days_per_file
        groups.setdefault((event["recipientAccountId"], event["awsRegion"], period), []).append(event)
    written = []
    for (account, region, _), records in sorted(groups.items()):
        first = records[0]["eventTime"]
        y, m, d = first[:10].split("-")
        folder = directory / "AWSLogs" / account / "CloudTrail" / region / y / m / d
        folder.mkdir(parents=True, exist_ok=True)
        stamp = first[:16].replace("-", "").replace(":", "")
        path = folder / f"{account}_CloudTrail_{region}_{stamp}Z_acme.json.gz"
        payload = json.dumps({"Records": records}, separators=(",", ":")).encode()
        path.write_bytes(gzip.compress(payload, compresslevel=6, mtime=0))
        written.append(path)
    return written


def write_azure(scenario: Scenario, directory: Path, gz: bool = False) -> list[Path]:
    """Write the Azure half as Azure Monitor exports (JSON lines under `<container>/resourceId=…/`); gz for
    the bundled demo, to keep the package small."""
    return scenario_azure.write_azure(scenario.azure, directory, START, gz=gz)


def write_kafka(scenario: Scenario, directory: Path, gz: bool = False) -> list[Path]:
    """Write the Kafka half: the EU cluster's audit events, both clusters' inventory snapshots, lineage headers."""
    return scenario_kafka.write_kafka(scenario.kafka, directory, START, gz=gz)


def write_policy(path: Path) -> Path:
    path.write_text(POLICY, encoding="utf-8")
    return path


if __name__ == "__main__":
    import sys

    target = Path(sys.argv[1] if len(sys.argv) > 1 else "sovaudit/demo/data")
    scenario = build(planted=True)
    paths = write_cloudtrail(scenario, target)
    azure_paths = write_azure(scenario, target / "azure", gz=True)
    kafka_paths = write_kafka(scenario, target / "kafka", gz=True)
    print(f"wrote {len(paths)} CloudTrail files under {target / 'AWSLogs'}, {len(azure_paths)} Azure files under "
          f"{target / 'azure'} and {len(kafka_paths)} Kafka files under {target / 'kafka'}")
