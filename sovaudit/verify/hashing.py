"""SHA-256 of files, streamed, and of many files at once."""

import hashlib
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

_CHUNK = 1 << 20


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def hash_files(paths: Iterable[Path], workers: int = 4) -> dict[Path, str | OSError]:
    """Each path's SHA-256, or the OSError that stopped reading it. hashlib releases the GIL on large
    buffers, so a few threads keep the disk busy."""

    def one(path: Path) -> tuple[Path, str | OSError]:
        try:
            return path, file_sha256(path)
        except OSError as exc:
            return path, exc

    with ThreadPoolExecutor(max_workers=workers) as pool:
        return dict(pool.map(one, list(paths)))
