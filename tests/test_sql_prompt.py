import os
import pty
import select
import subprocess
import sys
import time
from contextlib import contextmanager

import pytest
from conftest import SAMPLES

from sovaudit.lake import Lake
from sovaudit.pull import pull_source
from sovaudit.sources import config_from_flags
from sovaudit.sql_prompt import ready, statement_complete


class _Terminal:
    """The controlling end of a pseudo-terminal: `expect` reads up to a marker and keeps what came after it for
    the next `expect` (a prompt often arrives in the same read as the output before it)."""

    def __init__(self, fd: int):
        self.fd, self.pending = fd, b""

    def write(self, data: bytes) -> None:
        os.write(self.fd, data)

    def expect(self, marker: bytes, timeout: float = 30) -> bytes:
        deadline = time.monotonic() + timeout
        while marker not in self.pending:
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {marker!r}; saw {self.pending[-500:]!r}")
            ready, _, _ = select.select([self.fd], [], [], 0.5)
            if ready:
                try:
                    self.pending += os.read(self.fd, 65536)
                except OSError:
                    break
        seen, _, self.pending = self.pending.partition(marker)
        return seen + marker


@pytest.fixture(scope="module")
def lake_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("prompt") / "lake"
    pull_source(Lake(root), config_from_flags("cloudtrail", path=str(sorted(SAMPLES.glob("*.gz"))[0])))
    return root


@contextmanager
def _prompt(lake_dir, history):
    """`sovaudit sql` in a pseudo-terminal: yields the terminal's controlling end and the process."""
    controller, terminal = pty.openpty()
    env = {**os.environ, "SOVAUDIT_HISTORY": str(history), "TERM": "xterm", "PROMPT_TOOLKIT_NO_CPR": "1",
           "COLUMNS": "120", "LINES": "40"}
    proc = subprocess.Popen([sys.executable, "-P", "-m", "sovaudit.cli", "sql", "--lake", str(lake_dir)],
                            stdin=terminal, stdout=terminal, stderr=terminal, env=env, close_fds=True)
    os.close(terminal)
    try:
        yield _Terminal(controller), proc
    finally:
        proc.kill()
        os.close(controller)


def test_interactive_prompt_in_a_terminal_runs_queries_and_keeps_history(lake_dir, tmp_path):
    history = tmp_path / "history"
    with _prompt(lake_dir, history) as (term, proc):
        banner = term.expect(b"sovaudit>")
        assert b"cloudtrail" in banner and b"ledger" in banner and b"checks.* views" in banner
        term.write(b"SELECT count(*) AS answer FROM events;\r")
        assert b"answer" in term.expect(b"29")
        term.expect(b"sovaudit>")
        term.write(b"DROP VIEW events;\r")
        term.expect(b"the lake is read-only")
        term.expect(b"sovaudit>")
        term.write(b"\x04")  # Ctrl-D ends the session
        assert proc.wait(timeout=30) == 0
    assert "SELECT count(*) AS answer FROM events;" in history.read_text()


def test_a_statement_runs_when_it_ends_with_a_semicolon_over_several_lines(lake_dir, tmp_path):
    with _prompt(lake_dir, tmp_path / "history") as (term, proc):
        term.expect(b"sovaudit>")
        term.write(b"SELECT count(*) AS answer\r")
        seen = term.expect(b"...>")  # not run yet: the statement goes on
        assert b"answer" not in seen.split(b"SELECT count(*) AS answer")[-1]
        term.write(b"FROM events\r")
        term.expect(b"...>")
        term.write(b"WHERE event_uid <> ';'  -- not the end;\r")
        term.expect(b"...>")
        term.write(b";\r")
        term.expect(b"29")
        term.expect(b"sovaudit>")
        term.write(b"quit\r")
        assert proc.wait(timeout=30) == 0
    from prompt_toolkit.history import FileHistory

    # Newest first: the statement is one entry, kept whole, as psql keeps it.
    assert list(FileHistory(str(tmp_path / "history")).load_history_strings()) == [
        "quit", "SELECT count(*) AS answer\nFROM events\nWHERE event_uid <> ';'  -- not the end;\n;"]


def test_dot_commands_describe_the_lake(lake_dir, tmp_path):
    with _prompt(lake_dir, tmp_path / "history") as (term, proc):
        term.expect(b"sovaudit>")
        term.write(b".tables\r")
        tables = term.expect(b"xr_001")
        assert b"main:" in tables and b"cloudtrail" in tables and b"policy_regions" in tables
        assert b"checks:" in tables and b"_rows_" not in tables
        term.expect(b"sovaudit>")
        term.write(b".schema checks.xr_001\r")
        schema = term.expect(b"counterpart_jurisdiction")
        assert b"region_jurisdiction" in schema and b"VARCHAR" in schema
        term.expect(b"sovaudit>")
        term.write(b".schema cloudtrail\r")
        term.expect(b"event_uid")
        term.expect(b"sovaudit>")
        term.write(b".schema no_such_table\r")
        term.expect(b"error: no table 'no_such_table'; .tables lists them")
        term.expect(b"sovaudit>")
        term.write(b".help\r")
        assert b".schema [TABLE]" in term.expect(b"the lake is read-only.")
        term.expect(b"sovaudit>")
        term.write(b".frobnicate\r")
        term.expect(b"error: unknown command .frobnicate; .help lists the commands")
        term.expect(b"sovaudit>")
        term.write(b"exit\r")
        assert proc.wait(timeout=30) == 0


@pytest.mark.parametrize(("text", "complete"), [
    ("SELECT 1;", True),
    ("SELECT 1", False),
    ("SELECT ';'", False),
    ("SELECT 'it''s';", True),
    ('SELECT 1 AS ";"', False),
    ("SELECT 1 -- done;", False),
    ("SELECT 1; -- done", True),
    ("SELECT 1 /* ; */", False),
    ("SELECT 1 /* unclosed ;", False),
    ("SELECT 1;\n", True),
])
def test_statement_complete(text, complete):
    assert statement_complete(text) is complete


def test_enter_runs_commands_and_finished_statements_only():
    assert ready(".tables") and ready("  exit ") and ready("QUIT;") and ready("") and ready("SELECT 1;")
    assert not ready("SELECT 1") and not ready("SELECT\n1")
