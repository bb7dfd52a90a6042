"""Raw blobs as sources deliver them, and their decompression."""

import zlib
from dataclasses import dataclass
from typing import Any

from isal import igzip

from sovaudit.redact import redact


@dataclass
class RawBlob:
    """Bytes exactly as delivered, plus where they came from. Sources yield these and never parse."""

    data: bytes
    origin: dict[str, Any]
    label: str
    kind: str = "log"  # "log" or "digest"
    order: int = 0  # position in the source's listing, so the ledger lists inputs in a stable order


@dataclass
class FailedInput:
    """An input a source could not read completely; the pull goes on and exits 3."""

    origin: dict[str, Any]
    label: str
    error: str

    def __post_init__(self) -> None:
        self.error = redact(self.error)  # on its way to the terminal and the ledger


@dataclass
class ListingDone:
    """Yielded by a source once it knows how many blobs it will deliver, for the progress bar."""

    blobs: int


class DecompressError(Exception):
    pass


def gunzip_if_needed(data: bytes) -> bytes:
    if data[:2] != b"\x1f\x8b":
        return data
    try:
        return igzip.decompress(data)
    except (EOFError, OSError, zlib.error) as exc:
        raise DecompressError(f"truncated or corrupt gzip ({len(data):,} compressed bytes): {exc}") from None


def gunzip_head(data: bytes, size: int) -> bytes:
    """The first `size` decoded bytes (fewer when the data is shorter or damaged there): enough to sniff a blob's
    kind without decompressing all of it, which the listing would otherwise do once more for every blob."""
    if data[:2] != b"\x1f\x8b":
        return data[:size]
    try:
        return zlib.decompressobj(wbits=31).decompress(data, size)
    except zlib.error:
        return b""
