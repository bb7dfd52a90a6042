"""Deterministic synthetic CloudTrail logs for the ingest benchmark.

Files look like a trail's S3 delivery: gzip'd `{"Records":[...]}` objects, one account and one
region per file, records sorted by time within a file, named like
`<account>_CloudTrail_<region>_<YYYYMMDDTHHMMZ>_<suffix>.json.gz`. The mix follows what an
organization trail with S3 data events and SSE-KMS typically holds:

  ~42%  S3 data events (GetObject, PutObject, HeadObject, ListObjects, CopyObject, DeleteObject)
  ~30%  KMS Decrypt / GenerateDataKey / Encrypt, often invoked by s3.amazonaws.com
  ~28%  management events: STS AssumeRole, EC2 Describe*/RunInstances/security groups, IAM,
        ConsoleLogin, CloudWatch Logs, Lambda, CloudTrail, S3 GetBucketPolicy

with AssumedRole (with sessionContext, sometimes invokedBy), IAMUser and AWSService identities,
four regions, six accounts, a pool of a few thousand public IPv4 callers (Zipf-like popularity)
plus service callers such as "kms.amazonaws.com", and ~3% AccessDenied failures.

Records average ~1.46 KB of compact JSON (S3 data events ~1.67 KB, KMS ~1.17 KB, AssumeRole
~1.8 KB with its session token); 5,000 records make a ~7.3 MB file, ~1.4 MB gzip'd.

Every file is generated from its own seeded RNG, so the output is byte-identical for the same
(seed, events, record size) whatever the number of worker processes.

Two record sizes (`record_size`):

  standard  the records above, ~1.46 KB on average;
  small     ~1.04 KB on average: the same events (the same RNG stream, so the same eventIDs, times and
            callers), each with its optional bulk taken out after it is generated (`shrink`, no RNG):
            - no tlsDetails, and the user agent cut to its first product token ("[aws-cli/2.15.30]");
            - additionalEventData down to bytesTransferredIn/Out and SSEKMSKeyId;
            - responseElements: null on read-only calls (Describe*, Get*, List*, Head*), no `credentials` in
              AssumeRole's, only the version id (and delete marker) in S3 writes' (CopyObject's kept);
            - S3 events' resources without the AWS::S3::Object entries (the bucket stays; the key is in
              requestParameters); KMS requestParameters without encryptionAlgorithm and encryptionContext;
            - sessionContext without webIdFederationData and creationDate, its sessionIssuer down to its arn.
            The nested fields the field spec extracts by path (queries/normalize/cloudtrail.fields.toml:
            userIdentity.arn, requestParameters.bucketName, additionalEventData.bytesTransferredOut, …) keep
            their values; the whole-object columns and userAgent get shorter.

Use as a module (`generate(...)`) or run it: `python benchmarks/synthetic_cloudtrail.py OUT_DIR --events 100_000`.
"""

from __future__ import annotations

import argparse
import base64
import bisect
import ipaddress
import json
import os
import random
import shutil
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime, timedelta
from itertools import accumulate
from pathlib import Path
from urllib.parse import quote

try:
    import orjson

    def _dumps(obj: object) -> bytes:
        return orjson.dumps(obj)
except ImportError:  # pragma: no cover - orjson is a dev dependency of the benchmark only
    def _dumps(obj: object) -> bytes:
        return json.dumps(obj, separators=(",", ":")).encode()

try:
    from isal import igzip as _gzip

    _GZIP_LEVEL = 1  # isal levels are 0-3
except ImportError:  # pragma: no cover
    import gzip as _gzip

    _GZIP_LEVEL = 1

GENERATOR_VERSION = 3  # 3: the record_size profiles (standard records are byte-identical to version 2's)
RECORD_SIZES = ("standard", "small")
RECORDS_PER_FILE = 5_000
MARKER = "GENERATED.marker"  # not *.json: sovaudit would read it as a CloudTrail file

START = datetime(2025, 3, 1, tzinfo=UTC)
SPAN = timedelta(days=30)

ACCOUNTS = ["111122223333", "444455556666", "123456789012", "210987654321", "998877665544", "135792468013"]
REGIONS = ["eu-west-1", "eu-central-1", "us-east-1", "us-west-2"]
_REGION_CYCLE = ["eu-west-1", "eu-central-1", "us-east-1", "eu-west-1", "us-west-2", "eu-central-1",
                 "eu-west-1", "us-east-1", "eu-central-1", "eu-west-1"]
AZ_SUFFIX = "abc"

ROLES = ["OrgAdmin", "DataPipelineRole", "AppServerRole", "ReadOnlyAuditor", "lambda-etl-role",
         "AWSReservedSSO_AdministratorAccess_4f2a9c1e7b3d5a60", "AWSReservedSSO_DataScientist_9d8e7f6a5b4c3d2e",
         "eks-node-group-role", "backup-operator", "analytics-query-role"]
USERS = ["alice", "bob", "carol", "ci-deployer", "backup-svc", "terraform"]
SERVICES_INVOKING = ["s3.amazonaws.com", "lambda.amazonaws.com", "ec2.amazonaws.com", "glue.amazonaws.com",
                     "athena.amazonaws.com", "cloudformation.amazonaws.com"]

