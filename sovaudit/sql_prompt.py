"""The interactive `sovaudit sql` prompt, with the DuckDB CLI's and psql's habits: a statement runs when it ends
with `;`, however many lines it takes; `.tables`, `.schema [TABLE]` and `.help` describe the lake; `exit`,
`quit` or Ctrl-D leave, Ctrl-C drops the statement being typed."""

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.text import Text

from sovaudit.errors import SovauditError
from sovaudit.output import visible, write_rows

PROMPT = "sovaudit> "
CONTINUATION = "     ...> "
EXIT_WORDS = ("exit", "quit", "\\q")
HELP = """\
End a statement with ; to run it; Enter before that continues it on the next line.
  .tables           the tables and views, by schema (main: the lake and the policy; checks: one view per check)
  .schema [TABLE]   the columns of TABLE (e.g. cloudtrail, checks.xr_001), or of every table in main
  .help             this text
  exit, quit        leave (as does Ctrl-D); Ctrl-C drops the statement being typed
Only SELECT (and EXPLAIN of one) runs: the lake is read-only."""
# What freeze_tables registers behind each frozen table: not for people.
_PRIVATE_PREFIX = "_rows_"


def statement_complete(text: str) -> bool:
    """Whether `text` ends with a `;` that is SQL: not inside a string, a quoted name or a comment."""
    last, i = "", 0
    while i < len(text):
        c = text[i]
        if c in "'\"":
            end = text.find(c, i + 1)  # a doubled quote ('') closes and reopens: the same scan
            if end < 0:
                return False
            last, i = c, end + 1
        elif text.startswith("--", i):
            end = text.find("\n", i)
            i = len(text) if end < 0 else end + 1
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            if end < 0:
                return False
            i = end + 2
        else:
            if not c.isspace():
                last = c
            i += 1
    return last == ";"


def is_command(text: str) -> bool:
    """A dot command or an exit word: run on Enter, no `;` needed."""
    stripped = text.strip()
    return stripped.startswith(".") or stripped.rstrip(";").strip().lower() in EXIT_WORDS


def ready(text: str) -> bool:
    """Enter runs what was typed (else it starts a new line of the same statement)."""
    return not text.strip() or is_command(text) or statement_complete(text)


def catalog(con: Any) -> list[tuple[str, str]]:
    """(schema, name) of every table and view a query can name, in the order DuckDB lists them."""
    rows = con.execute(
        "SELECT schema_name, view_name FROM duckdb_views() WHERE NOT internal "
        "UNION ALL SELECT schema_name, table_name FROM duckdb_tables()").fetchall()
    seen: dict[tuple[str, str], None] = {}
    for schema, name in rows:
        if not name.startswith(_PRIVATE_PREFIX):
            seen[(schema, name)] = None
    return list(seen)


def banner(names: list[tuple[str, str]]) -> str:
    main = [name for schema, name in names if schema == "main" and not name.startswith("policy_")]
    policy = sum(schema == "main" and name.startswith("policy_") for schema, name in names)
    checks = sum(schema == "checks" for schema, _ in names)
    extra = [f"{policy} policy_* tables"] if policy else []
    extra += [f"{checks} checks.* views"] if checks else []
    return (f"sovaudit sql — read-only. Tables: {', '.join(main)}" + (f"; {' and '.join(extra)}" if extra else "")
            + ". End a statement with ; (.help for commands; exit, quit or Ctrl-D to leave).")


class Commands:
    """The dot commands, answered from the connection's catalog."""

    def __init__(self, con: Any, console: Console):
        self.con, self.console = con, console

    def run(self, text: str) -> None:
        word, _, argument = text.strip().rstrip(";").partition(" ")
        argument = argument.strip()
        if word == ".help":
            self.console.print(Text(HELP))
        elif word == ".tables":
            self.tables()
        elif word == ".schema":
            self.schema(argument or None)
        else:
            raise SovauditError(f"unknown command {word}; .help lists the commands")

    def tables(self) -> None:
        by_schema: dict[str, list[str]] = {}
        for schema, name in catalog(self.con):
            by_schema.setdefault(schema, []).append(name)
        for schema, names in sorted(by_schema.items(), key=lambda item: (item[0] != "main", item[0])):
            self.console.print(Text.assemble((f"{schema}: ", "bold"), visible(", ".join(sorted(names)))))

    def schema(self, table: str | None) -> None:
        names = catalog(self.con)
        if table is None:
            for schema, name in names:
                if schema == "main":
                    columns = ", ".join(f"{c} {t}" for c, t in self._columns(schema, name))
                    self.console.print(Text.assemble((name, "bold"), f"({visible(columns)})"))
            return
        schema, _, name = table.rpartition(".")
        matches = [(s, n) for s, n in names if n.lower() == name.lower() and (s.lower() == (schema or "main").lower())]
        if not matches:
            raise SovauditError(f"no table {table!r}; .tables lists them")
        write_rows(["column", "type"], self._columns(*matches[0]), "table", self.console)

    def _columns(self, schema: str, name: str) -> list[tuple[str, str]]:
        quoted = ".".join('"' + part.replace('"', '""') + '"' for part in (schema, name))
        return [(row[0], row[1]) for row in self.con.execute(f"DESCRIBE {quoted}").fetchall()]


def interactive(con: Any, run: Callable[[str], None], console: Console, err: Console,
                errors: tuple[type[BaseException], ...]) -> None:
    """The prompt, until exit: each statement through `run`, its errors (`errors`) as one line each."""
    from prompt_toolkit import PromptSession
    from prompt_toolkit.filters import Condition
    from prompt_toolkit.history import FileHistory

    history = Path(os.environ.get("SOVAUDIT_HISTORY", Path.home() / ".sovaudit_sql_history"))
    session: PromptSession = PromptSession(history=FileHistory(str(history)))
    multiline = Condition(lambda: not ready(session.default_buffer.text))
    commands = Commands(con, console)
    console.print(Text(visible(banner(catalog(con)))))
    while True:
        try:
            text = session.prompt(PROMPT, multiline=multiline, prompt_continuation=CONTINUATION)
        except KeyboardInterrupt:
            continue  # the statement being typed is dropped, as in psql
        except EOFError:
            return
        if not text.strip():
            continue
        if text.strip().rstrip(";").strip().lower() in EXIT_WORDS:
            return
        try:
            if is_command(text):
                commands.run(text)
            else:
                run(text)
        except (SovauditError, *errors) as exc:
            message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            err.print(Text(f"error: {visible(message)}", style="red"), soft_wrap=True)
