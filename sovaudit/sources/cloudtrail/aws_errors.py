"""One clear line for an AWS failure. Messages never carry credentials, only codes and names."""

from http.client import responses

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    EndpointConnectionError,
    NoCredentialsError,
    ProfileNotFound,
)

from sovaudit.redact import redact

_EXPIRED = {"ExpiredToken", "ExpiredTokenException", "RequestExpired", "TokenRefreshRequired"}
_DENIED = {"AccessDenied", "AccessDeniedException", "InvalidAccessKeyId", "SignatureDoesNotMatch",
           "UnrecognizedClientException", "InvalidClientTokenId"}
MAX_MESSAGE = 300  # characters of the service's own message that a line keeps


def _service_message(exc: ClientError, code: str, status: int | None) -> str:
    """The first line of the error's message. When the body was not an AWS error (no error code in it), botocore's
    JSON protocols make the whole body the message, and an endpoint or proxy may echo the request's headers there:
    only the HTTP reason phrase is kept, as botocore's REST-XML parser (S3) does."""
    if code == str(status):
        return responses.get(status or 0, "")
    lines = str(exc.response.get("Error", {}).get("Message") or "").strip().splitlines()
    return redact(lines[0])[:MAX_MESSAGE] if lines else ""  # redacted before it is cut, or half a token survives


def describe_aws_error(exc: Exception, where: str) -> str:
    if isinstance(exc, ClientError):
        code = exc.response.get("Error", {}).get("Code", "Unknown")
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        message = _service_message(exc, code, status)
        if code in _EXPIRED:
            return f"{where}: AWS credentials have expired ({code}); refresh them and pull again"
        if code in _DENIED:
            return f"{where}: access denied ({code}): {message}".rstrip(": ")
        return f"{where}: AWS error {code} (HTTP {status}): {message}".rstrip(": ")
    if isinstance(exc, NoCredentialsError):
        return f"{where}: no AWS credentials found (set AWS_PROFILE, AWS_ACCESS_KEY_ID or use --profile)"
    if isinstance(exc, ProfileNotFound):
        return f"{where}: {exc}"
    if isinstance(exc, EndpointConnectionError):
        return f"{where}: cannot reach endpoint {exc.kwargs.get('endpoint_url', '')}".rstrip()
    if isinstance(exc, BotoCoreError):
        return f"{where}: {type(exc).__name__}: {exc}"
    return f"{where}: {type(exc).__name__}: {exc}"