USER_AGENTS = [
    "[aws-sdk-java/2.25.16 Linux/5.10.213 OpenJDK_64-Bit_Server_VM/17.0.10+7-LTS Java/17.0.10]",
    "[Boto3/1.34.69 Python/3.11.8 Linux/5.15.0-1057-aws Botocore/1.34.69]",
    "[aws-cli/2.15.30 Python/3.11.8 Linux/6.5.0-1016-aws exe/x86_64.ubuntu.22]",
    "[aws-sdk-go-v2/1.26.0 os/linux lang/go#1.22.1 api/s3#1.51.4]",
    "[Terraform/1.7.5 terraform-provider-aws/5.42.0 aws-sdk-go-v2/1.25.3]",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/123.0.0.0 "
    "Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.3 "
    "Safari/605.1.15",
    "[S3Console/0.4]",
    "AWS Internal",
    "[aws-sdk-js/3.540.0 os/linux lang/js md/nodejs#20.11.1 api/s3#3.540.0]",
    "[Apache-HttpClient/4.5.14 (Java/17.0.10)]",
    "[Boto3/1.28.57 Python/3.9.18 Linux/4.14.336-257.562.amzn2.x86_64 exec-env/AWS_Lambda_python3.9]",
]
# First octets of allocated unicast space: mostly RIPE (Europe) and ARIN (incl. AWS ranges), some APNIC/LACNIC.
_FIRST_OCTETS = [3, 13, 18, 20, 23, 34, 35, 44, 52, 54, 62, 77, 78, 80, 81, 82, 83, 84, 85, 86, 87, 88, 89, 90,
                 91, 92, 93, 94, 95, 109, 141, 145, 176, 178, 185, 188, 193, 194, 195, 212, 213, 217, 1, 14, 27,
                 101, 110, 177, 179, 186, 200, 201]
IP_POOL_SIZE = 3_000
TLS = [
    ("TLSv1.3", "TLS_AES_128_GCM_SHA256"),
    ("TLSv1.3", "TLS_AES_256_GCM_SHA384"),
    ("TLSv1.2", "ECDHE-RSA-AES128-GCM-SHA256"),
]


# -- shared pools (the same in every worker: built from a fixed seed) ----------------------------

class Pools:
    def __init__(self, seed: int):
        rng = random.Random(f"sovaudit-bench-pools:{seed}")
        ips: list[str] = []
        seen: set[str] = set()
        while len(ips) < IP_POOL_SIZE:
            ip = f"{rng.choice(_FIRST_OCTETS)}.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"
            if ip not in seen and ipaddress.ip_address(ip).is_global:
                seen.add(ip)
                ips.append(ip)
        self.ips = ips
        # Zipf-like popularity: a few hundred addresses make most of the calls.
        self.ip_cum = list(accumulate(1.0 / (rank + 1) ** 0.9 for rank in range(len(ips))))
        self.ids = {}  # (account, name) -> stable IAM unique ids
        for account in ACCOUNTS:
            for name in ROLES + USERS:
                self.ids[account, name] = _upper_id(rng, 17)
        self.access_keys = {(a, u): "AKIA" + _upper_id(rng, 16) for a in ACCOUNTS for u in USERS}
        self.buckets = {}
        self.keys = {}
        for account in ACCOUNTS:
            for region in REGIONS:
                short = region.replace("-", "")
                self.buckets[account, region] = [
                    f"{kind}-{account[-4:]}-{short}" for kind in
                    ("customer-data", "analytics-lake", "app-assets", "backups", "logs-archive", "ml-models")
                ]
                self.keys[account, region] = [
                    f"arn:aws:kms:{region}:{account}:key/{_uuid(rng)}" for _ in range(4)
                ]
        self.prefixes = ["raw/2025/03/", "curated/customers/", "exports/daily/", "images/", "models/v3/",
                         "invoices/eu/", "tmp/spark/", "backups/postgres/"]
        self.amis = [f"ami-0{rng.getrandbits(64):016x}" for _ in range(6)]
        self.sgs = [f"sg-0{rng.getrandbits(64):016x}" for _ in range(20)]
        self.vpce = [f"vpce-0{rng.getrandbits(64):016x}" for _ in range(4)]

    def ip(self, rng: random.Random) -> str:
        return self.ips[bisect.bisect_left(self.ip_cum, rng.random() * self.ip_cum[-1])]


_POOLS: dict[int, Pools] = {}


def pools(seed: int) -> Pools:
    if seed not in _POOLS:
        _POOLS[seed] = Pools(seed)
    return _POOLS[seed]


def _upper_id(rng: random.Random, n: int) -> str:
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
    return "".join(alphabet[rng.getrandbits(5)] for _ in range(n))


def _uuid(rng: random.Random) -> str:
    h = f"{rng.getrandbits(128):032x}"
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{'89ab'[int(h[16], 16) & 3]}{h[17:20]}-{h[20:32]}"


