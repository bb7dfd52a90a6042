"""`sovaudit pull azure-activity`, `pull azure-storage` and `pull azure`."""

from typing import Annotated

import typer

from sovaudit.cli_options import ConfigOpt, FormatOpt, LakeOpt, LockOpt, SinceOpt, UntilOpt
from sovaudit.sources.base import PullCommand

TenantOpt = Annotated[str | None, typer.Option("--tenant-id", help="Azure AD tenant to sign in to.")]
ClientOpt = Annotated[str | None, typer.Option("--client-id", help="Client id of a user-assigned managed or "
                                               "workload identity.")]


def register_azure_activity(pull_app: typer.Typer, pull: PullCommand) -> None:
    @pull_app.command("azure-activity")
    def pull_azure_activity(
        subscription: Annotated[str, typer.Option("--subscription", help="Subscription id (a GUID).")],
        endpoint: Annotated[str | None, typer.Option("--endpoint", help="Azure Resource Manager URL of another "
                                                     "cloud.")] = None,
        tenant_id: TenantOpt = None, client_id: ClientOpt = None,
        since: SinceOpt = None, until: UntilOpt = None, lake: LakeOpt = None, config: ConfigOpt = None,
        fmt: FormatOpt = "table", lock_timeout: LockOpt = 60.0,
    ) -> None:
        """Pull the Azure activity log through its REST API (the last 90 days), signed in with DefaultAzureCredential.

        Without --since it goes on from where the last pull of the subscription ended.

        Example: [cyan]sovaudit pull azure-activity --subscription 00000000-0000-0000-0000-000000000000 --since 7d[/cyan]
        """
        pull("azure-activity", {"subscription": subscription, "endpoint": endpoint, "tenant_id": tenant_id,
                                "client_id": client_id},
             since=since, until=until, lake=lake, config=config, fmt=fmt, lock_timeout=lock_timeout)


def register_azure_storage(pull_app: typer.Typer, pull: PullCommand) -> None:
    @pull_app.command("azure-storage")
    def pull_azure_storage(
        account_url: Annotated[str, typer.Option("--account-url", help="https://ACCOUNT.blob.core.windows.net (a "
                                                 "SAS may follow ?).")],
        container: Annotated[list[str] | None, typer.Option("--container", help="Export containers (default: the "
                                                            "five insights-* ones).")] = None,
        connection_string_env: Annotated[str | None, typer.Option("--connection-string-env", help="Name of the "
                                                                  "environment variable holding a connection "
                                                                  "string.")] = None,
        tenant_id: TenantOpt = None, client_id: ClientOpt = None,
        since: SinceOpt = None, until: UntilOpt = None, lake: LakeOpt = None, config: ConfigOpt = None,
        fmt: FormatOpt = "table", lock_timeout: LockOpt = 60.0,
    ) -> None:
        """Pull Azure Monitor diagnostic exports (activity log, Key Vault, Storage) from a storage account.

        Reads resourceId=/…/y=YYYY/m=MM/d=DD/h=HH/m=00/PT1H.json, pruned to --since/--until, incremental by etag;
        an append blob that grew is read from where the last pull stopped.

        Example: [cyan]AZ_LOGS="…" sovaudit pull azure-storage --account-url https://logs.blob.core.windows.net --connection-string-env AZ_LOGS --since 7d[/cyan]
        """
        pull("azure-storage", {"account_url": account_url, "containers": container,
                               "connection_string_env": connection_string_env, "tenant_id": tenant_id,
                               "client_id": client_id},
             since=since, until=until, lake=lake, config=config, fmt=fmt, lock_timeout=lock_timeout)


def register_azure(pull_app: typer.Typer, pull: PullCommand) -> None:
    @pull_app.command("azure")
    def pull_azure_files(
        path: Annotated[str, typer.Option("--path", help="Directory (walked recursively), file or glob.")],
        since: SinceOpt = None, until: UntilOpt = None, lake: LakeOpt = None, config: ConfigOpt = None,
        fmt: FormatOpt = "table", lock_timeout: LockOpt = 60.0,
    ) -> None:
        """Pull Azure Monitor logs from local files: JSON lines, {"records": [...]} exports or REST {"value": [...]} pages.

        Example: [cyan]sovaudit pull azure --path ./azure-exports/[/cyan]
        """
        pull("azure", {"path": path},
             since=since, until=until, lake=lake, config=config, fmt=fmt, lock_timeout=lock_timeout)


# Each source type's command, by type (its Source's register_command looks it up).
COMMANDS = {
    "azure-activity": register_azure_activity,
    "azure-storage": register_azure_storage,
    "azure": register_azure,
}
