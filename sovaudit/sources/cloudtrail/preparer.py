"""Prepare one CloudTrail blob for the normalize SQL: the fast slice, or the careful split."""

import re
from pathlib import Path
from typing import Any

from sovaudit.ingest.blobs import DecompressError, gunzip_if_needed
from sovaudit.ingest.prepared import PreparedBlob, TableSlice
from sovaudit.ingest.records import MAX_RECORD_BYTES, ArrayFile, SetAside, split_records
from sovaudit.sources.cloudtrail.resource_map import resource_rules_json

_HEAD = re.compile(rb'\A\s*\{\s*"Records"\s*:\s*\[')
_TAIL = re.compile(rb'\]\s*\}\s*\Z')


def looks_like_digest(data: bytes) -> bool:
    """CloudTrail digest files: set aside for integrity validation, never parsed as events."""
    try:
        head = gunzip_if_needed(data)[:4096]
    except DecompressError:
        return False
    return (b'"digestStartTime"' in head and b'"logFiles"' in head) or b'"digestPublicKeyFingerprint"' in head


class CloudTrailPreparer:
    tables = ("cloudtrail",)

    @property
    def setup_queries(self) -> tuple[str | tuple[str, dict[str, Any]], ...]:
        # The resource mapping table becomes a table once per pull, not once per blob.
        return ("normalize/cloudtrail_macros.sql", ("normalize/cloudtrail_rules.sql", {"rules": resource_rules_json()}))

    def sql_params(self, table: str) -> dict[str, Any]:
        return {}

    def fast(self, data: bytes, work: Path) -> PreparedBlob:
        """The `[...]` slice of a standard `{"Records":[...]}` file, or no slice when the careful path is needed."""
        try:
            payload = gunzip_if_needed(data)
        except DecompressError as exc:
            return PreparedBlob([], 1, [SetAside(str(exc))])
        # A blob no larger than the record limit cannot hold an oversized record.
        if len(payload) <= MAX_RECORD_BYTES:
            head = _HEAD.match(payload, 0, 64)
            tail = _TAIL.search(payload, max(0, len(payload) - 64))
            if head and tail:
                array_path = work.with_suffix(".json")
                with open(array_path, "wb") as out:
                    out.write(memoryview(payload)[head.end() - 1 : tail.start() + 1])
                return PreparedBlob([TableSlice("cloudtrail", array_path, None)], None, payload=payload)
        return PreparedBlob([], None, payload=payload)

    def careful(self, payload: bytes, work: Path) -> PreparedBlob:
        sink = ArrayFile(work.with_suffix(".json"))
        try:
            result = split_records(payload, sink)
        finally:
            sink.close()
        return PreparedBlob([TableSlice("cloudtrail", path, positions) for path, positions in sink.chunks],
                            result.records_read,
                            result.set_aside)