def _iso(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


# -- one file ------------------------------------------------------------------------------------

class FileGen:
    def __init__(self, seed: int, index: int):
        self.p = pools(seed)
        self.rng = random.Random(f"sovaudit-bench:{seed}:{index}")
        # Like a trail's delivery: one account and one region per file. Regions are weighted 4:3:2:1 and
        # all four appear in any 10 consecutive files; every (account, region) pair in any 60.
        self.region = _REGION_CYCLE[index % 10]
        self.account = ACCOUNTS[(index + index // 10) % len(ACCOUNTS)]
        self.other_account = ACCOUNTS[(ACCOUNTS.index(self.account) + 1) % len(ACCOUNTS)]

    # identities --------------------------------------------------------------------------------

    def assumed_role(self, invoked_by: str | None = None, account: str | None = None) -> dict:
        rng = self.rng
        account = account or self.account
        role = rng.choice(ROLES)
        role_id = "AROA" + self.p.ids[account, role]
        session = rng.choice(["i-0" + f"{rng.getrandbits(64):016x}", str(rng.randrange(10**10)),
                              rng.choice(USERS), "GlueJob-" + _uuid(rng)[:8]])
        created = self.t - timedelta(seconds=rng.randrange(60, 3600 * 6))
        ident = {
            "type": "AssumedRole",
            "principalId": f"{role_id}:{session}",
            "arn": f"arn:aws:sts::{account}:assumed-role/{role}/{session}",
            "accountId": account,
            "accessKeyId": "ASIA" + _upper_id(rng, 16),
            "sessionContext": {
                "sessionIssuer": {"type": "Role", "principalId": role_id,
                                  "arn": f"arn:aws:iam::{account}:role/{role}", "accountId": account,
                                  "userName": role},
                "webIdFederationData": {},
                "attributes": {"creationDate": _iso(created),
                               "mfaAuthenticated": "true" if role.startswith("AWSReservedSSO") else "false"},
            },
        }
        if invoked_by:
            ident["invokedBy"] = invoked_by
        elif rng.random() < 0.15:
            ident["sessionContext"]["ec2RoleDelivery"] = "2.0"
        return ident

    def iam_user(self) -> dict:
        rng = self.rng
        user = rng.choice(USERS)
        ident = {
            "type": "IAMUser",
            "principalId": "AIDA" + self.p.ids[self.account, user],
            "arn": f"arn:aws:iam::{self.account}:user/{user}",
            "accountId": self.account,
            "accessKeyId": self.p.access_keys[self.account, user],
            "userName": user,
        }
        if rng.random() < 0.3:
            ident["accessKeyId"] = "ASIA" + _upper_id(rng, 16)
            ident["sessionContext"] = {"sessionIssuer": {}, "webIdFederationData": {},
                                       "attributes": {"creationDate": _iso(self.t - timedelta(minutes=rng.randrange(1, 600))),
                                                      "mfaAuthenticated": "true"}}
        return ident

    def human_or_app(self) -> tuple[dict, str, str]:
        """An identity, a source IP and a user agent for a direct API call."""
        rng = self.rng
        ident = self.assumed_role() if rng.random() < 0.45 else self.iam_user()
        return ident, self.p.ip(rng), rng.choice(USER_AGENTS)

    # common envelope -----------------------------------------------------------------------------

    def envelope(self, ident: dict, source: str, name: str, ip: str, ua: str, *, region: str | None = None,
                 category: str = "Management", read_only: bool | None = None, management: bool = True,
                 event_type: str = "AwsApiCall", host: str | None = None) -> dict:
        rng = self.rng
        rec = {
            "eventVersion": "1.09" if category == "Management" else "1.10",
            "userIdentity": ident,
            "eventTime": _iso(self.t),
            "eventSource": source,
            "eventName": name,
            "awsRegion": region or self.region,
            "sourceIPAddress": ip,
            "userAgent": ua,
        }
        # The remaining keys are filled in order by the caller, then `finish`.
        rec["_read_only"] = read_only
        rec["_management"] = management
        rec["_event_type"] = event_type
        rec["_category"] = category
        if host is None:
            svc = source.split(".")[0]
            host = f"{svc}.{region or self.region}.amazonaws.com" if svc != "iam" else "iam.amazonaws.com"
        rec["_host"] = host if not ip.endswith("amazonaws.com") else None
        rec["_rng_tls"] = rng.randrange(len(TLS))
        return rec

    def finish(self, rec: dict, request_params: dict | None, response: dict | None, *,
               additional: dict | None = None, resources: list | None = None, request_id: str | None = None,
               shared: bool = False, vpce: str | None = None) -> dict:
        rng = self.rng
        if rng.random() < 0.03 and rec["eventSource"] != "signin.amazonaws.com":
            rec["errorCode"] = "AccessDenied"
            arn = rec["userIdentity"].get("arn", rec["userIdentity"].get("invokedBy", "service"))
            rec["errorMessage"] = (f"User: {arn} is not authorized to perform: "
                                   f"{rec['eventSource'].split('.')[0]}:{rec['eventName']} because no identity-based "
                                   "policy allows the action")
            response = None
        rec["requestParameters"] = request_params
        rec["responseElements"] = response
        if additional is not None:
            rec["additionalEventData"] = additional
        rec["requestID"] = request_id or _uuid(rng)
        rec["eventID"] = _uuid(rng)
        if rec["_read_only"] is not None:
            rec["readOnly"] = rec["_read_only"]
        if resources is not None:
            rec["resources"] = resources
        rec["eventType"] = rec["_event_type"]
        rec["managementEvent"] = rec["_management"]
        rec["recipientAccountId"] = self.account
        if shared:
            rec["sharedEventID"] = _uuid(rng)
        if vpce:
            rec["vpcEndpointId"] = vpce
            rec["vpcEndpointAccountId"] = self.account
        rec["eventCategory"] = rec["_category"]
        host = rec["_host"]
        if host:
            version, suite = TLS[rec["_rng_tls"]]
            rec["tlsDetails"] = {"tlsVersion": version, "cipherSuite": suite, "clientProvidedHostHeader": host}
        if rec["userAgent"].startswith("Mozilla"):
            rec["sessionCredentialFromConsole"] = "true"
        for k in ("_read_only", "_management", "_event_type", "_category", "_host", "_rng_tls"):
            del rec[k]
        return rec

    # event kinds ---------------------------------------------------------------------------------

    def _s3_object(self) -> tuple[str, str]:
        rng = self.rng
        bucket = rng.choice(self.p.buckets[self.account, self.region])
        key = (rng.choice(self.p.prefixes) + f"part-{rng.randrange(10**7):07d}"
               + rng.choice([".parquet", ".json.gz", ".csv", ".jpg", ".pdf"]))
        return bucket, key

    def s3(self, name: str) -> dict:
        rng = self.rng
        bucket, key = self._s3_object()
        host = f"{bucket}.s3.{self.region}.amazonaws.com"
        r = rng.random()
        if r < 0.35 and name in ("PutObject", "GetObject", "HeadObject"):
            # Service deliveries and reads: CloudTrail/Config/ELB log delivery, S3 replication, inventory.
            svc = rng.choice(["cloudtrail.amazonaws.com", "config.amazonaws.com", "delivery.logs.amazonaws.com",
                              "s3.amazonaws.com", "elasticloadbalancing.amazonaws.com"])
            ident = {"type": "AWSService", "invokedBy": svc}
            ip = ua = svc
        elif r < 0.45:
            ident = self.assumed_role(invoked_by=rng.choice(["athena.amazonaws.com", "glue.amazonaws.com"]))
            ip, ua = ident["invokedBy"], ident["invokedBy"]
        else:
            ident, ip, ua = self.human_or_app()
        read_only = name in ("GetObject", "HeadObject", "ListObjects")
        rec = self.envelope(ident, "s3.amazonaws.com", name, ip, ua, category="Data", read_only=read_only,
                            management=False, host=host)
        params: dict = {"bucketName": bucket, "Host": host, "key": key}
        response = None
        bytes_in = bytes_out = 0
        resources = [{"type": "AWS::S3::Object", "ARN": f"arn:aws:s3:::{bucket}/{key}"},
                     {"accountId": self.account, "type": "AWS::S3::Bucket", "ARN": f"arn:aws:s3:::{bucket}"}]
        kms_key = rng.choice(self.p.keys[self.account, self.region])
        if name == "GetObject":
            bytes_out = int(rng.lognormvariate(11, 2.2))
            if rng.random() < 0.05:
                params["versionId"] = base64.b64encode(rng.randbytes(24)).decode().replace("+", ".").replace("/", "_")
        elif name == "HeadObject":
            pass
        elif name == "PutObject":
            bytes_in = int(rng.lognormvariate(11, 2.2))
            params["x-amz-server-side-encryption"] = "aws:kms"
            params["x-amz-server-side-encryption-aws-kms-key-id"] = kms_key
            if rng.random() < 0.5:
                params["Content-Type"] = rng.choice(["application/octet-stream", "application/json", "text/csv"])
            response = {"x-amz-server-side-encryption": "aws:kms",
                        "x-amz-server-side-encryption-aws-kms-key-id": kms_key,
                        "x-amz-version-id": base64.b64encode(rng.randbytes(24)).decode()}
        elif name == "DeleteObject":
            response = {"x-amz-version-id": base64.b64encode(rng.randbytes(24)).decode(),
                        "x-amz-delete-marker": "true"}
        elif name == "ListObjects":
            del params["key"]
            params.update({"list-type": "2", "prefix": rng.choice(self.p.prefixes), "delimiter": "/",
                           "encoding-type": "url"})
            resources = resources[1:]
            rec["eventName"] = "ListObjectsV2" if rng.random() < 0.5 else "ListObjects"
        elif name == "CopyObject":
            src_region = rng.choice(REGIONS)
            src_bucket = rng.choice(self.p.buckets[self.account, src_region])
            src_key = rng.choice(self.p.prefixes) + f"obj-{rng.randrange(10**6)}.parquet"
            params["x-amz-copy-source"] = quote(f"{src_bucket}/{src_key}", safe="/")
            response = {"CopyObjectResult": {"ETag": f"\"{rng.getrandbits(128):032x}\"",
                                             "LastModified": _iso(self.t)},
                        "x-amz-server-side-encryption": "aws:kms"}
            resources.insert(0, {"type": "AWS::S3::Object", "ARN": f"arn:aws:s3:::{src_bucket}/{src_key}"})
            resources.append({"accountId": self.account, "type": "AWS::S3::Bucket",
                              "ARN": f"arn:aws:s3:::{src_bucket}"})
        version, suite = TLS[rec["_rng_tls"]]
        additional = {
            "SignatureVersion": "SigV4",
            "CipherSuite": suite if version == "TLSv1.2" else "TLS_AES_128_GCM_SHA256",
            "bytesTransferredIn": bytes_in,
            "SSEApplied": "SSE_KMS",
            "AuthenticationMethod": "AuthHeader",
            "x-amz-id-2": base64.b64encode(rng.randbytes(57)).decode(),
            "bytesTransferredOut": bytes_out,
        }
        if ip.endswith("amazonaws.com"):
            rec["_host"] = None
        vpce = rng.choice(self.p.vpce) if rng.random() < 0.2 else None
        return self.finish(rec, params, response, additional=additional, resources=resources,
                           request_id=f"{rng.getrandbits(64):016X}", vpce=vpce)

    def kms(self, name: str) -> dict:
        rng = self.rng
        key = rng.choice(self.p.keys[self.account, self.region])
        bucket, obj = self._s3_object()
        r = rng.random()
        if r < 0.35:
            svc = "s3.amazonaws.com"
            ident = self.assumed_role(invoked_by=svc)
            ip = ua = svc
        elif r < 0.8:
            svc = rng.choice(["kms.amazonaws.com", "lambda.amazonaws.com", "ec2.amazonaws.com"])
            ident = {"type": "AWSService", "invokedBy": svc}
            ip = ua = svc
        else:
            ident, ip, ua = self.human_or_app()
        rec = self.envelope(ident, "kms.amazonaws.com", name, ip, ua, read_only=True)
        context = {"aws:s3:arn": f"arn:aws:s3:::{bucket}/{obj}"} if ip == "s3.amazonaws.com" else \
            {"aws:lambda:FunctionArn": f"arn:aws:lambda:{self.region}:{self.account}:function:etl-{rng.randrange(20)}"}
        if name == "Decrypt":
            params = {"encryptionContext": context, "encryptionAlgorithm": "SYMMETRIC_DEFAULT"}
            if rng.random() < 0.3:
                params["keyId"] = key
        elif name == "Encrypt":
            params = {"keyId": key, "encryptionContext": context, "encryptionAlgorithm": "SYMMETRIC_DEFAULT"}
        else:
            params = {"keyId": key, "encryptionContext": context, "keySpec": "AES_256"}
        additional = None
        if ident["type"] == "AWSService":
            params = None if name == "GenerateDataKey" and rng.random() < 0.2 else params
            rec["_management"] = True
        resources = [{"accountId": self.account, "type": "AWS::KMS::Key", "ARN": key}]
        return self.finish(rec, params, None, additional=additional, resources=resources)

    def assume_role(self) -> dict:
        rng = self.rng
        if rng.random() < 0.4:
            svc = rng.choice(SERVICES_INVOKING)
            ident = {"type": "AWSService", "invokedBy": svc}
            ip = ua = svc
        else:
            ident, ip, ua = self.human_or_app()
        role = rng.choice(ROLES)
        target_account = self.account if rng.random() < 0.8 else self.other_account
        role_arn = f"arn:aws:iam::{target_account}:role/{role}"
        session = f"{rng.choice(USERS)}-{rng.randrange(10**9)}"
        role_id = "AROA" + self.p.ids[target_account, role]
        rec = self.envelope(ident, "sts.amazonaws.com", "AssumeRole", ip, ua,
                            host=f"sts.{self.region}.amazonaws.com")
        params = {"roleArn": role_arn, "roleSessionName": session, "durationSeconds": rng.choice([900, 3600, 43200])}
        if rng.random() < 0.3:
            params["externalId"] = _uuid(rng)
        expiration = self.t + timedelta(seconds=params["durationSeconds"])
        response = {
            "credentials": {"accessKeyId": "ASIA" + _upper_id(rng, 16),
                            "sessionToken": base64.b64encode(rng.randbytes(300)).decode(),
                            "expiration": expiration.strftime("%b %-d, %Y, %-I:%M:%S %p")},
            "assumedRoleUser": {"assumedRoleId": f"{role_id}:{session}",
                                "arn": f"arn:aws:sts::{target_account}:assumed-role/{role}/{session}"},
        }
        resources = [{"accountId": target_account, "type": "AWS::IAM::Role", "ARN": role_arn}]
        return self.finish(rec, params, response, resources=resources, shared=target_account != self.account)

    def ec2(self) -> dict:
        rng = self.rng
        ident, ip, ua = self.human_or_app()
        r = rng.random()
        if r < 0.75:
            name = rng.choice(["DescribeInstances", "DescribeSecurityGroups", "DescribeVolumes",
                               "DescribeNetworkInterfaces", "DescribeSubnets"])
            rec = self.envelope(ident, "ec2.amazonaws.com", name, ip, ua, read_only=True)
            params = {"maxResults": 1000, "filterSet": {"items": [
                {"name": "tag:Environment", "valueSet": {"items": [{"value": rng.choice(["prod", "staging"])}]}},
                {"name": "instance-state-name", "valueSet": {"items": [{"value": "running"}]}}]}}
            if name == "DescribeInstances":
                params["instancesSet"] = {}
            return self.finish(rec, params, None)
        if r < 0.9:
            name = rng.choice(["AuthorizeSecurityGroupIngress", "RevokeSecurityGroupIngress"])
            rec = self.envelope(ident, "ec2.amazonaws.com", name, ip, ua, read_only=False)
            sg = rng.choice(self.p.sgs)
            port = rng.choice([22, 443, 5432, 6379, 8080])
            params = {"groupId": sg, "ipPermissions": {"items": [{
                "ipProtocol": "tcp", "fromPort": port, "toPort": port, "groups": {},
                "ipRanges": {"items": [{"cidrIp": f"{self.p.ip(rng)}/32", "description": "office"}]},
                "ipv6Ranges": {}, "prefixListIds": {}}]}}
            response = {"requestId": _uuid(rng), "_return": True, "securityGroupRuleSet": {"items": [{
                "groupOwnerId": self.account, "groupId": sg, "securityGroupRuleId": f"sgr-0{rng.getrandbits(64):016x}",
                "isEgress": False, "ipProtocol": "tcp", "fromPort": port, "toPort": port,
                "cidrIpv4": params["ipPermissions"]["items"][0]["ipRanges"]["items"][0]["cidrIp"]}]}}
            return self.finish(rec, params, response)
        rec = self.envelope(ident, "ec2.amazonaws.com", "RunInstances", ip, ua, read_only=False)
        instance = f"i-0{rng.getrandbits(64):016x}"
        az = self.region + rng.choice(AZ_SUFFIX)
        subnet = f"subnet-0{rng.getrandbits(64):016x}"
        params = {"instancesSet": {"items": [{"imageId": rng.choice(self.p.amis), "minCount": 1, "maxCount": 1}]},
                  "instanceType": rng.choice(["m7g.large", "c7i.xlarge", "t3.medium"]),
                  "blockDeviceMapping": {"items": [{"deviceName": "/dev/xvda", "ebs": {
                      "volumeSize": 100, "deleteOnTermination": True, "volumeType": "gp3", "encrypted": True,
                      "kmsKeyId": rng.choice(self.p.keys[self.account, self.region])}}]},
                  "monitoring": {"enabled": False}, "disableApiTermination": False,
                  "networkInterfaceSet": {"items": [{"deviceIndex": 0, "subnetId": subnet,
                                                     "groupSet": {"items": [{"groupId": rng.choice(self.p.sgs)}]}}]},
                  "iamInstanceProfile": {"arn": f"arn:aws:iam::{self.account}:instance-profile/AppServerRole"},
                  "metadataOptions": {"httpTokens": "required", "httpPutResponseHopLimit": 2}}
        response = {"requestId": _uuid(rng), "reservationId": f"r-0{rng.getrandbits(64):016x}",
                    "ownerId": self.account, "groupSet": {}, "instancesSet": {"items": [{
                        "instanceId": instance, "imageId": params["instancesSet"]["items"][0]["imageId"],
                        "currentInstanceBootMode": "uefi",
                        "instanceState": {"code": 0, "name": "pending"},
                        "privateDnsName": f"ip-10-{rng.randrange(256)}-{rng.randrange(256)}-{rng.randrange(256)}."
                                          f"{self.region}.compute.internal",
                        "amiLaunchIndex": 0, "productCodes": {}, "instanceType": params["instanceType"],
                        "launchTime": int(self.t.timestamp() * 1000), "placement": {
                            "availabilityZone": az, "tenancy": "default"},
                        "monitoring": {"state": "disabled"}, "subnetId": subnet,
                        "privateIpAddress": f"10.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(256)}",
                        "architecture": "arm64", "rootDeviceType": "ebs", "rootDeviceName": "/dev/xvda",
                        "blockDeviceMapping": {}, "virtualizationType": "hvm", "hypervisor": "xen",
                        "tagSet": {"items": [{"key": "Environment", "value": "prod"}]}}]}}
        return self.finish(rec, params, response)

    def iam(self) -> dict:
        rng = self.rng
        ident, ip, ua = self.human_or_app()
        role = rng.choice(ROLES)
        name = rng.choice(["GetRole", "GetRole", "ListRoles", "ListAttachedRolePolicies", "GetPolicyVersion",
                           "AttachRolePolicy", "PutRolePolicy", "CreateRole", "CreateAccessKey"])
        rec = self.envelope(ident, "iam.amazonaws.com", name, ip, ua, region="us-east-1",
                            read_only=name.startswith(("Get", "List")))
        response = None
        if name in ("GetRole", "ListAttachedRolePolicies"):
            params = {"roleName": role}
        elif name == "ListRoles":
            params = {"maxItems": 100}
        elif name == "GetPolicyVersion":
            params = {"policyArn": f"arn:aws:iam::{self.account}:policy/{role}-policy", "versionId": "v3"}
        elif name == "AttachRolePolicy":
            params = {"roleName": role, "policyArn": "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"}
        elif name == "CreateAccessKey":
            user = rng.choice(USERS)
            params = {"userName": user}
            response = {"accessKey": {"accessKeyId": "AKIA" + _upper_id(rng, 16), "status": "Active",
                                      "userName": user, "createDate": self.t.strftime("%b %-d, %Y, %-I:%M:%S %p")}}
        else:
            doc = json.dumps({"Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject", "kms:Decrypt"],
                "Resource": [f"arn:aws:s3:::{rng.choice(self.p.buckets[self.account, self.region])}/*"]}]},
                separators=(",", ":"))
            if name == "PutRolePolicy":
                params = {"roleName": role, "policyName": "inline-data-access", "policyDocument": doc}
            else:
                trust = json.dumps({"Version": "2012-10-17", "Statement": [{
                    "Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
                    "Action": "sts:AssumeRole"}]}, separators=(",", ":"))
                params = {"roleName": f"{role}-{rng.randrange(1000)}", "assumeRolePolicyDocument": trust}
                response = {"role": {"path": "/", "roleName": params["roleName"],
                                     "roleId": "AROA" + _upper_id(rng, 17),
                                     "arn": f"arn:aws:iam::{self.account}:role/{params['roleName']}",
                                     "createDate": self.t.strftime("%b %-d, %Y, %-I:%M:%S %p"),
                                     "assumeRolePolicyDocument": quote(trust)}}
        resources = None
        return self.finish(rec, params, response, resources=resources)

    def console_login(self) -> dict:
        rng = self.rng
        ident = self.iam_user() if rng.random() < 0.3 else self.assumed_role()
        ip = self.p.ip(rng)
        ua = rng.choice(USER_AGENTS[5:7])
        rec = self.envelope(ident, "signin.amazonaws.com", "ConsoleLogin", ip, ua, region="us-east-1",
                            event_type="AwsConsoleSignIn", host="signin.aws.amazon.com")
        ok = rng.random() > 0.08
        response = {"ConsoleLogin": "Success" if ok else "Failure"}
        additional = {"LoginTo": "https://console.aws.amazon.com/console/home?state=hashArgs%23&isauthcode=true",
                      "MobileVersion": "No", "MFAUsed": "Yes" if rng.random() < 0.8 else "No"}
        if not ok:
            rec["errorMessage"] = "Failed authentication"
        return self.finish(rec, None, response, additional=additional)

    def misc(self) -> dict:
        rng = self.rng
        ident, ip, ua = self.human_or_app()
        kind = rng.randrange(4)
        if kind == 0:
            rec = self.envelope(ident, "logs.amazonaws.com", "CreateLogStream", ip, ua, read_only=False)
            params = {"logGroupName": f"/aws/lambda/etl-{rng.randrange(20)}",
                      "logStreamName": f"2025/03/{rng.randrange(1, 31):02d}/[$LATEST]{rng.getrandbits(128):032x}"}
            return self.finish(rec, params, None)
        if kind == 1:
            rec = self.envelope(ident, "lambda.amazonaws.com", "GetFunction20150331v2", ip, ua, read_only=True)
            return self.finish(rec, {"functionName": f"etl-{rng.randrange(20)}"}, None)
        if kind == 2:
            rec = self.envelope(ident, "cloudtrail.amazonaws.com", "DescribeTrails", ip, ua, read_only=True)
            return self.finish(rec, {"trailNameList": [], "includeShadowTrails": True}, None)
        rec = self.envelope(ident, "s3.amazonaws.com", "GetBucketPolicy", ip, ua, read_only=True,
                            host=f"s3.{self.region}.amazonaws.com")
        bucket = rng.choice(self.p.buckets[self.account, self.region])
        return self.finish(rec, {"bucketName": bucket, "Host": f"s3.{self.region}.amazonaws.com", "policy": ""},
                           None, resources=[{"accountId": self.account, "type": "AWS::S3::Bucket",
                                             "ARN": f"arn:aws:s3:::{bucket}"}],
                           additional={"SignatureVersion": "SigV4", "AuthenticationMethod": "AuthHeader",
                                       "bytesTransferredIn": 0, "bytesTransferredOut": 0})

    # mix -----------------------------------------------------------------------------------------

    KINDS = [
        ("s3:GetObject", 20), ("s3:PutObject", 8), ("s3:HeadObject", 7), ("s3:ListObjects", 3),
        ("s3:CopyObject", 2), ("s3:DeleteObject", 2),
        ("kms:Decrypt", 20), ("kms:GenerateDataKey", 9), ("kms:Encrypt", 1),
        ("sts", 6), ("ec2", 8), ("iam", 3), ("signin", 0.5), ("misc", 10.5),
    ]
    _names = [k for k, _ in KINDS]
    _cum = list(accumulate(w for _, w in KINDS))

    def record(self) -> dict:
        kind = self._names[bisect.bisect_right(self._cum, self.rng.random() * self._cum[-1])]
        if kind.startswith("s3:"):
            return self.s3(kind[3:])
        if kind.startswith("kms:"):
            return self.kms(kind[4:])
        if kind == "sts":
            return self.assume_role()
        if kind == "ec2":
            return self.ec2()
        if kind == "iam":
            return self.iam()
        if kind == "signin":
            return self.console_login()
        return self.misc()

    def records(self, n: int, t0: datetime, span: timedelta) -> list[dict]:
        seconds = span.total_seconds()
        offsets = sorted(self.rng.random() * seconds for _ in range(n))
        out = []
        for offset in offsets:
            self.t = t0 + timedelta(seconds=int(offset))
            out.append(self.record())
        return out


