"""A CloudTrail delivery with log file validation, built in moto S3 the way CloudTrail writes it, and a local
CloudTrail ListPublicKeys endpoint serving the test's own public key.

The string CloudTrail signs is rebuilt here from AWS's documentation, independently of sovaudit's code, so
that a mistake there cannot hide behind the same mistake here.
"""

import base64
import gzip
import hashlib
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aws_fixtures import cloudtrail_gz, log_key, make_records
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from local_http import LocalServer, json11_handler

LIST_PUBLIC_KEYS = "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.ListPublicKeys"
ACCOUNT, REGION, TRAIL = "111122223333", "eu-west-1", "org-trail"


class SigningKey:
    """An RSA key pair standing in for CloudTrail's regional signing key."""

    def __init__(self) -> None:
        self.private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.der = self.private.public_key().public_bytes(serialization.Encoding.DER,
                                                          serialization.PublicFormat.PKCS1)
        self.fingerprint = hashlib.md5(self.der).hexdigest()  # noqa: S324 (an identifier, as CloudTrail's is)

    def sign(self, message: bytes) -> str:
        return self.private.sign(message, padding.PKCS1v15(), hashes.SHA256()).hex()


def documented_string_to_sign(digest: dict[str, Any], uncompressed: bytes) -> bytes:
    previous = digest["previousDigestSignature"] if digest["previousDigestSignature"] is not None else "null"
    lines = [digest["digestEndTime"], f"{digest['digestS3Bucket']}/{digest['digestS3Object']}",
             hashlib.sha256(uncompressed).hexdigest(), previous]
    return "\n".join(lines).encode()


def digest_key(end: datetime, *, account: str = ACCOUNT, region: str = REGION, trail: str = TRAIL) -> str:
    return (f"AWSLogs/{account}/CloudTrail-Digest/{region}/{end:%Y/%m/%d}/"
            f"{account}_CloudTrail-Digest_{region}_{trail}_{region}_{end:%Y%m%dT%H%M%SZ}.json.gz")


@dataclass
class DeliveredDigest:
    key: str
    body: bytes
    document: dict[str, Any]
    signature: str
    logs: list[str]


@dataclass
class Delivery:
    bucket: str
    logs: dict[str, bytes] = field(default_factory=dict)  # key -> object bytes as delivered
    digests: list[DeliveredDigest] = field(default_factory=list)


def deliver_trail(s3: Any, bucket: str, key: SigningKey, *, hours: int = 3, start: datetime | None = None,
                  gap_before: int | None = None) -> Delivery:
    """`hours` hourly digests, each listing one new log file, chained by previousDigestSignature.
    `gap_before=n` makes digest n start a new chain, as after logging was stopped and started."""
    start = start or datetime(2024, 3, 5, 10, 0, tzinfo=UTC)
    delivery = Delivery(bucket)
    previous: DeliveredDigest | None = None
    for hour in range(hours):
        if hour == gap_before:
            start += timedelta(hours=5)  # logging was off: no digests, then a chain that starts afresh
        begin, end = start + timedelta(hours=hour), start + timedelta(hours=hour + 1)
        records = make_records(begin + timedelta(minutes=10), 4, account=ACCOUNT, region=REGION, tag=f"d{hour}")
        log = log_key(ACCOUNT, REGION, begin + timedelta(minutes=15), suffix=uuid.uuid4().hex[:16])
        log_body = cloudtrail_gz(records)
        s3.put_object(Bucket=bucket, Key=log, Body=log_body)
        delivery.logs[log] = log_body
        dkey = digest_key(end)
        chained = previous if previous is not None and gap_before != hour else None
        document = {
            "awsAccountId": ACCOUNT,
            "digestStartTime": begin.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "digestEndTime": end.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "digestS3Bucket": bucket,
            "digestS3Object": dkey,
            "digestPublicKeyFingerprint": key.fingerprint,
            "digestSignatureAlgorithm": "SHA256withRSA",
            "newestEventTime": records[-1]["eventTime"],
            "oldestEventTime": records[0]["eventTime"],
            "previousDigestS3Bucket": bucket if chained else None,
            "previousDigestS3Object": chained.key if chained else None,
            "previousDigestHashValue": hashlib.sha256(gzip.decompress(chained.body)).hexdigest() if chained else None,
            "previousDigestHashAlgorithm": "SHA-256" if chained else None,
            "previousDigestSignature": chained.signature if chained else None,
            "logFiles": [{
                "s3Bucket": bucket, "s3Object": log,
                "hashValue": hashlib.sha256(gzip.decompress(log_body)).hexdigest(), "hashAlgorithm": "SHA-256",
                "newestEventTime": records[-1]["eventTime"], "oldestEventTime": records[0]["eventTime"],
            }],
        }
        uncompressed = json.dumps(document).encode()
        signature = key.sign(documented_string_to_sign(document, uncompressed))
        body = gzip.compress(uncompressed, mtime=0)
        s3.put_object(Bucket=bucket, Key=dkey, Body=body,
                      Metadata={"signature": signature, "signature-algorithm": "SHA256withRSA"})
        previous = DeliveredDigest(dkey, body, document, signature, [log])
        delivery.digests.append(previous)
    return delivery


class PublicKeysServer:
    """CloudTrail's JSON 1.1 ListPublicKeys on 127.0.0.1. `Value` goes over the wire as CloudTrail sends it:
    the base64 text of the DER key, itself base64-encoded as every JSON blob is."""

    def __init__(self, keys: list[SigningKey], status: int = 200):
        self.keys = keys
        self.status = status
        self.requests: list[dict[str, Any]] = []
        self._server = LocalServer(json11_handler(self._answer), "list-public-keys")
        self.url = self._server.url

    def _answer(self, target: str | None, body: dict[str, Any], auth: str) -> tuple[int, dict[str, Any]]:
        self.requests.append({"target": target, "body": body, "region": auth.split("/")[2] if auth else None})
        if self.status != 200:
            return self.status, {"__type": "AccessDeniedException", "message": "not allowed to list public keys"}
        if target != LIST_PUBLIC_KEYS:
            return 400, {"__type": "UnknownOperationException", "message": f"unknown target {target}"}
        start = datetime(2020, 1, 1, tzinfo=UTC).timestamp()
        return 200, {"PublicKeyList": [
            {"Value": base64.b64encode(base64.b64encode(k.der)).decode(), "ValidityStartTime": start,
             "ValidityEndTime": start + 10 * 365 * 86400, "Fingerprint": k.fingerprint} for k in self.keys]}

    def __enter__(self) -> "PublicKeysServer":
        self._server.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.stop()


@pytest.fixture(scope="module")
def signing_key() -> SigningKey:
    return SigningKey()


@pytest.fixture
def key_server(signing_key: SigningKey) -> Iterator[PublicKeysServer]:
    with PublicKeysServer([signing_key]) as server:
        yield server
