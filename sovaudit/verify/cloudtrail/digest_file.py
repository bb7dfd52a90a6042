"""One CloudTrail digest file: parse it, rebuild the string CloudTrail signed, check the RSA signature.

Matches `aws cloudtrail validate-logs`: SHA256withRSA (PKCS#1 v1.5) over
    digestEndTime \n digestS3Bucket/digestS3Object \n hex(SHA-256(uncompressed digest)) \n previousDigestSignature
where a first digest's null previousDigestSignature is the four characters `null` (as the Java signer writes it).
"""

import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from sovaudit.ingest.blobs import DecompressError, gunzip_if_needed

ALGORITHM = "SHA256withRSA"
REQUIRED_KEYS = ("digestPublicKeyFingerprint", "digestS3Bucket", "digestS3Object", "previousDigestSignature",
                 "digestEndTime", "digestStartTime")
# AWSLogs/[o-…/]ACCOUNT/CloudTrail-Digest/REGION/Y/M/D/ACCOUNT_CloudTrail-Digest_REGION_TRAIL_HOMEREGION_STAMP.json.gz
_DIGEST_KEY = re.compile(
    r"(?P<root>^|.*/)AWSLogs/(?:(?P<org>o-[a-z0-9]+)/)?(?P<account>\d{12})/CloudTrail-Digest/(?P<region>[^/]+)/"
    r"\d{4}/\d{2}/\d{2}/(?P=account)_CloudTrail-Digest_(?P=region)_(?P<trail>.+)_(?P<home>[a-z]{2}(?:-[a-z]+)+-\d+)_"
    r"(?P<stamp>\d{8}T\d{6}Z)\.json(?:\.gz)?$")


class DigestFormatError(ValueError):
    pass


@dataclass(frozen=True)
class DigestName:
    """What a digest's S3 key says: whose trail, which regions; the chain is followed within one such stream."""

    root: str
    account: str
    region: str
    trail: str
    home_region: str

    @property
    def stream(self) -> tuple[str, str, str, str, str]:
        return (self.root, self.account, self.region, self.trail, self.home_region)


def parse_digest_key(key: str) -> DigestName | None:
    match = _DIGEST_KEY.match(key)
    if not match:
        return None
    return DigestName(match["root"], match["account"], match["region"], match["trail"], match["home"])


def inflate_and_parse(data: bytes) -> tuple[bytes, dict[str, Any]]:
    """The uncompressed digest bytes and their JSON, or DigestFormatError."""
    try:
        inflated = gunzip_if_needed(data)
        digest = json.loads(inflated)
    except (DecompressError, ValueError) as exc:
        raise DigestFormatError(str(exc)) from None
    if not isinstance(digest, dict) or any(key not in digest for key in REQUIRED_KEYS):
        raise DigestFormatError("missing " + ", ".join(k for k in REQUIRED_KEYS if not isinstance(digest, dict)
                                                      or k not in digest))
    return inflated, digest


def string_to_sign(digest: dict[str, Any], inflated: bytes) -> bytes:
    previous = digest["previousDigestSignature"]
    if previous is None:
        previous = "null"
    return (f"{digest['digestEndTime']}\n{digest['digestS3Bucket']}/{digest['digestS3Object']}\n"
            f"{hashlib.sha256(inflated).hexdigest()}\n{previous}").encode()


def signature_verifies(public_key: rsa.RSAPublicKey, signature_hex: str, message: bytes) -> bool:
    try:
        signature = bytes.fromhex(signature_hex)
    except ValueError:
        return False
    try:
        public_key.verify(signature, message, padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature:
        return False
    return True
