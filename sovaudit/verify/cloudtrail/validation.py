"""CloudTrail log-file integrity validation over the evidence archive, with the verdicts and messages of
`aws cloudtrail validate-logs`.

Every digest file is checked for its place (the bucket and key it states are where it was found), its
signature (by the public key its fingerprint names, from ListPublicKeys of the trail's home region) and its
place in the chain (previousDigestS3Object present, or a reported gap). Every log file a valid digest lists
is re-hashed (SHA-256 of its uncompressed bytes) against the digest's hashValue. Each log file in the lake
ends valid, INVALID, not_found or not_covered.
"""

import hashlib
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from sovaudit.archive import EvidenceArchive
from sovaudit.ingest.blobs import DecompressError, gunzip_if_needed
from sovaudit.verify.cloudtrail.archived_files import ArchivedFile
from sovaudit.verify.cloudtrail.digest_file import (
    ALGORITHM,
    DigestFormatError,
    DigestName,
    inflate_and_parse,
    parse_digest_key,
    signature_verifies,
    string_to_sign,
)
from sovaudit.verify.cloudtrail.public_keys import PublicKeyError, PublicKeySource

# Statuses that mean "this failed to verify" (exit 1); not_covered is a coverage gap, stated but not a failure.
FAILED = ("INVALID", "not_found", "unsigned", "unverified")


@dataclass
class Verdict:
    kind: str  # "log" or "digest"
    location: str
    status: str  # valid | INVALID | not_found | not_covered | unsigned | unverified
    message: str  # the line `aws cloudtrail validate-logs` prints
    detail: str | None = None  # the same in plain words, with what was found
    file_blob: str | None = None
    expected_sha256: str | None = None
    found_sha256: str | None = None
    digest_location: str | None = None
    digest_blob: str | None = None
    digest_start_time: str | None = None
    digest_end_time: str | None = None
    public_key_fingerprint: str | None = None
    account: str | None = None
    region: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class _Digest:
    file: ArchivedFile
    inflated: bytes
    data: dict[str, Any]
    name: DigestName | None
    verdict: Verdict

    @property
    def stated(self) -> str:
        return f"s3://{self.data['digestS3Bucket']}/{self.data['digestS3Object']}"

    @property
    def start(self) -> datetime:
        return _when(self.data["digestStartTime"])

    @property
    def end(self) -> datetime:
        return _when(self.data["digestEndTime"])


@dataclass
class DigestValidation:
    verdicts: list[Verdict] = field(default_factory=list)
    gaps: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def of_kind(self, kind: str) -> list[Verdict]:
        return [v for v in self.verdicts if v.kind == kind]

    def counts(self, kind: str) -> dict[str, int]:
        out: dict[str, int] = defaultdict(int)
        for verdict in self.of_kind(kind):
            out[verdict.status] += 1
        return dict(sorted(out.items()))

    @property
    def coverage(self) -> float | None:
        """The share of log files in the lake covered by a valid digest and matching its hash."""
        logs = [v for v in self.of_kind("log") if v.status != "not_found"]
        return sum(v.status == "valid" for v in logs) / len(logs) if logs else None

    @property
    def ok(self) -> bool:
        return not any(v.status in FAILED for v in self.verdicts)

    def summary(self) -> str:
        """aws-cli's closing ratios: `3/3 digest files valid, 6/7 log files valid, 1/7 log files INVALID`."""
        parts = []
        for kind in ("digest", "log"):
            checked = [v for v in self.of_kind(kind) if v.status != "not_covered"]
            if checked:
                valid = sum(v.status == "valid" for v in checked)
                text = f"{valid}/{len(checked)} {kind} files valid"
                if valid < len(checked):
                    text += f", {len(checked) - valid}/{len(checked)} {kind} files INVALID"
                parts.append(text)
        return ", ".join(parts) if parts else "No digests found"


def _when(value: str) -> datetime:
    return datetime.fromisoformat(value)


