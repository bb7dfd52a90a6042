"""Log files on disk: a directory (walked recursively), a file or a glob, each file one raw blob."""

import glob
import os
from collections.abc import Callable, Iterator
from pathlib import Path

from sovaudit.errors import UsageError
from sovaudit.ingest.blobs import FailedInput, ListingDone, RawBlob

# What a log file on disk may be called: JSON, JSON lines, NDJSON or `.log` (as exporters and Elastic's test data
# name JSON lines), each optionally gzipped (any `.gz`).
SUFFIXES = (".json", ".jsonl", ".ndjson", ".log", ".gz")


def find_files(path_or_glob: str, what: str, suffixes: tuple[str, ...] = SUFFIXES) -> list[Path]:
    path = Path(path_or_glob).expanduser()
    if path.is_dir():
        found = [p for p in path.rglob("*") if p.is_file() and p.name.lower().endswith(suffixes)]
    elif path.is_file():
        found = [path]
    else:
        found = [Path(p) for p in glob.glob(os.path.expanduser(path_or_glob), recursive=True) if Path(p).is_file()]
    if not found:
        expected = ", ".join(f"*{suffix}" for suffix in suffixes if suffix != ".gz")
        raise UsageError(f"--path {path_or_glob}: no {what} files found (expected {expected}, or any of them .gz)")
    return sorted(found)


def local_blobs(path_or_glob: str, what: str,
                kind_of: Callable[[Path, bytes], str] = lambda _path, _data: "log",
                suffixes: tuple[str, ...] = SUFFIXES) -> Iterator[RawBlob | FailedInput | ListingDone]:
    paths = find_files(path_or_glob, what, suffixes)
    yield ListingDone(len(paths))
    for path in paths:
        origin = {"kind": "file", "path": str(path.resolve())}
        try:
            data = path.read_bytes()
        except OSError as exc:
            yield FailedInput(origin, str(path), f"cannot read {path}: {exc.strerror}")
            continue
        yield RawBlob(data, {**origin, "size": len(data)}, str(path), kind_of(path, data))
