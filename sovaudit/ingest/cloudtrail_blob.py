"""Prepare one CloudTrail blob for the normalize SQL: the fast slice, or the careful split."""

import re
from dataclasses import dataclass, field
from pathlib import Path

from sovaudit.ingest.blobs import DecompressError, gunzip_if_needed
from sovaudit.ingest.records import MAX_RECORD_BYTES, SetAside, split_records

_HEAD = re.compile(rb'\A\s*\{\s*"Records"\s*:\s*\[')
_TAIL = re.compile(rb'\]\s*\}\s*\Z')


def looks_like_digest(data: bytes) -> bool:
    """CloudTrail digest files: set aside for integrity validation, never parsed as events."""
    try:
        head = gunzip_if_needed(data)[:4096]
    except DecompressError:
        return False
    return (b'"digestStartTime"' in head and b'"logFiles"' in head) or b'"digestPublicKeyFingerprint"' in head


@dataclass
class PreparedBlob:
    array_path: Path | None
    positions: list[int] | None  # None: array position is the record's position in the blob
    records_read: int | None  # None: counted by the SQL (fast path)
    set_aside: list[SetAside] = field(default_factory=list)
    payload: bytes | None = None


def prepare_fast(data: bytes, array_path: Path) -> PreparedBlob | None:
    """The `[...]` slice of a standard `{"Records":[...]}` file, or None when the careful path is needed."""
    try:
        payload = gunzip_if_needed(data)
    except DecompressError as exc:
        return PreparedBlob(None, None, 1, [SetAside(str(exc))])
    # A blob no larger than the record limit cannot hold an oversized record.
    if len(payload) <= MAX_RECORD_BYTES:
        head = _HEAD.match(payload, 0, 64)
        tail = _TAIL.search(payload, max(0, len(payload) - 64))
        if head and tail:
            with open(array_path, "wb") as out:
                out.write(memoryview(payload)[head.end() - 1 : tail.start() + 1])
            return PreparedBlob(array_path, None, None, payload=payload)
    return PreparedBlob(None, None, None, payload=payload)


def prepare_careful(payload: bytes, array_path: Path) -> PreparedBlob:
    result = split_records(payload, array_path)
    return PreparedBlob(array_path, result.positions, result.records_read, result.set_aside)
