"""The Azure side of `pull`: which blobs each Azure source type yields, and what the ledger says about it."""

import os
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

from sovaudit.config import AzureActivitySourceConfig, AzureFilesSourceConfig, AzureStorageSourceConfig
from sovaudit.errors import UsageError
from sovaudit.ingest.azure_blob import AzurePreparer
from sovaudit.ingest.blobs import FailedInput, ListingDone, RawBlob
from sovaudit.lake import Lake
from sovaudit.sources.azure_activity import (
    PUBLIC_CLOUD,
    ActivityLogSource,
    activity_window,
    last_pulled_until,
    make_monitor_client,
)
from sovaudit.sources.azure_credentials import default_credential
from sovaudit.sources.azure_storage import (
    StorageExportSource,
    make_service_client,
    public_url,
    seen_export_blobs,
)
from sovaudit.sources.local_files import local_blobs

AzureSourceConfig = AzureActivitySourceConfig | AzureStorageSourceConfig | AzureFilesSourceConfig
Items = Iterator[RawBlob | FailedInput | ListingDone]


def azure_preparer(spec: AzureSourceConfig) -> AzurePreparer:
    return AzurePreparer(spec.locations)


def azure_source_record(spec: AzureSourceConfig) -> dict[str, Any]:
    """What the ledger says about the source: its settings, never a credential (a SAS in the URL is cut)."""
    record = {k: v for k, v in spec.model_dump(exclude={"since", "until"}).items() if v not in (None, [], {})}
    if "account_url" in record:
        record["account_url"] = public_url(record["account_url"])
    return record


def _connection_string(spec: AzureStorageSourceConfig) -> str | None:
    if not spec.connection_string_env:
        return None
    value = os.environ.get(spec.connection_string_env)
    if not value:
        raise UsageError(f"source {spec.name}: environment variable {spec.connection_string_env} "
                         "(--connection-string-env) is not set or empty")
    return value


def azure_items(spec: AzureSourceConfig, lake: Lake, since: datetime | None, until: datetime | None,
                notes: list[str], warn: Callable[[str], None]) -> Items:
    if isinstance(spec, AzureFilesSourceConfig):
        yield from local_blobs(spec.path, "Azure Monitor")
    elif isinstance(spec, AzureActivitySourceConfig):
        yield from _activity_items(spec, lake, since, until, notes, warn)
    else:
        yield from _storage_items(spec, lake, since, until, notes)


def _activity_items(spec: AzureActivitySourceConfig, lake: Lake, since: datetime | None, until: datetime | None,
                    notes: list[str], warn: Callable[[str], None]) -> Items:
    def warn_and_note(message: str) -> None:
        notes.append(message)
        warn(message)

    now = datetime.now(UTC)
    start, end = activity_window(since, until, last_pulled_until(lake.ledger.entries(), spec.subscription), now,
                                 warn_and_note)
    client = make_monitor_client(default_credential(spec.tenant_id, spec.client_id), spec.subscription,
                                 spec.endpoint)
    where = f"azure activity log of subscription {spec.subscription} at {spec.endpoint or PUBLIC_CLOUD}"
    yield from ActivityLogSource(client, spec.subscription, start, end, where).blobs()


def _storage_items(spec: AzureStorageSourceConfig, lake: Lake, since: datetime | None, until: datetime | None,
                   notes: list[str]) -> Items:
    account = public_url(spec.account_url)
    credential = None
    connection_string = _connection_string(spec)
    if connection_string is None and "?" not in spec.account_url:
        credential = default_credential(spec.tenant_id, spec.client_id)
    service = make_service_client(spec.account_url, connection_string, credential)
    source = StorageExportSource(service, account, spec.containers, since, until,
                                 seen=seen_export_blobs(lake.ledger.entries(), account))
    yield from source.blobs()
    if source.skipped_unchanged:
        notes.append(f"{source.skipped_unchanged} blob(s) already ingested (same etag) were not fetched")
    if source.resumed:
        notes.append(f"{source.resumed} append blob(s) that grew were read from where the last pull stopped")
    if source.missing:
        notes.append(f"no container {', '.join(source.missing)} in {account}: those logs are not exported there")


_FLAG_MODELS = {"azure-activity": AzureActivitySourceConfig, "azure-storage": AzureStorageSourceConfig,
                "azure": AzureFilesSourceConfig}


def azure_source_from_flags(source_type: str, **flags: Any) -> AzureSourceConfig:
    """The config entry that `sovaudit pull <source_type>` flags describe."""
    from pydantic import ValidationError

    given = {k: v for k, v in flags.items() if v not in (None, [], {})}
    try:
        return _FLAG_MODELS[source_type](name="cli", type=source_type, **given)
    except ValidationError as exc:
        problems = "; ".join(f"--{str(e['loc'][-1]).replace('_', '-')}: {e['msg'].removeprefix('Value error, ')}"
                             for e in exc.errors())
        raise UsageError(f"pull {source_type}: {problems}") from None
