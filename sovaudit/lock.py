"""One writer at a time: an advisory lock on `<lake>/.lock`, held for the whole pull."""

import fcntl
import os
import time
from contextlib import contextmanager
from pathlib import Path

from sovaudit.errors import LakeLockedError


@contextmanager
def lake_lock(lake_root: Path, timeout: float = 60.0, on_wait=None):
    lake_root.mkdir(parents=True, exist_ok=True)
    path = lake_root / ".lock"
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        deadline = time.monotonic() + timeout
        announced = False
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                holder = os.pread(fd, 64, 0).decode(errors="replace").strip() or "unknown"
                if time.monotonic() >= deadline:
                    raise LakeLockedError(
                        f"{lake_root}: another sovaudit pull (pid {holder}) holds the lake lock; "
                        f"waited {timeout:.0f}s. Retry when it finishes, or raise --lock-timeout."
                    ) from None
                if on_wait and not announced:
                    on_wait(holder)
                    announced = True
                time.sleep(0.2)
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        yield
    finally:
        os.close(fd)
