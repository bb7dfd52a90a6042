"""Crash-safe file writes, path containment, and one clear line when the disk refuses a write."""

import errno
import os
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

import duckdb

from sovaudit.errors import StorageError

# What the file system says when it refuses a write; a refused connection (ECONNREFUSED …) is not one.
_STORAGE_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM, errno.ENOTDIR,
                   errno.EISDIR, errno.EEXIST, errno.ENOENT, errno.EIO, errno.EFBIG, errno.ENAMETOOLONG}
# DuckDB's way of saying it: `Could not write file "PATH": REASON`, the quotes escaped when nested in JSON.
_DUCKDB_FILE_ERROR = re.compile(r'file \\?"(?P<path>.+?)\\?": (?P<reason>[^"\\]+)')


def fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextmanager
def atomic_writer(target: Path) -> Iterator[BinaryIO]:
    """A handle whose file becomes `target` when the block ends: readers see either no file or the whole file
    (a temporary sibling, fsync, rename); an error in the block leaves no file."""
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    fsync_dir(target.parent)


def write_atomic(target: Path, data: bytes) -> None:
    """Readers see either no file or the whole file."""
    with atomic_writer(target) as handle:
        handle.write(data)


def contained_path(root: Path, *parts: str) -> Path:
    """Join `parts` under `root`, refusing any result outside it (`..`, absolute parts, symlink tricks)."""
    base = root.resolve()
    candidate = base.joinpath(*parts).resolve()
    if candidate != base and base not in candidate.parents:
        raise ValueError(f"path {'/'.join(parts)!r} escapes {root}")
    return candidate


@contextmanager
def storage_errors(what: str, path: Path, scope: Path | None = None) -> Iterator[None]:
    """Turn a refused write into a StorageError of one line naming `what` at `path`. Counted as such: an
    OSError about a file in `scope` (default `path`) or a directory it needs, or about no file (a full disk)."""
    scope = scope or path
    try:
        yield
    except OSError as exc:
        if exc.errno not in _STORAGE_ERRNOS or not _within(exc.filename, scope):
            raise
        in_the_way = exc.errno in (errno.EEXIST, errno.ENOTDIR)
        reason = "a file is where a directory should be" if in_the_way else os.strerror(exc.errno)
        raise StorageError(f"cannot write {what} at {path}: {reason}{_naming(exc.filename, path)}") from None
    except duckdb.IOException as exc:
        found = _DUCKDB_FILE_ERROR.search(str(exc))
        if not found or not _within(found["path"], scope):
            raise
        raise StorageError(f"cannot write {what} at {path}: {found['reason']}{_naming(found['path'], path)}") from None


def _within(filename: str | bytes | None, scope: Path) -> bool:
    if filename is None:
        return True
    path, base = Path(os.fsdecode(filename)).absolute(), scope.absolute()
    return path == base or base in path.parents or path in base.parents  # or a parent it needs made


def _naming(filename: str | bytes | None, path: Path) -> str:
    """The file the refusal was about, when it says more than `path` (a temporary sibling says nothing)."""
    if filename is None or Path(os.fsdecode(filename)).absolute() == path.absolute():
        return ""
    return "" if Path(os.fsdecode(filename)).name.startswith(".tmp-") else f" ({os.fsdecode(filename)})"