# -- the small profile -------------------------------------------------------------------------------

_KEEP_ADDITIONAL = ("bytesTransferredIn", "bytesTransferredOut", "SSEKMSKeyId")
_ISSUER_DROP = ("principalId", "accountId", "type", "userName")
_S3_RESPONSE_KEEP = ("x-amz-version-id", "x-amz-delete-marker")


def short_agent(agent: str) -> str:
    """The first product token: "[Boto3/1.34.69 Python/3.11.8 …]" -> "[Boto3/1.34.69]"; service callers stay."""
    if " " not in agent:
        return agent
    head = agent.split(" ", 1)[0]
    return head + "]" if head.startswith("[") else head


def shrink(rec: dict) -> dict:
    """The record without its optional bulk (see the module's docstring); deterministic, no RNG."""
    rec.pop("tlsDetails", None)
    rec["userAgent"] = short_agent(rec["userAgent"])
    extra = rec.get("additionalEventData")
    if extra is not None and rec["eventSource"] != "signin.amazonaws.com":
        rec["additionalEventData"] = {k: extra[k] for k in _KEEP_ADDITIONAL if k in extra}
    response = rec.get("responseElements")
    if response is not None:
        if rec.get("readOnly") is True:
            rec["responseElements"] = None
        elif rec["eventName"] == "AssumeRole":
            response.pop("credentials", None)
        elif rec["eventSource"] == "s3.amazonaws.com" and rec["eventName"] != "CopyObject":
            rec["responseElements"] = {k: response[k] for k in _S3_RESPONSE_KEEP if k in response}
    params = rec.get("requestParameters")
    if params is not None and rec["eventSource"] == "kms.amazonaws.com":
        params.pop("encryptionAlgorithm", None)
        params.pop("encryptionContext", None)
    if rec["eventSource"] == "s3.amazonaws.com" and rec.get("resources"):
        rec["resources"] = [r for r in rec["resources"] if r["type"] != "AWS::S3::Object"]
    context = rec["userIdentity"].get("sessionContext")
    if context is not None:
        context.pop("webIdFederationData", None)
        context.get("attributes", {}).pop("creationDate", None)
        for key in _ISSUER_DROP:
            context.get("sessionIssuer", {}).pop(key, None)
    return rec


