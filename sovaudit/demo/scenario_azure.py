"""The Azure half of the Acme Retail scenario (sovaudit.demo.scenario).

Acme Retail also runs its loyalty programme on Azure: customer PII in a storage account in North Europe
(`acmeloyaltyneu`, replicated to `acmeloyaltyreplweu` in West Europe), envelope-encrypted with a key of a
Key Vault in West Europe (`acme-loyalty-kv`). Its clean traffic is hourly (blob reads and writes, two key
unwraps an hour) across the same sixty days, with daily analyst reads from EU offices, a UK support read
(the class's allowed transfer) and a copy to the EU replica, plus configuration changes that keep to the
policy. `planted=True` adds one case for every check with Azure coverage, including a US-side read.

The logs are written as Azure Monitor exports: JSON lines in the `insights-*` containers' layout,
`<container>/resourceId=/SUBSCRIPTIONS/…/y=YYYY/m=MM/d=DD/h=HH/m=00/PT1H.json`, which `sovaudit pull azure
--path` reads. Resource logs (Key Vault AuditEvent, Storage) carry no id, so their event_uid is the
documented `sha256:` hash of the record; activity-log records carry `properties.eventDataId`, and planted
ones get `planted-<check>-az<n>`.
"""

import gzip
import hashlib
import json
import random
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

SUBSCRIPTION = "5c1d7e2a-8b3f-4a6c-9d0e-1f2a3b4c5d6e"
TENANT = "a7e3c9d1-2b4f-4e6a-8c0d-9e1f2a3b4c5d"
_SUB = f"/subscriptions/{SUBSCRIPTION}/resourceGroups"
VAULT = f"{_SUB}/rg-acme-keys-weu/providers/Microsoft.KeyVault/vaults/acme-loyalty-kv"
LOYALTY_STORAGE = f"{_SUB}/rg-acme-loyalty-neu/providers/Microsoft.Storage/storageAccounts/acmeloyaltyneu"
REPLICA_STORAGE = f"{_SUB}/rg-acme-replica-weu/providers/Microsoft.Storage/storageAccounts/acmeloyaltyreplweu"
EXPORT_US_STORAGE = f"{_SUB}/rg-acme-partner-us/providers/Microsoft.Storage/storageAccounts/acmeloyaltyexportus"
ARCHIVE_STORAGE = f"{_SUB}/rg-acme-replica-weu/providers/Microsoft.Storage/storageAccounts/acmeloyaltyarchweu"
SCRATCH_US_STORAGE = f"{_SUB}/rg-acme-partner-us/providers/Microsoft.Storage/storageAccounts/acmescratchus"
# The subscription's Allowed locations assignment (built-in definition e56962a6-…): EU regions only.
ALLOWED_LOCATIONS = f"/subscriptions/{SUBSCRIPTION}/providers/Microsoft.Authorization/policyAssignments/allowed-locations-eu"
PARTNER_US_STORAGE = f"{_SUB}/rg-acme-partner-us/providers/Microsoft.Storage/storageAccounts/acmepartnerus"
# Recovery Services vaults: the loyalty account's, in North Europe (pair West Europe), and the US export
# account's, in East US (pair West US).
BACKUP_VAULT_NEU = f"{_SUB}/rg-acme-loyalty-neu/providers/Microsoft.RecoveryServices/vaults/acme-loyalty-bv-neu"
BACKUP_VAULT_US = f"{_SUB}/rg-acme-partner-us/providers/Microsoft.RecoveryServices/vaults/acme-export-bv-us"
VAULT_URI = "https://acme-loyalty-kv.vault.azure.net"
LOYALTY_CMK = f"{VAULT_URI}/keys/loyalty-cmk/3f9a1c7e5b2d4e6f8a0b1c2d3e4f5a6b"
OLD_CMK = f"{VAULT_URI}/keys/loyalty-cmk-2025"
# Where the resources run, for records that do not say (Key Vault and activity-log records): the Azure
# source config's `locations` (lower-case resource-id globs).
LOCATIONS = {
    f"/subscriptions/{SUBSCRIPTION}/resourcegroups/rg-acme-keys-weu/*": "westeurope",
    f"/subscriptions/{SUBSCRIPTION}/resourcegroups/rg-acme-loyalty-neu/*": "northeurope",
    f"/subscriptions/{SUBSCRIPTION}/resourcegroups/rg-acme-replica-weu/*": "westeurope",
    f"/subscriptions/{SUBSCRIPTION}/resourcegroups/rg-acme-partner-us/*": "eastus",
}
# The customer-pii class's Azure patterns, lower case as the lake stores resource ids. A copy's source is
# its blob URL, hence the endpoint pattern.
PII_RESOURCES = [f"/subscriptions/{SUBSCRIPTION}/resourcegroups/*/providers/microsoft.storage/storageaccounts/acmeloyalty*",
                 "https://acmeloyalty*.blob.core.windows.net/*"]
