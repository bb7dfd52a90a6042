"""CloudTrail from local files: trail files, one event per line, lookup-events output, Elasticsearch exports (the
shapes are the preparer's; README, "Input files for --path")."""

from collections.abc import Iterator
from pathlib import Path

from sovaudit.ingest.blobs import FailedInput, ListingDone, RawBlob
from sovaudit.sources.cloudtrail.preparer import looks_like_digest
from sovaudit.sources.local_files import find_files as _find_files
from sovaudit.sources.local_files import local_blobs as _local_blobs


def is_digest_name(name: str) -> bool:
    return "CloudTrail-Digest" in name


def find_files(path_or_glob: str) -> list[Path]:
    return _find_files(path_or_glob, "CloudTrail")


def _kind(path: Path, data: bytes) -> str:
    return "digest" if is_digest_name(str(path)) or looks_like_digest(data) else "log"


def local_blobs(path_or_glob: str) -> Iterator[RawBlob | FailedInput | ListingDone]:
    yield from _local_blobs(path_or_glob, "CloudTrail", _kind)
