"""Rows to text: Rich tables for people, CSV / JSON / NDJSON for scripts."""

import csv
import json
import sys
from datetime import date, datetime
from decimal import Decimal
from typing import Any, TextIO

from rich.console import Console
from rich.table import Table
from rich.text import Text


def json_default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bytes):
        return value.hex()
    return str(value)


def dumps(value: Any) -> str:
    return json.dumps(value, default=json_default, ensure_ascii=False)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list | dict):
        return dumps(value)
    return str(value)


def write_rows(columns: list[str], rows: list[tuple], fmt: str, console: Console, out: TextIO | None = None,
               title: str | None = None) -> None:
    out = out or sys.stdout
    if fmt == "table":
        table = Table(title=title, show_lines=False, header_style="bold cyan")
        for column in columns:
            table.add_column(column, overflow="fold")
        for row in rows:
            # Text, not str: log values are attacker-controlled and must never be read as Rich markup.
            table.add_row(*(Text(_cell(v)) for v in row))
        console.print(table)
    elif fmt == "csv":
        writer = csv.writer(out)
        writer.writerow(columns)
        writer.writerows([_cell(v) for v in row] for row in rows)
    elif fmt == "json":
        out.write(json.dumps([dict(zip(columns, row, strict=True)) for row in rows], default=json_default,
                             ensure_ascii=False, indent=2) + "\n")
    elif fmt == "ndjson":
        for row in rows:
            out.write(dumps(dict(zip(columns, row, strict=True))) + "\n")
    else:
        raise ValueError(fmt)