PII_KEYS = [f"{VAULT_URI}/keys/*"]
ACTIVITY, AUDIT, READ, WRITE = ("insights-activity-logs", "insights-logs-auditevent", "insights-logs-storageread",
                                "insights-logs-storagewrite")

LOYALTY_APP = ("0d7c4b1e-6a2f-4c8d-9e3b-5f1a7c2e4d60", "4e2a9c7d-1b3f-4d5e-8a6c-0f9e8d7c6b5a")  # object id, app id
CONTRACTOR_APP = ("9b8a7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d", "2c3d4e5f-6a7b-4c8d-9e0f-1a2b3c4d5e6f")
PARTNER_APP = ("7a6b5c4d-3e2f-4a1b-9c8d-7e6f5a4b3c2d", "6f5e4d3c-2b1a-4f9e-8d7c-6b5a4f3e2d1c")
FOREIGN_OBJECT = "c0ffee00-1234-4abc-8def-0123456789ab"
VNET_IP = "10.30.1.17"
# An Azure Storage front-end address (52.239.246.0/23: tag Storage.EastUS in ServiceTags_Public).
AZURE_STORAGE_EASTUS_IP = "52.239.246.5"


def uid_of(record: dict[str, Any]) -> str:
    """What the lake's event_uid is for a record: eventDataId when it has one, else the sha256 hash."""
    data_id = record.get("properties", {}).get("eventDataId") or record.get("eventDataId")
    return data_id or "sha256:" + hashlib.sha256(line_of(record).encode()).hexdigest()


def line_of(record: dict[str, Any]) -> str:
    return json.dumps(record, separators=(",", ":"), ensure_ascii=False)


