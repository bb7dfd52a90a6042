"""Deterministic synthetic Azure Monitor logs for the file-ingest benchmark (ingest_files.py), for
`sovaudit pull azure --path`.

Two kinds of record, shaped like the demo's data (sovaudit/demo/data/azure) and tests/azure_fixtures.py, which
follow Microsoft's documented examples (fixtures/azure):

  ~2/3  Key Vault AuditEvent resource-log records (KeyUnwrap, KeyDecrypt, KeyWrap, KeySign, SecretGet, KeyGet,
        VaultGet; a few Forbidden) of three vaults in westeurope/northeurope, by managed identities and users;
  ~1/3  activity-log records in the resource-log shape of diagnostic exports (category Administrative, Policy or
        Security; write, delete and action operations on storage accounts, vaults, VMs, NSGs, role assignments,
        Start then Success or Failure), each with ARM claims and authorization.

in two file shapes (`shapes`: both, half the files each, by default; or only one of them):

  JSON lines, as Azure Monitor writes PT1H.json to a storage account:
    insights-activity-logs/resourceId=/SUBSCRIPTIONS/<SUB>/y=YYYY/m=MM/d=DD/h=HH/m=00/PT1H.json.gz
    insights-logs-auditevent/resourceId=/SUBSCRIPTIONS/<SUB>/RESOURCEGROUPS/<RG>/PROVIDERS/MICROSOFT.KEYVAULT/
      VAULTS/<VAULT>/y=…/PT1H.json.gz
  {"records": [...]} objects, as an Event Hub delivers them (and archives capture):
    eventhub-records/activity/YYYY/MM/DD/HH/<index>.json.gz, eventhub-records/auditevent/…

Each file holds `per_file` records (5,000 by default) of one kind, time-sorted, its own slot of March 2025; every
record has a unique correlationId (and the activity log's a unique eventDataId). Records average ~1.44 KB
(Key Vault ~1.1 KB, activity log ~2.1 KB, with its claims).
Every file comes from its own seeded RNG: the output is byte-identical for the same (seed, events, per_file,
shapes).
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import synthetic_files
from synthetic_files import dumps, json_lines, uuid_text

GENERATOR_VERSION = 1
RECORDS_PER_FILE = 5_000
START = datetime(2025, 3, 1, tzinfo=UTC)
SPAN = timedelta(days=30)

SUBSCRIPTION = "5C1D7E2A-8B3F-4A6C-9D0E-1F2A3B4C5D6E"
TENANT = "a7e3c9d1-2b4f-4e6a-8c0d-9e1f2a3b4c5d"
VAULTS = [("RG-KEYS-WEU", "KV-CUSTOMERS-WEU", "westeurope"), ("RG-KEYS-WEU", "KV-PAYMENTS-WEU", "westeurope"),
          ("RG-KEYS-NEU", "KV-ANALYTICS-NEU", "northeurope")]
SHAPES = ("lines", "records")
# (file kind, shape) by index % 6: four Key Vault files for two activity-log files, lines and records alternating.
LAYOUT = [("auditevent", "lines"), ("auditevent", "records"), ("activity", "lines"),
          ("auditevent", "lines"), ("auditevent", "records"), ("activity", "records")]
KV_OPERATIONS = [("KeyUnwrap", 30, "unwrapkey"), ("KeyDecrypt", 20, "decrypt"), ("KeyWrap", 15, "wrapkey"),
                 ("KeySign", 8, "sign"), ("SecretGet", 15, None), ("KeyGet", 8, None), ("VaultGet", 4, None)]
KV_CLIENTS = ["azsdk-python-keyvault-keys/4.8.0 Python/3.11.8 (Linux-5.15.0-1057-azure-x86_64-with-glibc2.35)",
              "azsdk-net-Security.KeyVault.Keys/4.6.0 (.NET 8.0.3; Microsoft Windows 10.0.20348)",
              "azure-resource-manager/2.0", "Azure-Storage/9.1.0 (.NET CLR 4.0.30319.42000; Win32NT 10.0.14393.0)",
              "azsdk-java-azure-security-keyvault-secrets/4.7.3 (17.0.10; Linux; 5.15.0-1057-azure)"]
ACTIVITY_OPERATIONS = [
    ("Microsoft.Storage/storageAccounts/write", "Administrative", "RG-DATA-WEU", "MICROSOFT.STORAGE/STORAGEACCOUNTS"),
    ("Microsoft.Storage/storageAccounts/listKeys/action", "Administrative", "RG-DATA-WEU",
     "MICROSOFT.STORAGE/STORAGEACCOUNTS"),
    ("Microsoft.KeyVault/vaults/write", "Administrative", "RG-KEYS-WEU", "MICROSOFT.KEYVAULT/VAULTS"),
    ("Microsoft.Compute/virtualMachines/write", "Administrative", "RG-APP-NEU", "MICROSOFT.COMPUTE/VIRTUALMACHINES"),
    ("Microsoft.Compute/virtualMachines/start/action", "Administrative", "RG-APP-NEU",
     "MICROSOFT.COMPUTE/VIRTUALMACHINES"),
    ("Microsoft.Network/networkSecurityGroups/securityRules/write", "Administrative", "RG-APP-NEU",
     "MICROSOFT.NETWORK/NETWORKSECURITYGROUPS"),
    ("Microsoft.Authorization/roleAssignments/write", "Administrative", "RG-DATA-WEU",
     "MICROSOFT.AUTHORIZATION/ROLEASSIGNMENTS"),
    ("Microsoft.Resources/deployments/write", "Administrative", "RG-APP-NEU", "MICROSOFT.RESOURCES/DEPLOYMENTS"),
    ("Microsoft.Authorization/policies/audit/action", "Policy", "RG-DATA-WEU", "MICROSOFT.STORAGE/STORAGEACCOUNTS"),
    ("Microsoft.Security/locations/alerts/activate/action", "Security", "RG-APP-NEU",
     "MICROSOFT.COMPUTE/VIRTUALMACHINES"),
]
_KV_VERBS = {op: verb for op, _, verb in KV_OPERATIONS}
USERS = ["platform-admin", "data-engineer", "sre-oncall", "security-analyst", "ci-deployer"]
ROLES = ["Owner", "Contributor", "Key Vault Crypto User", "Storage Account Contributor"]
CALLERS = ["217.0.0.41", "81.2.69.142", "90.0.0.17", "20.50.2.9", "52.168.1.7", "10.30.1.17", "10.30.2.8",
           "185.12.64.3", "2.16.0.10", "104.40.82.76"]


def _stamp(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%S.%f") + "0Z"  # Azure's 7 fractional digits


def _oid(rng: random.Random) -> str:
    return uuid_text(rng)


class FileGen:
    def __init__(self, seed: int, index: int):
        self.rng = random.Random(f"sovaudit-bench-azure:{seed}:{index}")
        pool = random.Random(f"sovaudit-bench-azure-pool:{seed}")
        self.users = [(f"{u}@acme-retail.example", _oid(pool)) for u in USERS]
        self.identities = [(_oid(pool), _oid(pool)) for _ in range(8)]  # managed identities: (object id, app id)
        self.kinds = [op for op, *_ in KV_OPERATIONS]
        self.weights = [w for _, w, _ in KV_OPERATIONS]

    def keyvault(self, t: datetime, vault: tuple[str, str, str]) -> dict:
        rng = self.rng
        group, name, location = vault
        operation = rng.choices(self.kinds, self.weights)[0]
        verb = _KV_VERBS[operation]
        host = f"https://{name.lower()}.vault.azure.net"
        key = rng.choice(["customer-cmk", "payments-cmk", "backup-cmk", "tokenizer"])
        version = f"{rng.getrandbits(128):032x}"
        if operation == "SecretGet":
            item, uri = f"{host}/secrets/{key}-secret/{version}", f"{host}/secrets/{key}-secret/{version}"
        elif operation == "VaultGet":
            item = f"{host}/"
            uri = (f"https://control-prod-weu.vaultcore.azure.net/subscriptions/{SUBSCRIPTION.lower()}/resourcegroups/"
                   f"{group.lower()}/providers/Microsoft.KeyVault/vaults/{name.lower()}")
        else:
            item = f"{host}/keys/{key}/{version}"
            uri = item + (f"/{verb}" if verb else "")
        forbidden = rng.random() < 0.02
        oid, appid = rng.choice(self.identities)
        claim = {"http://schemas.microsoft.com/identity/claims/tenantid": TENANT,
                 "http://schemas.microsoft.com/identity/claims/objectidentifier": oid, "appid": appid}
        if rng.random() < 0.2:  # a user, not a managed identity
            upn, user_oid = rng.choice(self.users)
            claim["http://schemas.microsoft.com/identity/claims/objectidentifier"] = user_oid
            claim["http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn"] = upn
        return {
            "time": _stamp(t), "category": "AuditEvent", "operationName": operation,
            "resultType": "Failure" if forbidden else "Success", "correlationId": uuid_text(rng),
            "callerIpAddress": rng.choice(CALLERS), "identity": {"claim": claim},
            "properties": {"id": item, "clientInfo": rng.choice(KV_CLIENTS),
                           "httpStatusCode": 403 if forbidden else 200, "requestUri": f"{uri}?api-version=7.4",
                           "isAccessPolicyMatch": not forbidden, "tlsVersion": "TLS1_2"},
            "resourceId": f"/SUBSCRIPTIONS/{SUBSCRIPTION}/RESOURCEGROUPS/{group}/PROVIDERS/MICROSOFT.KEYVAULT/"
                          f"VAULTS/{name}",
            "operationVersion": "7.4", "resultSignature": "Forbidden" if forbidden else "OK",
            "durationMs": str(int(rng.lognormvariate(3, 0.6))), "location": location,
        }

    def activity(self, t: datetime) -> dict:
        rng = self.rng
        operation, category, group, kind = rng.choice(ACTIVITY_OPERATIONS)
        resource = (f"/SUBSCRIPTIONS/{SUBSCRIPTION}/RESOURCEGROUPS/{group}/PROVIDERS/{kind}/"
                    f"{rng.choice(['PRIMARY', 'SECONDARY', 'ARCHIVE', 'BATCH'])}{rng.randrange(8)}")
        scope = resource.lower()
        upn, oid = rng.choice(self.users)
        phase = rng.random()
        result, signature = (("Start", "Started.") if phase < 0.45 else
                             ("Failure", "Failed.Forbidden") if phase < 0.5 else ("Success", "Succeeded.OK"))
        caller = rng.choice(CALLERS)
        event_id = uuid_text(rng)
        record = {
            "time": _stamp(t), "resourceId": resource, "operationName": operation.upper(), "category": category,
            "resultType": result, "resultSignature": signature,
            "durationMs": 0 if result == "Start" else int(rng.lognormvariate(7, 0.8)),
            "callerIpAddress": caller, "correlationId": uuid_text(rng),
            "identity": {
                "authorization": {"scope": scope, "action": operation, "evidence": {
                    "role": rng.choice(ROLES), "roleAssignmentScope": f"/subscriptions/{SUBSCRIPTION.lower()}",
                    "roleAssignmentId": f"{rng.getrandbits(128):032x}", "roleDefinitionId": f"{rng.getrandbits(128):032x}",
                    "principalId": oid.replace("-", ""), "principalType": "User"}},
                "claims": {
                    "aud": "https://management.core.windows.net/", "iss": f"https://sts.windows.net/{TENANT}/",
                    "iat": str(int(t.timestamp()) - 600), "nbf": str(int(t.timestamp()) - 600),
                    "exp": str(int(t.timestamp()) + 3000), "ver": "1.0",
                    "http://schemas.microsoft.com/identity/claims/tenantid": TENANT,
                    "http://schemas.microsoft.com/claims/authnmethodsreferences": "pwd,mfa",
                    "http://schemas.microsoft.com/identity/claims/objectidentifier": oid,
                    "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn": upn,
                    "name": upn.split("@")[0], "appid": "04b07795-8ddb-461a-bbee-02f9e1bf7b46", "appidacr": "0",
                    "ipaddr": caller}},
            "level": "Error" if result == "Failure" else "Information", "location": "global",
            "properties": {"eventCategory": category, "entity": scope, "message": operation,
                           "hierarchy": f"{TENANT}/{SUBSCRIPTION.lower()}", "eventDataId": event_id},
        }
        if result != "Start":
            record["properties"]["statusCode"] = "Forbidden" if result == "Failure" else "OK"
        return record


def layout(index: int, shapes: tuple[str, ...] = SHAPES) -> tuple[str, str]:
    """(kind, shape) of file `index`: auditevent or activity; lines or records (or the one shape given)."""
    kind, shape = LAYOUT[index % len(LAYOUT)]
    return kind, shape if len(shapes) > 1 else shapes[0]


def _slot(index: int, n_files: int) -> tuple[datetime, timedelta]:
    slot = SPAN / n_files
    return START + slot * index, slot


def file_name(index: int, n_files: int, shapes: tuple[str, ...] = SHAPES) -> str:
    kind, shape = layout(index, shapes)
    t0, _ = _slot(index, n_files)
    vault = VAULTS[(index // len(LAYOUT)) % len(VAULTS)]
    if shape == "records":
        return f"eventhub-records/{kind}/{t0:%Y/%m/%d/%H}/{index:06d}.json.gz"
    prefix = (f"insights-activity-logs/resourceId=/SUBSCRIPTIONS/{SUBSCRIPTION}" if kind == "activity" else
              f"insights-logs-auditevent/resourceId=/SUBSCRIPTIONS/{SUBSCRIPTION}/RESOURCEGROUPS/{vault[0]}"
              f"/PROVIDERS/MICROSOFT.KEYVAULT/VAULTS/{vault[1]}")
    return f"{prefix}/y={t0:%Y}/m={t0:%m}/d={t0:%d}/h={t0:%H}/m=00/PT1H.json.gz"


def make_file(seed: int, index: int, count: int, n_files: int, shapes: tuple[str, ...] = SHAPES) -> tuple[str, bytes]:
    gen = FileGen(seed, index)
    kind, shape = layout(index, shapes)
    vault = VAULTS[(index // len(LAYOUT)) % len(VAULTS)]
    t0, slot = _slot(index, n_files)
    offsets = sorted(gen.rng.random() * slot.total_seconds() for _ in range(count))
    records = [gen.keyvault(t0 + timedelta(seconds=o), vault) if kind == "auditevent" else
               gen.activity(t0 + timedelta(seconds=o)) for o in offsets]
    payload = json_lines(records) if shape == "lines" else dumps({"records": records})
    return file_name(index, n_files, shapes), payload


def make_lines(seed: int, index: int, count: int, n_files: int) -> tuple[str, bytes]:
    return make_file(seed, index, count, n_files, ("lines",))


def make_records(seed: int, index: int, count: int, n_files: int) -> tuple[str, bytes]:
    return make_file(seed, index, count, n_files, ("records",))


def shape_label(shapes: tuple[str, ...]) -> str:
    return "mixed" if len(shapes) > 1 else shapes[0]


def data_dir_name(events: int, seed: int, shapes: tuple[str, ...] = SHAPES) -> str:
    return f"azure-{events}-seed{seed}-{shape_label(shapes)}"


def generate(out_dir: str | Path, events: int, *, seed: int = 42, per_file: int = RECORDS_PER_FILE,
             shapes: tuple[str, ...] = SHAPES, workers: int | None = None, log=None) -> dict:
    shapes = tuple(s for s in SHAPES if s in shapes)
    if not shapes:
        raise ValueError(f"shapes: choose from {SHAPES}")
    make = {"mixed": make_file, "lines": make_lines, "records": make_records}[shape_label(shapes)]
    return synthetic_files.generate(out_dir, events, make, lambda index, n: file_name(index, n, shapes),
                                    {"source": "azure", "shapes": shape_label(shapes),
                                     "generator_version": GENERATOR_VERSION},
                                    seed=seed, per_file=per_file, workers=workers, log=log)