# -- files and directory ----------------------------------------------------------------------------

def data_dir_name(events: int, seed: int, record_size: str = "standard") -> str:
    """The directory the benchmarks keep these events in, under their workdir."""
    return f"cloudtrail-{events}-seed{seed}-{record_size}"


def _file_job(args: tuple[int, int, int, int, str, str]) -> tuple[str, int, int]:
    seed, index, count, n_files, out_dir, record_size = args
    gen = FileGen(seed, index)
    slot = SPAN / n_files
    t0 = START + slot * index
    records = gen.records(count, t0, slot)
    if record_size == "small":
        records = [shrink(r) for r in records]
    payload = _dumps({"Records": records})
    stamp = (t0 + slot).strftime("%Y%m%dT%H%MZ")
    name = f"{gen.account}_CloudTrail_{gen.region}_{stamp}_{index:06d}{gen.rng.getrandbits(32):08x}.json.gz"
    data = _gzip.compress(payload, compresslevel=_GZIP_LEVEL, mtime=0)  # mtime=0: byte-identical reruns
    target = Path(out_dir) / name
    tmp = target.with_name(target.name + ".part")
    tmp.write_bytes(data)
    os.replace(tmp, target)
    return name, len(payload), len(data)


def read_marker(out_dir: Path) -> dict | None:
    try:
        return json.loads((out_dir / MARKER).read_text())
    except (OSError, ValueError):
        return None


