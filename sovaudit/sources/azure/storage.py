"""Azure Monitor diagnostic exports in a storage account (azure-storage-blob), incremental by etag and length.

Layout: <container>/resourceId=/SUBSCRIPTIONS/<id>/…/y=YYYY/m=MM/d=DD/h=HH/m=00/PT1H.json, JSON lines,
appended to during the hour. A blob seen before is skipped when its etag is unchanged; an append blob
that grew is read from the byte where the last pull stopped, so no record is read twice.
"""

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from azure.core import MatchConditions
from azure.core.exceptions import (
    AzureError,
    ClientAuthenticationError,
    ResourceNotFoundError,
    ServiceRequestError,
)

from sovaudit.errors import SourceError, UsageError
from sovaudit.ingest.blobs import FailedInput, ListingDone, RawBlob
from sovaudit.sources.azure.errors import describe_azure_error
from sovaudit.sources.fetching import fetch_in_order

EXPORT_CONTAINERS = ("insights-activity-logs", "insights-logs-auditevent", "insights-logs-storageread",
                     "insights-logs-storagewrite", "insights-logs-storagedelete")
_HOUR_PATH = re.compile(r"/y=(\d{4})/m=(\d{2})/d=(\d{2})/h=(\d{2})/")
_YEAR_DIR = re.compile(r"y=\d{4}/")


def public_url(account_url: str) -> str:
    """The account URL without a query (a SAS token) or user info: what the ledger may record."""
    parts = urlsplit(account_url)
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path.rstrip("/"), "", ""))


def _connection_string_credential(text: str) -> Any:
    from azure.core.credentials import AzureNamedKeyCredential, AzureSasCredential

    fields = dict(part.split("=", 1) for part in text.split(";") if "=" in part)
    if fields.get("AccountName") and fields.get("AccountKey"):
        return AzureNamedKeyCredential(fields["AccountName"], fields["AccountKey"])
    if fields.get("SharedAccessSignature"):
        return AzureSasCredential(fields["SharedAccessSignature"])
    raise UsageError("the connection string has neither AccountName/AccountKey nor SharedAccessSignature")


def make_service_client(account_url: str, connection_string: str | None, credential: Any) -> Any:
    """A BlobServiceClient: the connection string's key or SAS, a SAS in the URL, or the given credential."""
    from azure.storage.blob import BlobServiceClient, ExponentialRetry

    if connection_string:
        credential = _connection_string_credential(connection_string)
    elif urlsplit(account_url).query:
        credential = None  # the SAS token in the URL is the credential
    # Three retries for throttling and 5xx, after about 3, 5 and 9 s; a refused connection is retried once,
    # so an unreachable account fails within seconds instead of the SDK's default minute.
    retry = ExponentialRetry(initial_backoff=1, increment_base=2, retry_total=3, retry_connect=1)
    return BlobServiceClient(account_url, credential=credential, retry_policy=retry, connection_timeout=10,
                             read_timeout=120)


def _hour_of(name: str) -> datetime | None:
    match = _HOUR_PATH.search(name)
    if not match:
        return None
    try:
        return datetime(*map(int, match.groups()), tzinfo=UTC)
    except ValueError:
        return None


def _days(since: datetime, until: datetime) -> list[datetime]:
    day, out = since.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0), []
    while day < until:
        out.append(day)
        day += timedelta(days=1)
    return out


@dataclass
class _Planned:
    container: str
    name: str
    etag: str
    size: int
    offset: int  # first byte to read: 0, or where the last pull of a grown append blob stopped


