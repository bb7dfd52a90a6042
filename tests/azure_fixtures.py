"""Real Azure-shaped endpoints for pull tests: Azurite for Blob Storage, and a local HTTPS server that
speaks the Activity Log REST API (azure-mgmt-monitor cannot send a bearer token over plain HTTP).

Both listen on 127.0.0.1. Test modules import the fixtures they use by name (with `# ruff: noqa: F811`,
as fixture arguments shadow the imports) alongside the helpers.
"""

import ipaddress
import json
import os
import re
import shutil
import socket
import subprocess
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from azure.core.credentials import AccessToken
from azure.core.exceptions import ClientAuthenticationError
from local_http import LocalServer

REPO = Path(__file__).resolve().parent.parent
AZURE_SAMPLES = REPO / "fixtures" / "azure"  # copy of ../shared/samples/azure (CC BY 4.0, see LICENSE-NOTICE.md)
AZURITE_ACCOUNT = "devstoreaccount1"
# Azurite's documented, public development key: not a secret, but treated as one by the secrets test.
AZURITE_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
SUBSCRIPTION = "8a1f6a0e-3c9b-4d52-9a61-0f2b9c7d4e11"
TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
KEY_VAULT_ID = (f"/SUBSCRIPTIONS/{SUBSCRIPTION.upper()}/RESOURCEGROUPS/RG-EU/PROVIDERS/MICROSOFT.KEYVAULT"
                "/VAULTS/KV-CUSTOMERS-WEU")
STORAGE_ID = (f"/subscriptions/{SUBSCRIPTION}/resourceGroups/rg-eu/providers/Microsoft.Storage/storageAccounts"
              "/customersneu/blobServices/default")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def sample(name: str) -> Any:
    return json.loads((AZURE_SAMPLES / name).read_text(encoding="utf-8"))


def stamp(ts: datetime) -> str:
    """Azure's timestamp form, with 7 fractional digits."""
    return ts.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f") + "0Z"


# -- records in the shapes Azure writes ---------------------------------------------------------------

def keyvault_record(when: datetime, operation: str, *, key: str = "customer-master", ip: str = "20.50.2.9:53422",
                    upn: str | None = "auditor@contoso.eu", oid: str = "d9da5048-2737-4770-bd64-6f2a0c1e7b01",
                    status: int = 200, location: str | None = "westeurope") -> dict[str, Any]:
    """A Key Vault AuditEvent record, shaped like the documented VaultGet example."""
    record = sample("keyvault-auditevent-vaultget.azure-security-docs.json")["records"][0]
    claim = {"http://schemas.microsoft.com/identity/claims/objectidentifier": oid,
             "appid": "1950a258-227b-4e31-a9cf-717495945fc2",
             "http://schemas.microsoft.com/identity/claims/tenantid": TENANT}
    if upn:
        claim["http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn"] = upn
    record.update(time=stamp(when), resourceId=KEY_VAULT_ID, operationName=operation, callerIpAddress=ip,
                  correlationId=str(uuid.uuid4()), identity={"claim": claim},
                  resultType="Success" if status < 400 else "Failure", resultSignature="OK" if status < 400 else "Forbidden")
    record["properties"] = {**record["properties"], "httpStatusCode": status,
                            "id": f"https://kv-customers-weu.vault.azure.net/keys/{key}/0f6a1c2b3d4e5f60718293a4b5c6d7e8",
                            "requestUri": f"https://kv-customers-weu.vault.azure.net/keys/{key}/decrypt?api-version=7.4"}
    if location:
        record["location"] = location
    return record


def storage_record(when: datetime, operation: str, *, blob: str = "exports/customers.csv", size: int = 2018,
                   ip: str = "52.168.1.7:50112", category: str | None = None, source_uri: str | None = None,
                   status: int = 200, status_text: str = "Success", location: str = "northeurope") -> dict[str, Any]:
    """A Storage resource-log record: the documented operation fields plus the documented properties and
    identity fragments."""
    record = sample("storage-resourcelog-operation-fields-putblob.json")
    properties = sample("storage-resourcelog-properties-fragment.json")["properties"]
    uri = f"https://customersneu.blob.core.windows.net/{blob}"
    record.update(time=stamp(when), resourceId=STORAGE_ID, operationName=operation, callerIpAddress=ip,
                  category=category or ("StorageRead" if operation.startswith(("Get", "List")) else "StorageWrite"),
                  correlationId=str(uuid.uuid4()), location=location, uri=uri, statusCode=status,
                  statusText=status_text)
    record["identity"] = {"type": "OAuth", "requester": {
        "appId": "691458b9-1327-4635-9f55-5dcf2b1e0c3a", "objectId": "fde5ba15-4355-4223-b811-3c1e0a9f2d4b",
        "tenantId": TENANT, "upn": "analyst@contoso.us"}}
    record["properties"] = {**properties, "accountName": "customersneu", "requestUrl": uri,
                            "responseBodySize": size, **({"sourceUri": source_uri} if source_uri else {})}
    return record