def _stamp(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%S.%f") + "0Z"


@dataclass(frozen=True)
class AzureRecord:
    container: str
    resource_id: str  # the export folder's resourceId (the subscription for the activity log)
    time: datetime
    record: dict[str, Any]

    @property
    def uid(self) -> str:
        return uid_of(self.record)


class AzureBuilder:
    def __init__(self, seed: int, expected: dict[str, set[str]]):
        self.rng = random.Random(seed)
        self.records: list[AzureRecord] = []
        self.expected = expected
        self.planted_counts: dict[str, int] = {}

    def _guid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def _add(self, container: str, folder: str, when: datetime, record: dict[str, Any], planted: str | None,
             also: tuple[str, ...]) -> str:
        entry = AzureRecord(container, folder, when, record)
        self.records.append(entry)
        for check in ((planted,) if planted else ()) + also:
            self.expected.setdefault(check, set()).add(entry.uid)
        return entry.uid

    # -- Storage resource logs (StorageRead / StorageWrite) --------------------------------------------

    def blob(self, when: datetime, account_id: str, location: str, op: str, path: str, who: dict[str, Any],
             ip: str, *, nbytes: int = 0, source_uri: str | None = None, planted: str | None = None,
             also: tuple[str, ...] = ()) -> str:
        account = account_id.rsplit("/", 1)[1]
        category = "StorageRead" if op.startswith("Get") else "StorageWrite"
        properties: dict[str, Any] = {
            "accountName": account, "userAgentHeader": "azsdk-python-storage-blob/12.19.0 Python/3.11.8 (Linux)",
            "serviceType": "blob", "objectKey": f"/{account}/{path}", "serverLatencyMs": 4,
            "requestHeaderSize": 512, "responseHeaderSize": 380,
            "responseBodySize": nbytes if category == "StorageRead" else 0,
            "contentLengthHeader": 0 if category == "StorageRead" else nbytes, "tlsVersion": "TLS 1.2"}
        if source_uri:
            properties["sourceUri"] = source_uri
        record = {
            "time": _stamp(when), "resourceId": f"{account_id}/blobServices/default", "category": category,
            "operationName": op, "operationVersion": "2021-12-02", "schemaVersion": "1.0",
            "statusCode": 202 if source_uri else 200 if category == "StorageRead" else 201, "statusText": "Success",
            "durationMs": 5 + self.rng.randrange(40), "callerIpAddress": f"{ip}:{49152 + self.rng.randrange(16000)}",
            "correlationId": self._guid(), "identity": who, "location": location, "protocol": "HTTPS",
            "uri": f"https://{account}.blob.core.windows.net:443/{path}", "properties": properties,
        }
        return self._add(READ if category == "StorageRead" else WRITE, f"{account_id}/blobServices/default", when,
                         record, planted, also)

    # -- Key Vault AuditEvent -------------------------------------------------------------------------

    def vault(self, when: datetime, op: str, key: str, who: dict[str, Any], ip: str, *, status: int = 200,
              planted: str | None = None, also: tuple[str, ...] = ()) -> str:
        verb = op.removeprefix("Key").lower()
        record = {
            "time": _stamp(when), "category": "AuditEvent", "operationName": op, "resultType": "Success",
            "correlationId": self._guid(), "callerIpAddress": ip, "identity": who,
            "properties": {"id": key, "clientInfo": "azsdk-python-keyvault-keys/4.8.0 Python/3.11.8 (Linux)",
                           "httpStatusCode": status,
                           "requestUri": f"{key}/{verb}?api-version=7.4" if op != "KeyDelete"
                           else f"{key}?api-version=7.4",
                           "isAccessPolicyMatch": status < 400, "tlsVersion": "TLS1_2"},
            "resourceId": VAULT.upper(), "operationVersion": "7.4",
            "resultSignature": {200: "OK", 403: "Forbidden"}.get(status, str(status)),
            "durationMs": str(3 + self.rng.randrange(20)),
        }
        return self._add(AUDIT, VAULT, when, record, planted, also)

    # -- the activity log (the export shape: a Started and a Succeeded record per operation) -----------

    def activity(self, when: datetime, operation: str, resource_id: str, upn: str, ip: str,
                 body: dict[str, Any] | None, *, planted: str | None = None, status_code: str = "OK",
                 also: tuple[str, ...] = ()) -> list[str]:
        correlation = self._guid()
        claims = {"http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn": upn,
                  "http://schemas.microsoft.com/identity/claims/objectidentifier": self._name_guid(upn),
                  "http://schemas.microsoft.com/identity/claims/tenantid": TENANT, "appid": "04b07795-8ddb-461a-bbee-02f9e1bf7b46"}
        uids = []
        for phase, offset in (("Start", 0), ("Success", 2)):
            if planted:
                self.planted_counts[planted] = self.planted_counts.get(planted, 0) + 1
                data_id = f"planted-{planted}-az{self.planted_counts[planted]:02d}"
            else:
                data_id = self._guid()
            properties: dict[str, Any] = {"eventCategory": "Administrative", "entity": resource_id,
                                          "message": operation, "hierarchy": f"{TENANT}/{SUBSCRIPTION}",
                                          "eventDataId": data_id}
            if phase == "Start" and body is not None:
                properties["requestbody"] = json.dumps(body, separators=(",", ":"))
            if phase == "Success":
                properties["statusCode"] = status_code
            record = {
                "time": _stamp(when + timedelta(seconds=offset)), "resourceId": resource_id.upper(),
                "operationName": operation.upper(), "category": "Administrative", "resultType": phase,
                "resultSignature": "Started." if phase == "Start" else "Succeeded.OK",
                "durationMs": 0 if phase == "Start" else 1800, "callerIpAddress": ip, "correlationId": correlation,
                "identity": {"authorization": {"scope": resource_id, "action": operation,
                                               "evidence": {"role": "Owner", "principalType": "User"}},
                             "claims": claims},
                "level": "Information", "location": "global", "properties": properties,
            }
            uids.append(self._add(ACTIVITY, f"/subscriptions/{SUBSCRIPTION}", when + timedelta(seconds=offset), record,
                                  planted, also))
        return uids

    @staticmethod
    def _name_guid(name: str) -> str:
        return str(uuid.UUID(hashlib.md5(name.encode()).hexdigest(), version=4))  # noqa: S324 (an id, not security)


def _app(app: tuple[str, str]) -> dict[str, Any]:
    """A managed identity calling Storage with an OAuth token."""
    object_id, app_id = app
    return {"type": "OAuth", "tokenHash": "key1(demo)",
            "requester": {"appId": app_id, "audience": "https://storage.azure.com/", "objectId": object_id,
                          "tenantId": TENANT, "tokenIssuer": f"https://sts.windows.net/{TENANT}/"}}


def _person(upn: str) -> dict[str, Any]:
    identity = _app(("00000000-0000-4000-8000-" + hashlib.md5(upn.encode()).hexdigest()[:12],  # noqa: S324
                     "04b07795-8ddb-461a-bbee-02f9e1bf7b46"))
    identity["requester"]["upn"] = upn
    return identity


def _vault_caller(app: tuple[str, str] | None = None, upn: str | None = None) -> dict[str, Any]:
    claim: dict[str, Any] = {"http://schemas.microsoft.com/identity/claims/tenantid": TENANT}
    if upn:
        claim["http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn"] = upn
        claim["appid"] = "04b07795-8ddb-461a-bbee-02f9e1bf7b46"
    else:
        claim["http://schemas.microsoft.com/identity/claims/objectidentifier"] = app[0]
        claim["appid"] = app[1]
    return {"claim": claim}


def _lifecycle(days: int) -> dict[str, Any]:
    return {"properties": {"policy": {"rules": [{
        "enabled": True, "name": "expire-members", "type": "Lifecycle",
        "definition": {"filters": {"blobTypes": ["blockBlob"], "prefixMatch": ["members/"]},
                       "actions": {"baseBlob": {"tierToCool": {"daysAfterModificationGreaterThan": 30},
                                                "delete": {"daysAfterModificationGreaterThan": days}},
                                   "snapshot": {"delete": {"daysAfterCreationGreaterThan": 30}}}}}]}}}


def _diagnostics(categories: dict[str, bool]) -> dict[str, Any]:
    return {"properties": {"storageAccountId": f"{_SUB}/rg-acme-audit-weu/providers/Microsoft.Storage/storageAccounts/acmeauditlogs",
                           "logs": [{"category": c, "enabled": on, "retentionPolicy": {"enabled": False, "days": 0}}
                                    for c, on in categories.items()]}}


def _replication(destination: str) -> dict[str, Any]:
    return {"properties": {"sourceAccount": LOYALTY_STORAGE, "destinationAccount": destination,
                           "rules": [{"sourceContainer": "members", "destinationContainer": "members",
                                      "filters": {"prefixMatch": ["members/"]}}]}}


OFFICE = {"DE": "217.0.0.41", "FR": "90.0.0.17", "IE": "87.32.0.9", "GB": "81.2.69.142", "US": "12.0.0.77"}
ANALYST, SUPPORT, ADMIN, INTERN = ("marie.dupont@acme-retail.example", "uk-support-agent@acme-retail.example",
                                   "platform-admin@acme-retail.example", "summer-intern@acme-retail.example")


def build_azure(start: datetime, days: int, window: datetime, planted: bool, seed: int,
                expected: dict[str, set[str]]) -> list[AzureRecord]:
    b = AzureBuilder(seed, expected)
    rng = b.rng
    app, vault_app = _app(LOYALTY_APP), _vault_caller(LOYALTY_APP)
    for day in range(days):
        midnight = start + timedelta(days=day)
        for hour in range(24):
            at = midnight + timedelta(hours=hour)
            for _ in range(2 + rng.randrange(2)):
                b.blob(at + timedelta(seconds=rng.randrange(3600), microseconds=rng.randrange(1_000_000)),
                       LOYALTY_STORAGE, "northeurope", "GetBlob", f"members/{rng.randrange(50_000):05d}.json", app,
                       VNET_IP, nbytes=2_000 + rng.randrange(6_000))
            # Two unwraps an hour, every hour: a flat key-use baseline.
            for n in range(2):
                b.vault(at + timedelta(minutes=10 + 30 * n, seconds=rng.randrange(60)), "KeyUnwrap", LOYALTY_CMK,
                        vault_app, VNET_IP)
            if hour % 3 == 1:
                b.blob(at + timedelta(minutes=17), LOYALTY_STORAGE, "northeurope", "PutBlob",
                       f"members/{rng.randrange(50_000):05d}.json", app, VNET_IP, nbytes=4_000)
        b.blob(midnight + timedelta(hours=9, minutes=rng.randrange(60)), LOYALTY_STORAGE, "northeurope", "GetBlob",
               "reports/daily.csv", _person(ANALYST), OFFICE[rng.choice(["DE", "FR", "IE"])], nbytes=5_000_000)
        b.blob(midnight + timedelta(hours=11, minutes=rng.randrange(60)), LOYALTY_STORAGE, "northeurope", "GetBlob",
               "members/00042.json", _person(SUPPORT), OFFICE["GB"], nbytes=6_000)
        b.blob(midnight + timedelta(hours=2, minutes=30), REPLICA_STORAGE, "westeurope", "CopyBlob",
               f"members/{day:05d}.json", app, VNET_IP,
               source_uri=f"https://acmeloyaltyneu.blob.core.windows.net/members/{day:05d}.json")
    # Configuration that keeps to the policy: a 365-day lifecycle, audit logs on, replication inside the EU,
    # an access policy removed.
    b.activity(window + timedelta(days=2, hours=10), "Microsoft.Storage/storageAccounts/managementPolicies/write",
               f"{LOYALTY_STORAGE}/managementPolicies/default", ADMIN, OFFICE["DE"], _lifecycle(365))
    b.activity(window + timedelta(days=3, hours=10), "Microsoft.Insights/diagnosticSettings/write",
               f"{VAULT}/providers/Microsoft.Insights/diagnosticSettings/audit-to-storage", ADMIN, OFFICE["DE"],
               _diagnostics({"AuditEvent": True, "AzurePolicyEvaluationDetails": True}))
    b.activity(window + timedelta(days=4, hours=10), "Microsoft.Storage/storageAccounts/objectReplicationPolicies/write",
               f"{LOYALTY_STORAGE}/objectReplicationPolicies/default", ADMIN, OFFICE["DE"], _replication(REPLICA_STORAGE))
    b.activity(window + timedelta(days=5, hours=10), "Microsoft.KeyVault/vaults/accessPolicies/write",
               f"{VAULT}/accessPolicies/remove", ADMIN, OFFICE["DE"],
               {"properties": {"accessPolicies": [{"tenantId": TENANT, "objectId": FOREIGN_OBJECT,
                                                   "permissions": {"keys": []}}]}})
    _clean_guardrails_and_stores(b, window)
    if planted:
        _plant(b, start, window)
    b.records.sort(key=lambda r: (r.time, r.uid))
    return b.records


def _storage_account(location: str, sku: str) -> dict[str, Any]:
    return {"location": location, "kind": "StorageV2", "sku": {"name": sku},
            "properties": {"minimumTlsVersion": "TLS1_2", "allowBlobPublicAccess": False}}


def _protect(b: AzureBuilder, when: datetime, vault: str, account: str) -> None:
    """Azure Files backup of a storage account's share into a vault: the protected item names its source."""
    name = account.rsplit("/", 1)[1]
    rg = account.split("/resourceGroups/", 1)[1].split("/", 1)[0]
    b.activity(when, "Microsoft.RecoveryServices/vaults/backupFabrics/protectionContainers/protectedItems/write",
               f"{vault}/backupFabrics/Azure/protectionContainers/StorageContainer;storage;{rg};{name}"
               f"/protectedItems/AzureFileShare;members", ADMIN, OFFICE["DE"],
               {"properties": {"protectedItemType": "AzureFileShareProtectedItem", "sourceResourceId": account,
                               "policyId": f"{vault}/backupPolicies/DailyPolicy"}})


def _cross_region_restore() -> dict[str, Any]:
    return {"properties": {"storageModelType": "GeoRedundant", "crossRegionRestoreFlag": True}}


def _allowed_locations() -> dict[str, Any]:
    return {"properties": {
        "displayName": "Allowed locations: EU only",
        "policyDefinitionId": "/providers/Microsoft.Authorization/policyDefinitions/e56962a6-4747-49cd-b67b-bf8b01975c4c",
        "parameters": {"listOfAllowedLocations": {"value": ["northeurope", "westeurope"]}}, "enforcementMode": "Default"}}


def _clean_guardrails_and_stores(b: AzureBuilder, window: datetime) -> None:
    """The quiet twins of XR-006, XR-007 and IN-008: the loyalty account's redundancy set to RA-GRS (its pair,
    West Europe, is in the EU), an archive account created in West Europe, the Allowed locations assignment
    written. (After the traffic above, so that its random draws stay as they were.)"""
    b.activity(window + timedelta(days=1, hours=9), "Microsoft.Authorization/policyAssignments/write",
               ALLOWED_LOCATIONS, ADMIN, OFFICE["DE"], _allowed_locations())
    b.activity(window + timedelta(days=6, hours=10), "Microsoft.Storage/storageAccounts/write", LOYALTY_STORAGE, ADMIN,
               OFFICE["DE"], _storage_account("northeurope", "Standard_RAGRS"))
    b.activity(window + timedelta(days=7, hours=10), "Microsoft.Storage/storageAccounts/write", ARCHIVE_STORAGE, ADMIN,
               OFFICE["DE"], _storage_account("westeurope", "Standard_ZRS"), status_code="Created")
    # EG-005's Azure twin: the loyalty account's file share backed up in North Europe, with cross-region restore
    # to its pair, West Europe (EU).
    _protect(b, window + timedelta(days=8, hours=9), BACKUP_VAULT_NEU, LOYALTY_STORAGE)
    b.activity(window + timedelta(days=8, hours=10), "Microsoft.RecoveryServices/vaults/backupstorageconfig/write",
               f"{BACKUP_VAULT_NEU}/backupstorageconfig/vaultstorageconfig", ADMIN, OFFICE["DE"],
               _cross_region_restore())


def _plant(b: AzureBuilder, start: datetime, window: datetime) -> None:
    day = lambda n, h=12, m=0: window + timedelta(days=n, hours=h, minutes=m)  # noqa: E731
    intern, app = _person(INTERN), _app(LOYALTY_APP)
    # XR-001: loyalty data written to and read from a storage account in East US.
    b.blob(day(21), EXPORT_US_STORAGE, "eastus", "PutBlob", "export/members.parquet", intern, OFFICE["DE"],
           nbytes=100_000, planted="XR-001")
    b.blob(day(21, 13), EXPORT_US_STORAGE, "eastus", "GetBlob", "export/members.parquet", intern, OFFICE["DE"],
           nbytes=100_000, planted="XR-001")
    # The US-side read: a partner analytics app downloads 1.5 GB of member data from a US address.
    for n in range(3):
        b.blob(day(22, 15, n), LOYALTY_STORAGE, "northeurope", "GetBlob", f"members/export-{n}.json",
               _app(PARTNER_APP), OFFICE["US"], nbytes=500_000_000 + n, planted="XR-002", also=("EG-001", "EG-003"))
    # XR-002 again: a sync service in East US reads through Azure Storage's front end there. Microsoft
    # publishes the address under Storage.EastUS, so the caller is placed in eastus (US): a real transfer.
    b.blob(day(22, 18), LOYALTY_STORAGE, "northeurope", "GetBlob", "members/export-sync.json", _app(PARTNER_APP),
           AZURE_STORAGE_EASTUS_IP, nbytes=20_000, planted="XR-002")
    # EG-002 (and XR-001: the copy lands in East US): a member file copied to a US partner account.
    b.blob(day(23, 9), PARTNER_US_STORAGE, "eastus", "CopyBlob", "inbox/members.json", intern, OFFICE["DE"],
           source_uri="https://acmeloyaltyneu.blob.core.windows.net/members/00007.json?sv=2022-11-02&sig=REDACTED",
           planted="EG-002", also=("XR-001",))
    # XR-003: object replication from the loyalty account to the US partner account.
    b.activity(day(23, 16), "Microsoft.Storage/storageAccounts/objectReplicationPolicies/write",
               f"{LOYALTY_STORAGE}/objectReplicationPolicies/default", INTERN, OFFICE["DE"],
               _replication(PARTNER_US_STORAGE), planted="XR-003")
    # KU-001: the loyalty key unwrapped by its usual app, but from a US address.
    for n in range(3):
        b.vault(day(24, 14, n), "KeyUnwrap", LOYALTY_CMK, _vault_caller(LOYALTY_APP), OFFICE["US"], planted="KU-001")
    # KU-002: a contractor's app unwraps the key for the first time.
    for n in range(2):
        b.vault(day(25, 10, n), "KeyUnwrap", LOYALTY_CMK, _vault_caller(CONTRACTOR_APP), "10.30.9.50",
                planted="KU-002")
    # KU-003: three hundred unwraps in a day by the usual app.
    for n in range(300):
        b.vault(day(26, 1) + timedelta(seconds=n * 7), "KeyUnwrap", LOYALTY_CMK, _vault_caller(LOYALTY_APP), VNET_IP,
                planted="KU-003")
    # KU-005: a burst of forbidden decrypts from the intern.
    for n in range(12):
        b.vault(day(27, 21, n * 4), "KeyDecrypt", LOYALTY_CMK, _vault_caller(upn=INTERN), "10.30.9.66", status=403,
                planted="KU-005")
    # KU-006: an access policy granting a foreign object id unwrap rights, and last year's key deleted.
    b.activity(day(27, 9), "Microsoft.KeyVault/vaults/accessPolicies/write", f"{VAULT}/accessPolicies/add", INTERN,
               OFFICE["DE"], {"properties": {"accessPolicies": [{
                   "tenantId": TENANT, "objectId": FOREIGN_OBJECT,
                   "permissions": {"keys": ["get", "unwrapKey", "decrypt"]}}]}}, planted="KU-006")
    b.vault(day(27, 10), "KeyDelete", OLD_CMK, _vault_caller(upn=INTERN), OFFICE["DE"], planted="KU-006")
    # RT-003: the loyalty account's lifecycle set to 730 days, then deleted.
    b.activity(day(28, 11), "Microsoft.Storage/storageAccounts/managementPolicies/write",
               f"{LOYALTY_STORAGE}/managementPolicies/default", ADMIN, OFFICE["DE"], _lifecycle(730), planted="RT-003")
    b.activity(day(28, 12), "Microsoft.Storage/storageAccounts/managementPolicies/delete",
               f"{LOYALTY_STORAGE}/managementPolicies/default", INTERN, OFFICE["DE"], None, planted="RT-003")
    # IN-004: the vault's audit diagnostic setting deleted; the loyalty account's reads no longer logged.
    b.activity(day(29, 2), "Microsoft.Insights/diagnosticSettings/delete",
               f"{VAULT}/providers/Microsoft.Insights/diagnosticSettings/audit-to-storage", INTERN, OFFICE["DE"], None,
               planted="IN-004")
    b.activity(day(29, 2, 5), "Microsoft.Insights/diagnosticSettings/write",
               f"{LOYALTY_STORAGE}/blobServices/default/providers/Microsoft.Insights/diagnosticSettings/blob-audit",
               INTERN, OFFICE["DE"], _diagnostics({"StorageRead": False, "StorageWrite": True, "StorageDelete": True}),
               planted="IN-004")
    # XR-006: the US export account switched to geo-redundant storage: Azure keeps a copy in West US (XR-001
    # too: a change to classed data's account in East US).
    b.activity(day(24, 8), "Microsoft.Storage/storageAccounts/write", EXPORT_US_STORAGE, INTERN, OFFICE["DE"],
               _storage_account("eastus", "Standard_GRS"), planted="XR-006", also=("XR-001",))
    # XR-007: a scratch storage account created in East US in the EU subscription.
    b.activity(day(25, 8), "Microsoft.Storage/storageAccounts/write", SCRATCH_US_STORAGE, INTERN, OFFICE["DE"],
               _storage_account("eastus", "Standard_LRS"), status_code="Created", planted="XR-007")
    # EG-005 (Azure): the US export account's share backed up in East US, then cross-region restore turned on:
    # its backups become restorable in West US.
    _protect(b, day(24, 9), BACKUP_VAULT_US, EXPORT_US_STORAGE)
    b.activity(day(24, 10), "Microsoft.RecoveryServices/vaults/backupstorageconfig/write",
               f"{BACKUP_VAULT_US}/backupstorageconfig/vaultstorageconfig", INTERN, OFFICE["DE"],
               _cross_region_restore(), planted="EG-005")
    b.activity(day(24, 11), "Microsoft.RecoveryServices/vaults/write", BACKUP_VAULT_US, ADMIN, OFFICE["DE"], None)
    # IN-008: the subscription's Allowed locations assignment deleted.
    b.activity(day(26, 23), "Microsoft.Authorization/policyAssignments/delete", ALLOWED_LOCATIONS, INTERN,
               OFFICE["DE"], None, planted="IN-008")
    # IN-003: three silent hours of the loyalty account's logs; planted reads mark the last before and the
    # first after.
    gap_start = day(19, 4)
    b.records = [r for r in b.records if not (r.container in (READ, WRITE) and r.resource_id.startswith(LOYALTY_STORAGE)
                                              and gap_start - timedelta(minutes=5) <= r.time
                                              < gap_start + timedelta(hours=3, minutes=5))]
    b.blob(gap_start - timedelta(minutes=3), LOYALTY_STORAGE, "northeurope", "GetBlob", "members/00100.json", app,
           VNET_IP, nbytes=3_000, planted="IN-003")
    b.blob(gap_start + timedelta(hours=3, minutes=3), LOYALTY_STORAGE, "northeurope", "GetBlob", "members/00101.json",
           app, VNET_IP, nbytes=3_000, planted="IN-003")


def write_azure(records: list[AzureRecord], directory: Path, start: datetime, days_per_file: int = 10,
                gz: bool = False) -> list[Path]:
    """Write the records in the export layout, as JSON lines. Azure writes one PT1H.json blob per resource per
    hour; here one file holds a resource's records for `days_per_file` days (named by the hour of its first
    record), so that tests and the demo pull dozens of files, not thousands."""
    groups: dict[tuple[str, str, int], list[AzureRecord]] = {}
    for r in records:
        groups.setdefault((r.container, r.resource_id.upper(), (r.time - start).days // days_per_file), []).append(r)
    written = []
    for (container, resource_id, _), group in sorted(groups.items()):
        first = group[0].time
        folder = (directory / container / f"resourceId={resource_id}" / f"y={first:%Y}" / f"m={first:%m}"
                  / f"d={first:%d}" / f"h={first:%H}" / "m=00")
        folder.mkdir(parents=True, exist_ok=True)
        data = "".join(line_of(r.record) + "\n" for r in group).encode()
        path = folder / ("PT1H.json.gz" if gz else "PT1H.json")
        path.write_bytes(gzip.compress(data, compresslevel=6, mtime=0) if gz else data)
        written.append(path)
    return written