class StorageExportSource:
    def __init__(self, service: Any, account: str, containers: list[str], since: datetime | None,
                 until: datetime | None, seen: dict[tuple[str, str], tuple[str, int]] | None = None,
                 workers: int = 4):
        self.service = service
        self.account = account
        # The export containers by default, where a missing one only means that category is not exported.
        self.containers_named = bool(containers)
        self.containers = list(containers) or list(EXPORT_CONTAINERS)
        self.missing: list[str] = []
        self.since, self.until = since, until
        self.seen = seen or {}
        self.workers = workers
        self.skipped_unchanged = 0
        self.resumed = 0

    # -- listing, pruned by the y=/m=/d=/h= path ------------------------------------------------------

    def _resource_roots(self, container: Any, prefix: str) -> Iterator[str]:
        """Prefixes whose children are y=YYYY/ folders: one per resource (or subscription)."""
        from azure.storage.blob import BlobPrefix

        children = [item.name for item in container.walk_blobs(name_starts_with=prefix, delimiter="/")
                    if isinstance(item, BlobPrefix)]
        if any(_YEAR_DIR.fullmatch(child[len(prefix):]) for child in children):
            yield prefix
            return
        for child in children:
            yield from self._resource_roots(container, child)

    def _in_window(self, name: str) -> bool:
        hour = _hour_of(name)
        if hour is None:
            return self.since is None and self.until is None
        return (self.until is None or hour < self.until) and (self.since is None or hour + timedelta(hours=1) > self.since)

    def _listing(self, container: Any) -> Iterator[Any]:
        if self.since is None:
            candidates = container.list_blobs()
        else:
            until = self.until or datetime.now(UTC)
            candidates = (blob for root in self._resource_roots(container, "resourceId=/")
                          for day in _days(self.since, until)
                          for blob in container.list_blobs(name_starts_with=f"{root}y={day:%Y}/m={day:%m}/d={day:%d}/"))
        for blob in candidates:
            if blob.name.endswith(".json") and self._in_window(blob.name):
                yield blob

    def _plan(self, container: str, blob: Any) -> _Planned | None:
        etag, size = blob.etag.strip('"'), blob.size
        before = self.seen.get((container, blob.name))
        if before and before[0] == etag:
            self.skipped_unchanged += 1
            return None
        offset = 0
        if before and getattr(blob.blob_type, "value", blob.blob_type) == "AppendBlob" and size > before[1]:
            offset = before[1]
            self.resumed += 1
        return _Planned(container, blob.name, etag, size, offset)

    # -- fetching -----------------------------------------------------------------------------------

    def _fetch(self, item: _Planned) -> RawBlob | FailedInput:
        origin = {"kind": "azure_blob", "account": self.account, "container": item.container, "name": item.name,
                  "etag": item.etag, "offset": item.offset, "end": item.size}
        label = f"{self.account}/{item.container}/{item.name}" + (f" (bytes {item.offset}-)" if item.offset else "")
        try:
            download = self.service.get_container_client(item.container).download_blob(
                item.name, offset=item.offset, length=item.size - item.offset, etag=item.etag,
                match_condition=MatchConditions.IfNotModified)
            data = download.readall()
        except AzureError as exc:
            return FailedInput(origin, label, describe_azure_error(exc, label))
        if len(data) != item.size - item.offset:
            return FailedInput(origin, label, f"{label}: read {len(data)} of {item.size - item.offset} bytes")
        return RawBlob(data, origin, label)

    def blobs(self) -> Iterator[RawBlob | FailedInput | ListingDone]:
        pending: list[_Planned] = []
        failed: list[FailedInput] = []
        for name in self.containers:
            where = f"{self.account}/{name}"
            try:
                for blob in self._listing(self.service.get_container_client(name)):
                    planned = self._plan(name, blob)
                    if planned:
                        pending.append(planned)
            except (ServiceRequestError, ClientAuthenticationError) as exc:
                # Unreachable, or no token at all: the other containers would fail the same way.
                raise SourceError(describe_azure_error(exc, where)) from None
            except ResourceNotFoundError as exc:
                if self.containers_named:
                    failed.append(FailedInput({"kind": "azure_container", "account": self.account, "container": name},
                                              where, describe_azure_error(exc, where)))
                else:
                    self.missing.append(name)
            except AzureError as exc:
                failed.append(FailedInput({"kind": "azure_container", "account": self.account, "container": name},
                                          where, describe_azure_error(exc, where)))
        if failed and len(failed) == len(self.containers):
            raise SourceError("; ".join(f.error for f in failed))
        yield ListingDone(len(pending))
        yield from failed
        yield from fetch_in_order(self._fetch, pending, self.workers)


def seen_export_blobs(entries: list[dict[str, Any]], account: str) -> dict[tuple[str, str], tuple[str, int]]:
    """(container, name) -> (etag, bytes read up to) of the last pull that read each blob."""
    seen: dict[tuple[str, str], tuple[str, int]] = {}
    for entry in entries:
        for item in entry.get("inputs", []):
            if item.get("kind") == "azure_blob" and item.get("account") == account and item.get("status") != "failed":
                seen[(item["container"], item["name"])] = (item["etag"], item["end"])
    return seen
