"""One clear line for an AWS failure. Messages never carry credentials, only codes and names."""

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    EndpointConnectionError,
    NoCredentialsError,
    ProfileNotFound,
)

_EXPIRED = {"ExpiredToken", "ExpiredTokenException", "RequestExpired", "TokenRefreshRequired"}
_DENIED = {"AccessDenied", "AccessDeniedException", "InvalidAccessKeyId", "SignatureDoesNotMatch",
           "UnrecognizedClientException", "InvalidClientTokenId"}


def describe_aws_error(exc: Exception, where: str) -> str:
    if isinstance(exc, ClientError):
        code = exc.response.get("Error", {}).get("Code", "Unknown")
        message = exc.response.get("Error", {}).get("Message", "")
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
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