def activity_rest_event(when: datetime, operation: str = "Microsoft.Network/networkSecurityGroups/write", *,
                        n: int = 0, status: str = "Succeeded") -> dict[str, Any]:
    """An activity-log event in the REST shape, built on the documented Administrative example."""
    event = sample("activity-log-rest-administrative.json")
    data_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"sovaudit-test/activity/{when.isoformat()}/{n}"))
    resource = f"/subscriptions/{SUBSCRIPTION}/resourcegroups/rg-eu/providers/Microsoft.Network/networkSecurityGroups/nsg{n}"
    event.update(eventDataId=data_id, eventTimestamp=stamp(when), submissionTimestamp=stamp(when + timedelta(seconds=20)),
                 subscriptionId=SUBSCRIPTION, resourceId=resource, id=f"{resource}/events/{data_id}/ticks/{n}",
                 operationName={"value": operation, "localizedValue": operation},
                 status={"value": status, "localizedValue": status})
    event["authorization"] = {**event["authorization"], "scope": resource, "action": operation}
    return event


def json_lines(records: list[dict[str, Any]]) -> bytes:
    """How Azure Monitor writes PT1H.json: one compact record per line."""
    return b"".join(json.dumps(r, separators=(",", ":")).encode() + b"\n" for r in records)


def export_name(resource_id: str, hour: datetime) -> str:
    return f"resourceId={resource_id}/y={hour:%Y}/m={hour:%m}/d={hour:%d}/h={hour:%H}/m=00/PT1H.json"


# -- Azurite --------------------------------------------------------------------------------------------

def azurite_binary() -> str:
    candidates = [os.environ.get("AZURITE_BLOB"), str(REPO / ".ci" / "azurite" / "node_modules" / ".bin" / "azurite-blob"),
                  shutil.which("azurite-blob")]
    for candidate in candidates:
        if candidate and Path(candidate).is_file():
            return candidate
    pytest.fail("Azurite is not installed: run `npm ci --prefix .ci/azurite` (bash .ci/run does)", pytrace=False)


def _wait_for_port(port: int, process: subprocess.Popen, log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"Azurite exited with code {process.returncode}: {log.read_text()[-2000:]}")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"Azurite did not listen on 127.0.0.1:{port} within {timeout:.0f} s")


