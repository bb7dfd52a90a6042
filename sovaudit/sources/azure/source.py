"""Azure Monitor as three `Source`s: the Activity Log API (azure-activity), diagnostic exports in a storage account
(azure-storage) and local exports (azure). All three write the azure_activity and azure_resource tables."""

import os
from datetime import UTC, datetime
from typing import Any

from sovaudit.errors import UsageError
from sovaudit.sources.azure.config import (
    AzureActivitySourceConfig,
    AzureFilesSourceConfig,
    AzureSourceConfig,
    AzureStorageSourceConfig,
)
from sovaudit.sources.azure.preparer import AzurePreparer
from sovaudit.sources.base import BaseSource, Items, PullContext


class _AzureMonitorSource(BaseSource):
    tables = AzurePreparer.tables

    def preparer(self, spec: AzureSourceConfig) -> AzurePreparer:
        return AzurePreparer(spec.locations)

    def register_command(self, pull_app, pull) -> None:
        from sovaudit.sources.azure.command import COMMANDS

        COMMANDS[self.type](pull_app, pull)


class AzureFilesSource(_AzureMonitorSource):
    type = "azure"
    config = AzureFilesSourceConfig

    def items(self, spec: AzureFilesSourceConfig, context: PullContext) -> Items:
        from sovaudit.sources.local_files import local_blobs

        yield from local_blobs(spec.path, "Azure Monitor")


class AzureActivitySource(_AzureMonitorSource):
    type = "azure-activity"
    config = AzureActivitySourceConfig

    def where(self, record: dict[str, Any]) -> str | None:
        return record.get("subscription")

    def items(self, spec: AzureActivitySourceConfig, context: PullContext) -> Items:
        # Imported here (as in every source) so that loading the registry does not load the Azure SDK.
        from sovaudit.sources.azure.activity import (
            PUBLIC_CLOUD,
            ActivityLogSource,
            activity_window,
            last_pulled_until,
            make_monitor_client,
        )
        from sovaudit.sources.azure.credentials import default_credential

        def warn_and_note(message: str) -> None:
            context.notes.append(message)
            context.warn(message)

        start, end = activity_window(context.since, context.until,
                                     last_pulled_until(context.ledger_entries(), spec.subscription),
                                     datetime.now(UTC), warn_and_note)
        client = make_monitor_client(default_credential(spec.tenant_id, spec.client_id), spec.subscription,
                                     spec.endpoint)
        where = f"azure activity log of subscription {spec.subscription} at {spec.endpoint or PUBLIC_CLOUD}"
        yield from ActivityLogSource(client, spec.subscription, start, end, where).blobs()


class AzureStorageSource(_AzureMonitorSource):
    type = "azure-storage"
    config = AzureStorageSourceConfig

    def where(self, record: dict[str, Any]) -> str | None:
        return record.get("account_url")

    def ledger_record(self, spec: AzureStorageSourceConfig) -> dict[str, Any]:
        from sovaudit.sources.azure.storage import public_url

        record = spec.ledger_record()
        record["account_url"] = public_url(record["account_url"])  # a SAS in the URL is a credential
        return record

    def items(self, spec: AzureStorageSourceConfig, context: PullContext) -> Items:
        from sovaudit.sources.azure.credentials import (
            STORAGE_SCOPE,
            default_credential,
            quiet_sdk_logging,
            signed_in,
        )
        from sovaudit.sources.azure.storage import (
            StorageExportSource,
            make_service_client,
            public_url,
            seen_export_blobs,
        )

        quiet_sdk_logging()
        account = public_url(spec.account_url)
        credential = None
        connection_string = _connection_string(spec)
        if connection_string is None and "?" not in spec.account_url:
            credential = signed_in(default_credential(spec.tenant_id, spec.client_id), STORAGE_SCOPE, account)
        service = make_service_client(spec.account_url, connection_string, credential)
        source = StorageExportSource(service, account, spec.containers, context.since, context.until,
                                     seen=seen_export_blobs(context.ledger_entries(), account))
        yield from source.blobs()
        notes = context.notes
        if source.skipped_unchanged:
            notes.append(f"{source.skipped_unchanged} blob(s) already ingested (same etag) were not fetched")
        if source.resumed:
            notes.append(f"{source.resumed} append blob(s) that grew were read from where the last pull stopped")
        if source.missing:
            notes.append(f"no container {', '.join(source.missing)} in {account}: those logs are not exported there")


def _connection_string(spec: AzureStorageSourceConfig) -> str | None:
    if not spec.connection_string_env:
        return None
    value = os.environ.get(spec.connection_string_env)
    if not value:
        raise UsageError(f"source {spec.name}: environment variable {spec.connection_string_env} "
                         "(--connection-string-env) is not set or empty")
    return value
