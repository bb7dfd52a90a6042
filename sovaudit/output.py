"""Rows to text: Rich tables for people, CSV / JSON / NDJSON for scripts."""

import csv
import json
import re
import sys
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, TextIO

from rich.console import Console
from rich.table import Table
from rich.text import Text

# What a terminal obeys, or XML and UTF-8 cannot carry: C0 controls but tab and newline, DEL, C1 controls, lone
# surrogates and the non-characters U+FFFE and U+FFFF.
_UNPRINTABLE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
_SURROGATE = re.compile("[\ud800-\udfff]")
# OWASP "CSV Injection": spreadsheets run a cell that starts with one of these as a formula.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def rfc3339(value: datetime) -> str:
    """One time format in every output: 2026-09-07T12:00:00Z (microseconds when there are any). A naive
    datetime, which only a user's SQL can make (the lake's times are TIMESTAMPTZ), carries no offset and gets
    none."""
    if value.tzinfo is None:
        return value.isoformat()
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _escape_form(match: re.Match) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def visible(text: str) -> str:
    """Control characters in their escape form (ESC becomes the four characters \\x1b): shown, never obeyed."""
    return _UNPRINTABLE.sub(_escape_form, text)


def csv_cell(value: Any) -> Any:
    """Text a spreadsheet would run as a formula gets a leading ' (OWASP); numbers, even negative, stay numbers.
    Lone surrogates, which UTF-8 cannot encode, are written in their escape form; times in RFC 3339."""
    if isinstance(value, datetime):
        return rfc3339(value)
    if not isinstance(value, str):
        return value
    value = _SURROGATE.sub(_escape_form, value)
    return "'" + value if value.startswith(_FORMULA_START) else value


def json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return rfc3339(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bytes):
        return value.hex()
    return str(value)


def dumps(value: Any, indent: int | None = None) -> str:
    """JSON, UTF-8 as is; a lone surrogate (not encodable) becomes the visible text \\udXXX."""
    text = json.dumps(value, default=json_default, ensure_ascii=False, indent=indent)
    return _SURROGATE.sub(lambda m: "\\" + _escape_form(m), text)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return rfc3339(value)
    if isinstance(value, list | dict):
        return dumps(value)
    return str(value)


def write_rows(columns: list[str], rows: list[tuple], fmt: str, console: Console, out: TextIO | None = None,
               title: str | None = None) -> None:
    out = out or sys.stdout
    if fmt == "table":
        table = Table(title=title, show_lines=False, header_style="bold cyan")
        for column in columns:
            table.add_column(Text(visible(column)), overflow="fold")
        for row in rows:
            # Text, not str: log values are attacker-controlled and must never be read as Rich markup.
            table.add_row(*(Text(visible(_cell(v))) for v in row))
        console.print(table)
    elif fmt == "csv":
        writer = csv.writer(out)
        writer.writerow([csv_cell(c) for c in columns])
        writer.writerows([csv_cell(v) if isinstance(v, str) else _cell(v) for v in row] for row in rows)
    elif fmt == "json":
        out.write(dumps([dict(zip(columns, row, strict=True)) for row in rows], indent=2) + "\n")
    elif fmt == "ndjson":
        for row in rows:
            out.write(dumps(dict(zip(columns, row, strict=True))) + "\n")
    else:
        raise ValueError(fmt)