@pytest.fixture(scope="session")
def azurite(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Azurite's blob service on a free port on 127.0.0.1, in memory; yields the account URL."""
    port = free_port()
    workspace = tmp_path_factory.mktemp("azurite")
    log = open(workspace / "azurite.log", "wb")  # noqa: SIM115 (open for the server's lifetime)
    # --skipApiVersionCheck: the SDK speaks a newer storage API version than Azurite knows.
    process = subprocess.Popen(
        [azurite_binary(), "--blobHost", "127.0.0.1", "--blobPort", str(port), "--inMemoryPersistence",
         "--skipApiVersionCheck", "--disableTelemetry", "--silent"],
        stdout=log, stderr=subprocess.STDOUT, cwd=workspace)
    try:
        _wait_for_port(port, process, workspace / "azurite.log")
        yield f"http://127.0.0.1:{port}/{AZURITE_ACCOUNT}"
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def connection_string(account_url: str, key: str = AZURITE_KEY) -> str:
    return (f"DefaultEndpointsProtocol=http;AccountName={AZURITE_ACCOUNT};AccountKey={key};"
            f"BlobEndpoint={account_url};")


@pytest.fixture
def storage_account(azurite: str) -> Any:
    """A BlobServiceClient on Azurite with no containers left from earlier tests."""
    from azure.storage.blob import BlobServiceClient

    service = BlobServiceClient.from_connection_string(connection_string(azurite))
    for container in service.list_containers():
        service.delete_container(container.name)
    return service


def put_export(service: Any, container: str, name: str, records: list[dict[str, Any]], *, append: bool = True) -> bytes:
    """Write an export blob as Azure Monitor does: an append blob (or a block blob) of JSON lines."""
    client = service.get_container_client(container)
    if not client.exists():
        client.create_container()
    data = json_lines(records)
    blob = client.get_blob_client(name)
    if append:
        blob.create_append_blob()
        blob.append_block(data)
    else:
        blob.upload_blob(data, overwrite=True)
    return data


def append_export(service: Any, container: str, name: str, records: list[dict[str, Any]]) -> bytes:
    data = json_lines(records)
    service.get_container_client(container).get_blob_client(name).append_block(data)
    return data


# -- the Activity Log REST API over HTTPS ---------------------------------------------------------------

def self_signed_certificate(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 (and localhost), made here; returns (cert.pem, key.pem)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sovaudit test ARM")])
    now = datetime.now(UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - timedelta(minutes=5))
            .not_valid_after(now + timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                                                        x509.DNSName("localhost")]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = directory / "arm-cert.pem", directory / "arm-key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


_FILTER = re.compile(r"eventTimestamp ge '([^']+)' and eventTimestamp le '([^']+)'")
ACTIVITY_PATH = f"/subscriptions/{SUBSCRIPTION}/providers/Microsoft.Insights/eventtypes/management/values"


class ActivityLogServer:
    """GET …/eventtypes/management/values with $filter on eventTimestamp, newest first, `page_size` a page,
    `nextLink` to the next. `canned` maps a request number (0-based) to a (status, headers, body) answer
    given instead. Every request is kept in `requests`; every page served, as bytes, in `served`."""

    def __init__(self, events: list[dict[str, Any]], page_size: int, cert: tuple[Path, Path],
                 canned: dict[int, tuple[int, dict[str, str], dict[str, Any]]] | None = None):
        self.events = events
        self.page_size = page_size
        self.canned = dict(canned or {})
        self.requests: list[dict[str, Any]] = []
        self.served: list[bytes] = []
        self._lock = threading.Lock()
        self._server = LocalServer(self._handler(), "activity-log", cert=cert)
        self.url = self._server.url

    def start(self) -> "ActivityLogServer":
        self._server.start()
        return self

    def stop(self) -> None:
        self._server.stop()

    def _answer(self, path: str, query: dict[str, list[str]], headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        with self._lock:
            number = len(self.requests)
            self.requests.append({"path": path, "query": query, "authorization": headers.get("authorization")})
            if number in self.canned:
                status, extra, body = self.canned[number]
                return status, extra, json.dumps(body).encode()
            if path != ACTIVITY_PATH:
                return 404, {}, json.dumps({"error": {"code": "SubscriptionNotFound",
                                                      "message": f"no subscription at {path}"}}).encode()
            window = _FILTER.search(query.get("$filter", [""])[0])
            if not window:
                return 400, {}, json.dumps({"error": {"code": "BadRequest", "message": "$filter needs eventTimestamp ge and le"}}).encode()
            start, end = (datetime.fromisoformat(t.replace("Z", "+00:00")) for t in window.groups())
            chosen = sorted((e for e in self.events
                             if start <= datetime.fromisoformat(e["eventTimestamp"][:26] + "+00:00") <= end),
                            key=lambda e: e["eventTimestamp"], reverse=True)
            offset = int(query.get("$skiptoken", ["0"])[0])
            page: dict[str, Any] = {"value": chosen[offset:offset + self.page_size]}
            if offset + self.page_size < len(chosen):
                next_query = {"api-version": query["api-version"][0], "$filter": query["$filter"][0],
                              "$skiptoken": str(offset + self.page_size)}
                page["nextLink"] = f"{self.url}{path}?{urlencode(next_query)}"
            body = json.dumps(page).encode()
            self.served.append(body)
            return 200, {}, body

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        answer = self._answer

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                parts = urlsplit(self.path)
                status, extra, data = answer(parts.path, parse_qs(parts.query),
                                             {k.lower(): v for k, v in self.headers.items()})
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.send_header("x-ms-request-id", str(uuid.uuid4()))
                for name, value in extra.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass

        return Handler


class StaticTokenCredential:
    """The one stand-in: a credential that hands out a fixed bearer token (no Azure AD here)."""

    def __init__(self, token: str = "test-token", error: str | None = None):
        self.token, self.error = token, error
        self.calls = 0

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        self.calls += 1
        if self.error:
            raise ClientAuthenticationError(self.error)
        return AccessToken(self.token, int(time.time()) + 3600)

    def get_token_info(self, *scopes: str, options: Any = None) -> Any:
        from azure.core.credentials import AccessTokenInfo

        token = self.get_token(*scopes)
        return AccessTokenInfo(token.token, token.expires_on)


@pytest.fixture(scope="session")
def arm_certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return self_signed_certificate(tmp_path_factory.mktemp("arm-tls"))


@pytest.fixture
def activity_server(arm_certificate: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
                    ) -> Iterator[Callable[..., ActivityLogServer]]:
    """Factory: `activity_server(events, page_size, canned={...})`; the SDK trusts its certificate through
    REQUESTS_CA_BUNDLE, as it would a private CA's."""
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(arm_certificate[0]))
    started: list[ActivityLogServer] = []

    def start(events: list[dict[str, Any]], page_size: int,
              canned: dict[int, tuple[int, dict[str, str], dict[str, Any]]] | None = None) -> ActivityLogServer:
        server = ActivityLogServer(events, page_size, arm_certificate, canned).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


def recent(days: float = 2, *, hour: int | None = None) -> datetime:
    base = datetime.now(UTC) - timedelta(days=days)
    return base.replace(minute=0, second=0, microsecond=0, **({"hour": hour} if hour is not None else {}))

