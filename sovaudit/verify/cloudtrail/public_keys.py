"""CloudTrail's digest-signing public keys, from the ListPublicKeys API of the trail's home region."""

import base64
import binascii
from collections.abc import Callable
from datetime import datetime
from typing import Any, Protocol

from botocore.exceptions import BotoCoreError, ClientError
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from sovaudit.sources.cloudtrail.aws_errors import describe_aws_error
from sovaudit.sources.cloudtrail.aws_session import make_client


class PublicKeyError(Exception):
    """The keys of a region could not be fetched; the message names the region and the AWS error."""


class PublicKeySource(Protocol):
    def keys(self, region: str, start: datetime, end: datetime) -> dict[str, rsa.RSAPublicKey]: ...


def load_public_key(value: bytes | str) -> rsa.RSAPublicKey:
    """A ListPublicKeys `Value`: DER (PKCS#1 RSAPublicKey or SubjectPublicKeyInfo). The API base64-encodes the
    DER once more inside the blob boto3 already decodes (aws-cli base64-decodes it again), so accept both."""
    raw = value.encode() if isinstance(value, str) else value
    try:
        raw = base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError):
        pass
    key = serialization.load_der_public_key(raw)
    if not isinstance(key, rsa.RSAPublicKey):
        raise ValueError("not an RSA public key")
    return key


class CloudTrailPublicKeys:
    """ListPublicKeys per region, cached; `client_for(region)` makes the CloudTrail client."""

    def __init__(self, client_for: Callable[[str], Any]):
        self.client_for = client_for
        self._cache: dict[tuple[str, datetime, datetime], dict[str, rsa.RSAPublicKey]] = {}

    @classmethod
    def from_settings(cls, *, profile: str | None = None, role_arn: str | None = None,
                      endpoint_url: str | None = None) -> "CloudTrailPublicKeys":
        return cls(lambda region: make_client("cloudtrail", region=region, profile=profile, role_arn=role_arn,
                                              endpoint_url=endpoint_url))

    def keys(self, region: str, start: datetime, end: datetime) -> dict[str, rsa.RSAPublicKey]:
        cached = self._cache.get((region, start, end))
        if cached is not None:
            return cached
        found: dict[str, rsa.RSAPublicKey] = {}
        try:
            client = self.client_for(region)
            request: dict[str, Any] = {"StartTime": start, "EndTime": end}
            while True:
                page = client.list_public_keys(**request)
                for item in page.get("PublicKeyList", []):
                    try:
                        found[item["Fingerprint"]] = load_public_key(item["Value"])
                    except (KeyError, ValueError):
                        continue  # a key we cannot load verifies nothing; digests naming it say so
                if not page.get("NextToken"):
                    break
                request["NextToken"] = page["NextToken"]
        except (ClientError, BotoCoreError) as exc:
            raise PublicKeyError(describe_aws_error(exc, f"CloudTrail ListPublicKeys in {region}")) from None
        self._cache[(region, start, end)] = found
        return found