def _display(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _digest_verdict(file: ArchivedFile, status: str, message: str, detail: str | None = None) -> Verdict:
    return Verdict("digest", file.location, status, f"Digest file\t{file.location}\t{message}", detail,
                   file_blob=file.blob)


def _parse(archive: EvidenceArchive, file: ArchivedFile) -> _Digest | Verdict:
    try:
        inflated, data = inflate_and_parse(archive.read(file.blob))
    except DigestFormatError as exc:
        return _digest_verdict(file, "INVALID", "INVALID: invalid format", f"not a CloudTrail digest: {exc}")
    except OSError as exc:
        return _digest_verdict(file, "INVALID", "INVALID: not found",
                               f"its archived copy (blob {file.blob}) cannot be read: {exc.strerror}")
    name = parse_digest_key(str(data["digestS3Object"]))
    verdict = _digest_verdict(file, "valid", "valid")
    verdict.found_sha256 = hashlib.sha256(inflated).hexdigest()
    verdict.digest_start_time, verdict.digest_end_time = data["digestStartTime"], data["digestEndTime"]
    verdict.public_key_fingerprint = data["digestPublicKeyFingerprint"]
    verdict.account = data.get("awsAccountId") or (name.account if name else None)
    verdict.region = name.region if name else None
    digest = _Digest(file, inflated, data, name, verdict)
    try:
        digest.start, digest.end  # noqa: B018 (parse now: a bad time is a format error)
    except (TypeError, ValueError):
        return _digest_verdict(file, "INVALID", "INVALID: invalid format", "digestStartTime or digestEndTime is "
                               "not a time")
    return digest


def _precheck(digest: _Digest) -> bool:
    """Place, signature metadata and algorithm; False once the digest's verdict is decided."""
    file, verdict = digest.file, digest.verdict
    if file.from_s3 and digest.stated != file.location:
        _fail(verdict, "INVALID", "INVALID: has been moved from its original location",
              f"found at {file.location}, but it states that CloudTrail delivered it to {digest.stated}")
    elif digest.name is None:
        _fail(verdict, "INVALID", "INVALID: invalid format",
              f"digestS3Object {digest.data['digestS3Object']!r} is not a CloudTrail digest key")
    elif not file.signature:
        where = "the S3 object carries no `signature` metadata" if file.from_s3 else \
            "it was read from a local file, which carries no S3 `signature` metadata"
        _fail(verdict, "unsigned", "INVALID: signature verification failed (unsigned)",
              f"unsigned: {where}, so it cannot be verified and is not counted as valid")
    elif (file.signature_algorithm or ALGORITHM) != ALGORITHM or \
            digest.data.get("digestSignatureAlgorithm", ALGORITHM) != ALGORITHM:
        _fail(verdict, "INVALID", "INVALID: signature verification failed",
              f"unsupported signature algorithm {file.signature_algorithm or digest.data.get('digestSignatureAlgorithm')}"
              f" (expected {ALGORITHM})")
    else:
        return True
    return False


def _fail(verdict: Verdict, status: str, message: str, detail: str) -> None:
    verdict.status = status
    verdict.message = f"Digest file\t{verdict.location}\t{message}"
    verdict.detail = detail


def _check_signatures(pending: list[_Digest], keys: PublicKeySource | None) -> None:
    by_region: dict[str, list[_Digest]] = defaultdict(list)
    for digest in pending:
        by_region[digest.name.home_region].append(digest)  # type: ignore[union-attr]
    for region, digests in sorted(by_region.items()):
        start, end = min(d.start for d in digests), max(d.end for d in digests)
        try:
            if keys is None:
                raise PublicKeyError("no source of CloudTrail public keys was given")
            region_keys = keys.keys(region, start, end)
        except PublicKeyError as exc:
            for digest in digests:
                _fail(digest.verdict, "unverified", "INVALID: public key not available",
                      f"the signature was not checked: {exc}")
            continue
        for digest in digests:
            fingerprint = digest.data["digestPublicKeyFingerprint"]
            key = region_keys.get(fingerprint)
            if key is None:
                _fail(digest.verdict, "INVALID",
                      f"INVALID: public key not found in region {region} for fingerprint {fingerprint}",
                      f"ListPublicKeys for {region} between {_display(start)} and {_display(end)} returned no key "
                      f"with fingerprint {fingerprint}")
            elif not signature_verifies(key, digest.file.signature or "", string_to_sign(digest.data, digest.inflated)):
                _fail(digest.verdict, "INVALID", "INVALID: signature verification failed",
                      f"the `signature` metadata is not a valid {ALGORITHM} signature of this digest by the key "
                      f"with fingerprint {fingerprint}: the digest or its signature was altered")


def _walk_chains(digests: list[_Digest], result: DigestValidation) -> None:
    at: dict[str, _Digest] = {}
    for digest in digests:
        # A local copy cannot show where it was delivered; it stands in for the place it states.
        at.setdefault(digest.file.location if digest.file.from_s3 else digest.stated, digest)
    streams: dict[tuple, list[_Digest]] = defaultdict(list)
    for digest in digests:
        if digest.name is not None and at.get(digest.stated) is digest:
            streams[digest.name.stream].append(digest)
    missing: set[str] = set()
    for stream in streams.values():
        stream.sort(key=lambda d: d.end)
        for index, digest in enumerate(stream):
            older = stream[index - 1] if index else None
            previous_key = digest.data.get("previousDigestS3Object")
            if not previous_key:
                if older is not None:
                    result.gaps.append(f"No log files were delivered by CloudTrail between {_display(older.end)} "
                                       f"and {_display(digest.start)}")
                continue
            previous = f"s3://{digest.data.get('previousDigestS3Bucket')}/{previous_key}"
            found = at.get(previous)
            if found is None:
                if older is None:
                    result.notes.append(f"the digest chain starts at {digest.file.location}; the digest before it, "
                                        f"{previous}, is outside what was pulled")
                elif previous not in missing:
                    missing.add(previous)
                    result.verdicts.append(Verdict(
                        "digest", previous, "not_found", f"Digest file\t{previous}\tINVALID: not found",
                        f"{digest.file.location} chains to it, but it is not in the lake although an older digest "
                        f"of the same trail ({older.file.location}) is: it was deleted, or not delivered",
                        account=digest.verdict.account, region=digest.verdict.region))
                continue
            if found.verdict.status == "valid" and digest.verdict.status == "valid" and \
                    digest.data.get("previousDigestHashValue") not in (None, found.verdict.found_sha256):
                _fail(digest.verdict, "INVALID", "INVALID: previous digest does not match",
                      f"previousDigestHashValue {digest.data.get('previousDigestHashValue')} is not the SHA-256 of "
                      f"the digest found at {previous} ({found.verdict.found_sha256})")


def _log_verdicts(archive: EvidenceArchive, logs: list[ArchivedFile], digests: list[_Digest],
                  result: DigestValidation) -> None:
    by_place: dict[str, list[ArchivedFile]] = defaultdict(list)
    by_name: dict[str, list[ArchivedFile]] = defaultdict(list)
    for log in logs:
        (by_place[log.location] if log.from_s3 else by_name[log.name]).append(log)
    listed_by: dict[str, str] = {}
    done: set[tuple[str, str]] = set()
    for digest in sorted(digests, key=lambda d: d.end):
        for listed in digest.data.get("logFiles") or []:
            place = f"s3://{listed.get('s3Bucket')}/{listed.get('s3Object')}"
            if digest.verdict.status != "valid":
                listed_by.setdefault(place, digest.file.location)
                continue
            expected = listed.get("hashValue")
            found = by_place.get(place) or by_name.get(str(listed.get("s3Object", "")).rsplit("/", 1)[-1]) or []
            common = {"expected_sha256": expected, "digest_location": digest.file.location,
                      "digest_blob": digest.file.blob, "digest_start_time": digest.data["digestStartTime"],
                      "digest_end_time": digest.data["digestEndTime"],
                      "public_key_fingerprint": digest.data["digestPublicKeyFingerprint"],
                      "account": digest.verdict.account, "region": digest.verdict.region}
            if not found:
                result.verdicts.append(Verdict("log", place, "not_found", f"Log file\t{place}\tINVALID: not found",
                                               f"{digest.file.location} lists it, but the lake holds no copy: it was "
                                               "deleted, or not pulled", **common))
            for log in found:
                if (log.location, log.blob) in done:
                    continue
                done.add((log.location, log.blob))
                result.verdicts.append(_log_verdict(archive, log, expected, common))
    for log in logs:
        if (log.location, log.blob) not in done:
            dig = listed_by.get(log.location)
            detail = f"listed only in {dig}, which did not verify" if dig else "no digest in the lake lists this file"
            result.verdicts.append(Verdict("log", log.location, "not_covered",
                                           f"Log file\t{log.location}\tnot covered by a valid digest", detail,
                                           file_blob=log.blob))


def _log_verdict(archive: EvidenceArchive, log: ArchivedFile, expected: str | None, common: dict) -> Verdict:
    try:
        found = hashlib.sha256(gunzip_if_needed(archive.read(log.blob))).hexdigest()
    except (OSError, DecompressError) as exc:
        return Verdict("log", log.location, "INVALID", f"Log file\t{log.location}\tINVALID: invalid format",
                       f"its archived copy (blob {log.blob}) cannot be read or inflated: {exc}", file_blob=log.blob,
                       **common)
    if found != expected:
        return Verdict("log", log.location, "INVALID", f"Log file\t{log.location}\tINVALID: hash value doesn't match",
                       "the SHA-256 of its uncompressed bytes differs from the hashValue its digest recorded: it was "
                       "changed after CloudTrail delivered it", file_blob=log.blob, found_sha256=found, **common)
    return Verdict("log", log.location, "valid", f"Log file\t{log.location}\tvalid", file_blob=log.blob,
                   found_sha256=found, **common)


def validate_cloudtrail(archive: EvidenceArchive, logs: list[ArchivedFile], digests: list[ArchivedFile],
                        keys: PublicKeySource | None) -> DigestValidation:
    result = DigestValidation()
    parsed: list[_Digest] = []
    for file in digests:
        outcome = _parse(archive, file)
        if isinstance(outcome, Verdict):
            result.verdicts.append(outcome)
        else:
            parsed.append(outcome)
    _check_signatures([d for d in parsed if _precheck(d)], keys)
    _walk_chains(parsed, result)
    result.verdicts[:0] = [d.verdict for d in sorted(parsed, key=lambda d: (d.end, d.file.location))]
    _log_verdicts(archive, logs, parsed, result)
    return result
