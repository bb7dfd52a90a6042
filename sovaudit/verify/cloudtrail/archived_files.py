"""The CloudTrail log files and digest files the ledger says were archived, and where each was found."""

from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any


@dataclass(frozen=True)
class ArchivedFile:
    kind: str  # "log" or "digest"
    blob: str
    bucket: str | None = None
    key: str | None = None
    path: str | None = None  # for files pulled with --path
    signature: str | None = None
    signature_algorithm: str | None = None

    @property
    def location(self) -> str:
        return f"s3://{self.bucket}/{self.key}" if self.key is not None else str(self.path)

    @property
    def from_s3(self) -> bool:
        return self.key is not None

    @property
    def name(self) -> str:
        return PurePosixPath(self.key if self.key is not None else str(self.path)).name


def archived_files(entries: list[dict[str, Any]]) -> tuple[list[ArchivedFile], list[ArchivedFile]]:
    """(log files, digest files), each distinct (location, bytes) pair once, in ledger order."""
    logs: dict[tuple[str, str], ArchivedFile] = {}
    digests: dict[tuple[str, str], ArchivedFile] = {}
    for entry in entries:
        source = entry.get("source") if isinstance(entry.get("source"), dict) else {}
        if source.get("type", "cloudtrail") != "cloudtrail":
            continue
        for item in entry.get("inputs") or []:
            if item.get("kind") not in ("s3", "file") or not item.get("blob"):
                continue
            status = item.get("status")
            if status == "digest":
                found = ArchivedFile("digest", item["blob"], item.get("bucket"), item.get("key"), item.get("path"),
                                     item.get("signature"), item.get("signature_algorithm"))
                digests.setdefault((found.location, found.blob), found)
            elif status in ("ingested", "skipped"):
                found = ArchivedFile("log", item["blob"], item.get("bucket"), item.get("key"), item.get("path"))
                logs.setdefault((found.location, found.blob), found)
    return list(logs.values()), list(digests.values())
