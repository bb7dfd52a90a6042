"""The append-only, hash-chained ledger of pulls (`ledger.jsonl`).

Each pull appends one line. The bytes after the last newline are a line like the others when they parse
(an editor may strip a final newline); bytes that do not parse are an append a killed pull cut short, never
committed: readers skip them and the next pull removes them. A complete line that is not an entry means the
ledger was altered: readers refuse the lake (LedgerDamaged) and `sovaudit verify` names the line.
"""

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sovaudit.errors import LedgerDamaged
from sovaudit.failpoints import hit

GENESIS = "0" * 64


def canonical(entry: dict[str, Any]) -> bytes:
    return json.dumps(entry, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def entry_hash(entry: dict[str, Any]) -> str:
    body = {k: v for k, v in entry.items() if k != "hash"}
    return hashlib.sha256(canonical(body)).hexdigest()


class NotAnEntry(ValueError):
    """Why a ledger line is not an entry, with what verify reports as expected and found."""

    def __init__(self, problem: str, expected: str | None = None, found: str | None = None):
        super().__init__(problem)
        self.problem, self.expected, self.found = problem, expected, found


def read_entry(raw: bytes) -> dict[str, Any]:
    """One ledger line as an entry; NotAnEntry says why it is none."""
    try:
        entry = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise NotAnEntry(f"not a valid JSON entry ({exc.msg} at column {exc.colno})") from None
    except UnicodeDecodeError:
        raise NotAnEntry("not a valid JSON entry (not UTF-8 text)") from None
    if not isinstance(entry, dict):
        raise NotAnEntry("not a JSON object", "an object", type(entry).__name__)
    return entry


def _parses(raw: bytes) -> bool:
    try:
        json.loads(raw)
    except ValueError:
        return False
    return True


@dataclass(frozen=True)
class LedgerLines:
    numbered: list[tuple[int, bytes]]  # every line but a torn tail, with its 1-based number
    torn: bytes | None = None  # what an interrupted append left after the last newline
    unterminated: bool = False  # the last line parses but has no newline (an editor stripped it)


def split_lines(data: bytes) -> LedgerLines:
    """A torn tail never parses: an append writes one JSON object, and no part of one short of all is JSON."""
    raw = data.split(b"\n")
    tail = raw.pop()
    if tail and _parses(tail):
        return LedgerLines(list(enumerate([*raw, tail], start=1)), None, True)
    return LedgerLines(list(enumerate(raw, start=1)), tail or None)


class Ledger:
    def __init__(self, path: Path):
        self.path = path

    @staticmethod
    def tables_of(entry: dict[str, Any]) -> list[str]:
        """The tables an entry's pull wrote: `tables`, or `table` in entries written before a pull could write
        several."""
        return list(entry.get("tables") or ([entry["table"]] if entry.get("table") else []))

    def lines(self) -> LedgerLines:
        try:
            return split_lines(self.path.read_bytes())
        except FileNotFoundError:
            return LedgerLines([])

    def entries(self, lines: LedgerLines | None = None) -> list[dict[str, Any]]:
        """Every entry, in order. Raises LedgerDamaged on a line that is not one: what it committed is unknown."""
        out = []
        for number, raw in (self.lines() if lines is None else lines).numbered:
            if not raw.strip():
                continue  # it hides no entry; verify reports it
            try:
                out.append(read_entry(raw))
            except NotAnEntry as exc:
                raise LedgerDamaged(f"{self.path} line {number}: {exc.problem}, so the ledger was altered and "
                                    "the lake is not read (sovaudit verify shows what broke)") from None
        return out

    def torn_tail(self, lines: LedgerLines | None = None) -> str | None:
        """A warning about an interrupted append's partial last line, or None when there is none."""
        lines = self.lines() if lines is None else lines
        if lines.torn is None:
            return None
        return (f"{self.path} line {len(lines.numbered) + 1} is an incomplete entry ({len(lines.torn)} bytes) from "
                "a pull interrupted before it committed: it is not read, and the next pull removes it")

    def head(self) -> str:
        entries = self.entries()
        return entries[-1]["hash"] if entries else GENESIS

    def repair_torn_tail(self, lines: LedgerLines | None = None) -> None:
        """Drop an uncommitted partial last line. Call only while holding the lake lock."""
        lines = self.lines() if lines is None else lines
        if lines.torn is not None:
            with open(self.path, "r+b") as handle:
                handle.truncate(handle.seek(0, os.SEEK_END) - len(lines.torn))
                os.fsync(handle.fileno())

    def append(self, entry: dict[str, Any]) -> dict[str, Any]:
        """Append an entry after the last one. Call only while holding the lake lock."""
        lines = self.lines()
        entries = self.entries(lines)
        self.repair_torn_tail(lines)
        entry = dict(entry)
        entry["seq"] = len(entries) + 1
        entry["prev_hash"] = entries[-1]["hash"] if entries else GENESIS
        entry["hash"] = entry_hash(entry)
        line = (b"\n" if lines.unterminated else b"") + canonical(entry) + b"\n"
        with open(self.path, "ab") as handle:
            if os.environ.get("SOVAUDIT_FAILPOINT") == "torn-ledger":
                handle.write(line[: len(line) // 2])
                handle.flush()
                hit("torn-ledger")
            handle.write(line)
            handle.flush()
            os.fsync(handle.fileno())
        return entry
