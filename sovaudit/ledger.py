"""The append-only, hash-chained ledger of pulls (`ledger.jsonl`)."""

import hashlib
import json
import os
from pathlib import Path
from typing import Any

from sovaudit.failpoints import hit

GENESIS = "0" * 64


def canonical(entry: dict[str, Any]) -> bytes:
    return json.dumps(entry, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def entry_hash(entry: dict[str, Any]) -> str:
    body = {k: v for k, v in entry.items() if k != "hash"}
    return hashlib.sha256(canonical(body)).hexdigest()


class Ledger:
    def __init__(self, path: Path):
        self.path = path

    @staticmethod
    def tables_of(entry: dict[str, Any]) -> list[str]:
        """The tables an entry's pull wrote: `tables`, or `table` in entries written before a pull could write
        several."""
        return list(entry.get("tables") or ([entry["table"]] if entry.get("table") else []))

    def _lines(self) -> list[bytes]:
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return []
        lines = data.split(b"\n")
        # A pull killed mid-append leaves a last line without its newline: it was never committed.
        if lines and lines[-1] != b"":
            lines = lines[:-1]
        return [line for line in lines if line.strip()]

    def entries(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self._lines()]

    def head(self) -> str:
        entries = self.entries()
        return entries[-1]["hash"] if entries else GENESIS

    def repair_torn_tail(self) -> None:
        """Drop an uncommitted partial last line. Call only while holding the lake lock."""
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return
        if data and not data.endswith(b"\n"):
            keep = data.rfind(b"\n") + 1
            with open(self.path, "r+b") as handle:
                handle.truncate(keep)
                os.fsync(handle.fileno())

    def append(self, entry: dict[str, Any]) -> dict[str, Any]:
        entries = self.entries()
        entry = dict(entry)
        entry["seq"] = len(entries) + 1
        entry["prev_hash"] = entries[-1]["hash"] if entries else GENESIS
        entry["hash"] = entry_hash(entry)
        line = canonical(entry) + b"\n"
        with open(self.path, "ab") as handle:
            if os.environ.get("SOVAUDIT_FAILPOINT") == "torn-ledger":
                handle.write(line[: len(line) // 2])
                handle.flush()
                hit("torn-ledger")
            handle.write(line)
            handle.flush()
            os.fsync(handle.fileno())
        return entry
