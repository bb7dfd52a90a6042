"""Walk `ledger.jsonl` from the first line to the head: every entry hashes to what it says, links to the
one before it, is numbered in order, and its counts add up; a compaction replaces only files that counted, with
the same rows."""

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sovaudit.ledger import GENESIS, Ledger, NotAnEntry, entry_hash, read_entry
from sovaudit.live_files import advance, is_compaction
from sovaudit.verify.compaction_entries import compaction_problems
from sovaudit.verify.outcome import CheckOutcome

CHECK = "ledger_chain"


@dataclass
class LedgerLine:
    number: int  # 1-based line number in ledger.jsonl
    entry: dict[str, Any]

    @property
    def label(self) -> str:
        seq = self.entry.get("seq")
        run = self.entry.get("run_id")
        return f"ledger.jsonl line {self.number} (seq {seq}, run {run})" if run else \
            f"ledger.jsonl line {self.number} (seq {seq})"


def _count_problems(line: LedgerLine, outcome: CheckOutcome) -> None:
    entry = line.entry
    counts = entry.get("counts")
    if not isinstance(counts, dict):
        return
    try:
        read, stored = int(counts["read"]), int(counts["stored"])
        duplicate, quarantined = int(counts["duplicate"]), int(counts["quarantined"])
    except (KeyError, TypeError, ValueError):
        outcome.broken(line.label, "its counts are incomplete or not numbers", "read, stored, duplicate, quarantined",
                       json.dumps(counts, sort_keys=True))
        return
    if read != stored + duplicate + quarantined:
        outcome.broken(line.label, "its counts do not add up (read = stored + duplicate + quarantined)",
                       f"read {stored + duplicate + quarantined}", f"read {read} "
                       f"(stored {stored}, duplicate {duplicate}, quarantined {quarantined})")
    files = entry.get("files") or []
    in_files = sum(int(f.get("rows") or 0) for f in files if isinstance(f, dict))
    if files or stored:
        if in_files != stored:
            outcome.broken(line.label, "its stored count differs from the rows of the Parquet files it committed",
                           f"stored {in_files}", f"stored {stored}")
    quarantine_file = entry.get("quarantine_file") or {}
    in_quarantine = int(quarantine_file.get("rows") or 0) if isinstance(quarantine_file, dict) else 0
    if in_quarantine != quarantined:
        outcome.broken(line.label, "its quarantined count differs from the rows of its quarantine file",
                       f"quarantined {in_quarantine}", f"quarantined {quarantined}")


def check_ledger_chain(path: Path) -> tuple[CheckOutcome, list[LedgerLine]]:
    """Return the outcome and every line that parsed as an entry (broken or not), for the other checks."""
    outcome = CheckOutcome(CHECK, "Ledger hash chain, first entry to head", unit="entries")
    lines = Ledger(path).lines()
    parsed: list[LedgerLine] = []
    expected_prev, expected_seq = GENESIS, 1
    live: dict[str, dict[str, Any]] = {}  # path → record of each Parquet file that counts so far
    for number, raw in lines.numbered:
        where = f"ledger.jsonl line {number}"
        if not raw.strip():
            outcome.broken(where, "a blank line where an entry should be", "one JSON entry", "an empty line")
            continue
        try:
            entry = read_entry(raw)
        except NotAnEntry as exc:
            outcome.broken(where, exc.problem, exc.expected, exc.found)
            continue
        line = LedgerLine(number, entry)
        parsed.append(line)
        outcome.checked += 1
        recorded = entry.get("hash")
        computed = entry_hash(entry)
        if recorded != computed:
            outcome.broken(line.label, "its content no longer matches the hash recorded with it: the entry was "
                                       "changed after it was written", recorded, computed)
        seq = entry.get("seq")
        if seq != expected_seq:
            if isinstance(seq, int) and seq > expected_seq:
                missing = f"seq {expected_seq}" if seq == expected_seq + 1 else f"seq {expected_seq}–{seq - 1}"
                problem = f"entry numbering jumps: {missing} is missing (a ledger line was removed)"
            else:
                problem = "entry numbering is out of order (a ledger line was moved, copied or renumbered)"
            outcome.broken(line.label, problem, f"seq {expected_seq}", f"seq {seq}")
        prev = entry.get("prev_hash")
        if prev != expected_prev:
            before = "the genesis value" if expected_prev == GENESIS else "the hash of the entry on the line before"
            outcome.broken(line.label, f"prev_hash is not {before}: the chain is broken here", expected_prev, prev)
        _count_problems(line, outcome)
        if is_compaction(entry):
            for problem, expected, found in compaction_problems(entry, live):
                outcome.broken(line.label, problem, expected, found)
        advance(live, entry, lambda record: record)
        expected_prev = recorded if isinstance(recorded, str) else computed
        expected_seq = (seq if isinstance(seq, int) else expected_seq) + 1
    if lines.torn:
        outcome.notes.append(f"ledger.jsonl ends with an incomplete line ({len(lines.torn)} bytes) from a pull that "
                             "was interrupted before it committed; it is not part of the lake and the next pull "
                             "removes it")
    if lines.unterminated:
        outcome.notes.append(f"the last line of ledger.jsonl (line {len(lines.numbered)}) has no final newline: it is "
                             "read like any other line, and the next pull adds the newline")
    return outcome, parsed


def head_of(lines: list[LedgerLine]) -> str:
    return lines[-1].entry.get("hash", GENESIS) if lines else GENESIS