def generate(out_dir: str | Path, events: int, *, seed: int = 42, workers: int | None = None,
             per_file: int = RECORDS_PER_FILE, record_size: str = "standard", log=None) -> dict:
    """Write `events` records into out_dir (reused when its marker says the same events/seed/size/version)."""
    if record_size not in RECORD_SIZES:
        raise ValueError(f"record_size must be one of {RECORD_SIZES}, not {record_size!r}")
    out = Path(out_dir)
    want = {"events": events, "seed": seed, "records_per_file": per_file, "record_size": record_size,
            "generator_version": GENERATOR_VERSION}
    marker = read_marker(out)
    if marker and all(marker.get(k) == v for k, v in want.items()):
        marker["reused"] = True
        return marker
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    n_files = -(-events // per_file)
    jobs = [(seed, i, min(per_file, events - i * per_file), n_files, str(out), record_size) for i in range(n_files)]
    workers = workers or min(len(jobs), os.cpu_count() or 1)
    started = time.perf_counter()
    raw = packed = 0
    if workers <= 1:
        results = map(_file_job, jobs)
        pool = None
    else:
        pool = ProcessPoolExecutor(max_workers=workers)
        results = pool.map(_file_job, jobs, chunksize=1)
    try:
        for done, (_, nraw, npacked) in enumerate(results, 1):
            raw += nraw
            packed += npacked
            if log and (done % 20 == 0 or done == n_files):
                log(f"  generated {done}/{n_files} files, {raw / 1e6:,.0f} MB JSON "
                    f"({time.perf_counter() - started:,.0f}s)")
    finally:
        if pool:
            pool.shutdown()
    info = {**want, "files": n_files, "json_bytes": raw, "gzip_bytes": packed,
            "avg_record_bytes": round(raw / events, 1) if events else 0,
            "generation_seconds": round(time.perf_counter() - started, 2)}
    (out / MARKER).write_text(json.dumps(info, indent=2) + "\n")
    info["reused"] = False
    return info


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out_dir")
    parser.add_argument("--events", type=lambda s: int(s.replace("_", "")), default=100_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--record-size", choices=RECORD_SIZES, default="standard")
    args = parser.parse_args(argv)
    info = generate(args.out_dir, args.events, seed=args.seed, workers=args.workers, record_size=args.record_size,
                    log=lambda m: print(m, file=sys.stderr))
    print(json.dumps(info, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
