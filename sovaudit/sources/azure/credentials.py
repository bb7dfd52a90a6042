"""Azure credentials for a source: DefaultAzureCredential, with the tenant and client the config names."""

from typing import Any


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
    return DefaultAzureCredential(**kwargs)
