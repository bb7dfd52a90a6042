"""CloudTrail from local files: `.json` / `.json.gz`, `{"Records": [...]}` or one event per line."""

import glob
import os
from collections.abc import Iterator
from pathlib import Path

from sovaudit.errors import UsageError
from sovaudit.ingest.blobs import FailedInput, ListingDone, RawBlob
from sovaudit.ingest.cloudtrail_blob import looks_like_digest

_SUFFIXES = (".json", ".json.gz", ".gz", ".jsonl", ".ndjson", ".jsonl.gz", ".ndjson.gz")


def is_digest_name(name: str) -> bool:
    return "CloudTrail-Digest" in name


def find_files(path_or_glob: str) -> list[Path]:
    path = Path(path_or_glob).expanduser()
    if path.is_dir():
        found = [p for p in path.rglob("*") if p.is_file() and p.name.lower().endswith(_SUFFIXES)]
    elif path.is_file():
        found = [path]
    else:
        found = [Path(p) for p in glob.glob(os.path.expanduser(path_or_glob), recursive=True) if Path(p).is_file()]
    if not found:
        raise UsageError(f"--path {path_or_glob}: no CloudTrail files found (expected *.json or *.json.gz)")
    return sorted(found)


def local_blobs(path_or_glob: str) -> Iterator[RawBlob | FailedInput | ListingDone]:
    paths = find_files(path_or_glob)
    yield ListingDone(len(paths))
    for path in paths:
        origin = {"kind": "file", "path": str(path.resolve())}
        try:
            data = path.read_bytes()
        except OSError as exc:
            yield FailedInput(origin, str(path), f"cannot read {path}: {exc.strerror}")
            continue
        kind = "digest" if is_digest_name(str(path)) or looks_like_digest(data) else "log"
        yield RawBlob(data, {**origin, "size": len(data)}, str(path), kind)
