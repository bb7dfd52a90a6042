"""Azure credentials for a source: DefaultAzureCredential, with the tenant and client the config names, and a
failed sign-in as one line per source."""

import logging
from typing import Any

from sovaudit.errors import SourceError

# The token scope of Blob Storage in every cloud, as the storage SDK asks for it by default.
STORAGE_SCOPE = "https://storage.azure.com/.default"


def default_credential(tenant_id: str | None = None, client_id: str | None = None) -> Any:
    """The credential chain Azure tools use (environment, workload identity, managed identity, `az login`, …).

    A configured tenant and client narrow it: the client id selects a user-assigned managed or workload
    identity, the tenant is where every credential in the chain asks for its token.
    """
    from azure.identity import DefaultAzureCredential

    kwargs: dict[str, Any] = {}
    if client_id:
        kwargs.update(managed_identity_client_id=client_id, workload_identity_client_id=client_id)
    if tenant_id:
        kwargs.update(workload_identity_tenant_id=tenant_id, shared_cache_tenant_id=tenant_id,
                      visual_studio_code_tenant_id=tenant_id, interactive_browser_tenant_id=tenant_id,
                      additionally_allowed_tenants=[tenant_id])
    quiet_sdk_logging()
    return DefaultAzureCredential(**kwargs)


def quiet_sdk_logging() -> None:
    """The Azure SDK logs a failed sign-in as a warning of fifteen lines (every credential it tried) on stderr,
    once for each retry of each request; sovaudit says what went wrong in its own one line. Its errors still
    show."""
    logging.getLogger("azure").setLevel(logging.ERROR)


def signed_in(credential: Any, scope: str, where: str) -> Any:
    """Ask for a token once, before the first request: a refused, expired or missing sign-in is then one error
    for the source, instead of one per request, each retried with back-off by the storage SDK."""
    from azure.core.exceptions import ClientAuthenticationError

    from sovaudit.sources.azure.errors import describe_azure_error

    try:
        credential.get_token(scope)
    except ClientAuthenticationError as exc:
        raise SourceError(describe_azure_error(exc, where)) from None
    return credential
