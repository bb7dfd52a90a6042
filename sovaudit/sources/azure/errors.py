"""One clear line for an Azure failure. Messages carry status codes and names, never credentials."""

from azure.core.exceptions import (
    AzureError,
    ClientAuthenticationError,
    HttpResponseError,
    ResourceNotFoundError,
    ServiceRequestError,
    ServiceResponseError,
)

try:
    from azure.identity import CredentialUnavailableError
except ImportError:  # pragma: no cover - azure-identity is a dependency
    CredentialUnavailableError = ClientAuthenticationError  # type: ignore[misc,assignment]


def _first_line(exc: Exception) -> str:
    text = str(getattr(exc, "message", None) or exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _code(exc: HttpResponseError) -> str | None:
    code = getattr(exc, "error_code", None) or getattr(getattr(exc, "error", None), "code", None)
    return getattr(code, "value", code)  # storage's codes are enum members


# How azure-identity's credentials say that they have nothing to sign in with (not that a sign-in failed).
_UNAVAILABLE = ("unavailable", "not found", "not installed", "could not be found", "requires", "not configured")


def _chain_attempts(exc: Exception) -> list[tuple[str, str]]:
    """DefaultAzureCredential's "Attempted credentials:" lines, (credential, what it said), in order: the chain
    stops at the first credential that tried and failed, so that one is last."""
    text = str(getattr(exc, "message", None) or exc)
    if "Attempted credentials:" not in text:
        return []
    attempts = []
    for line in text.split("Attempted credentials:", 1)[1].splitlines():
        name, sep, said = line.strip().partition(": ")
        if line.startswith("\t") and sep:
            attempts.append((name, said.removeprefix("ERROR: ").strip()))
    return attempts


def describe_azure_error(exc: Exception, where: str) -> str:
    """One line; every caller raises it as a SourceError or records it as a FailedInput, which redact it."""
    attempts = _chain_attempts(exc)
    unavailable = bool(attempts) and all(any(w in said.lower() for w in _UNAVAILABLE) for _, said in attempts)
    if isinstance(exc, CredentialUnavailableError) or unavailable:
        return (f"{where}: no Azure credentials found (DefaultAzureCredential: sign in with `az login`, or set "
                "AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET, or run with a managed identity)")
    if isinstance(exc, ClientAuthenticationError):
        status = getattr(exc, "status_code", None)
        code = _code(exc) if isinstance(exc, HttpResponseError) else None
        got = f"HTTP {status}" + (f" {code}" if code else "") if status else "no token"
        said = ": ".join(attempts[-1]) if attempts else _first_line(exc)
        return (f"{where}: Azure credentials were refused or have expired ({got}): {said.splitlines()[0].rstrip('.')}; "
                "sign in again (`az login`) or check the client's role assignment")
    if isinstance(exc, ResourceNotFoundError):
        return f"{where}: not found (HTTP 404 {_code(exc) or ''}): {_first_line(exc)}".replace(" )", ")")
    if isinstance(exc, (ServiceRequestError, ServiceResponseError)):
        return f"{where}: cannot reach the endpoint: {_first_line(exc)}"
    if isinstance(exc, HttpResponseError) and exc.status_code in (401, 403):
        return (f"{where}: access refused (HTTP {exc.status_code} {_code(exc) or ''}): {_first_line(exc)}; check the "
                "account key, SAS token or role assignment").replace(" )", ")")
    if isinstance(exc, HttpResponseError):
        return f"{where}: Azure error (HTTP {exc.status_code} {_code(exc) or ''}): {_first_line(exc)}".replace(" )", ")")
    if isinstance(exc, AzureError):
        return f"{where}: {type(exc).__name__}: {_first_line(exc)}"
    return f"{where}: {type(exc).__name__}: {exc}"
