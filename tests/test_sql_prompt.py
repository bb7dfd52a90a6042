import os
import pty
import select
import subprocess
import sys
import time

from conftest import SAMPLES

from sovaudit.lake import Lake
from sovaudit.pull import pull_source
from sovaudit.sources import config_from_flags


def _read_until(fd: int, marker: bytes, timeout: float = 30) -> bytes:
    seen = b""
    deadline = time.monotonic() + timeout
    while marker not in seen:
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {marker!r}; saw {seen[-500:]!r}")
        ready, _, _ = select.select([fd], [], [], 0.5)
        if ready:
            try:
                seen += os.read(fd, 65536)
            except OSError:
                break
    return seen


def test_interactive_prompt_in_a_terminal_runs_queries_and_keeps_history(tmp_path):
    lake_dir = tmp_path / "lake"
    pull_source(Lake(lake_dir), config_from_flags("cloudtrail", path=str(sorted(SAMPLES.glob("*.gz"))[0])))
    history = tmp_path / "history"
    controller, terminal = pty.openpty()
    env = {**os.environ, "SOVAUDIT_HISTORY": str(history), "TERM": "xterm", "PROMPT_TOOLKIT_NO_CPR": "1", "COLUMNS": "120", "LINES": "40"}
    proc = subprocess.Popen([sys.executable, "-m", "sovaudit.cli", "sql", "--lake", str(lake_dir)],
                            stdin=terminal, stdout=terminal, stderr=terminal, env=env, close_fds=True)
    os.close(terminal)
    try:
        banner = _read_until(controller, b"sovaudit>")
        assert b"kafka_topics" in banner and b"ledger" in banner  # the lake's tables, not a fixed list
        os.write(controller, b"SELECT count(*) AS answer FROM events\r")
        out = _read_until(controller, b"29")
        assert b"answer" in out
        _read_until(controller, b"sovaudit>")
        os.write(controller, b"DROP VIEW events\r")
        assert b"read-only" in _read_until(controller, b"read-only")
        _read_until(controller, b"sovaudit>")
        os.write(controller, b"\x04")  # Ctrl-D ends the session
        assert proc.wait(timeout=30) == 0
    finally:
        proc.kill()
        os.close(controller)
    assert "SELECT count(*) AS answer FROM events" in history.read_text()
