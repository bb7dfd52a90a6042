"""The lake's own evidence: ledger chain, archive, committed files, row references. Read-only."""

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sovaudit.errors import UsageError
from sovaudit.lake import Lake
from sovaudit.timewindow import iso
from sovaudit.verify.archive_blobs import check_archive
from sovaudit.verify.evidence_refs import check_evidence_refs
from sovaudit.verify.lake_files import check_lake_files
from sovaudit.verify.ledger_chain import LedgerLine, check_ledger_chain, head_of
from sovaudit.verify.outcome import Break, CheckOutcome


@dataclass
class LakeVerification:
    lake: str
    verified_at: datetime
    ledger_head: str
    ledger_entries: int
    checks: list[CheckOutcome] = field(default_factory=list)
    seconds: float = 0.0
    lines: list[LedgerLine] = field(default_factory=list, repr=False)

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)

    @property
    def breaks(self) -> list[Break]:
        return [b for c in self.checks for b in c.breaks]

    def as_dict(self) -> dict[str, Any]:
        return {"lake": self.lake, "verified_at": iso(self.verified_at), "ok": self.ok,
                "ledger_head": self.ledger_head, "ledger_entries": self.ledger_entries,
                "seconds": round(self.seconds, 3), "checks": [c.as_dict() for c in self.checks]}


def _expected_head(lines: list[LedgerLine], expect_head: str) -> CheckOutcome:
    outcome = CheckOutcome("ledger_head", "Ledger still holds the head recorded earlier", unit="heads")
    outcome.checked = 1
    hashes = [line.entry.get("hash") for line in lines]
    if expect_head not in hashes:
        outcome.broken("ledger.jsonl", "the ledger head recorded earlier is no longer in the chain: entries were "
                       "removed or rewritten since", expect_head, head_of(lines))
    elif hashes[-1] != expect_head:
        at = hashes.index(expect_head)
        outcome.notes.append(f"the recorded head is entry seq {lines[at].entry.get('seq')}; "
                             f"{len(lines) - at - 1} entr(y/ies) were appended since")
    return outcome


def verify_lake(lake: Lake, expect_head: str | None = None) -> LakeVerification:
    """Re-check everything the lake's own evidence rests on; returns every break found, never raises on one."""
    started = datetime.now(UTC)
    if not lake.root.is_dir():
        raise UsageError(f"{lake.root}: no lake here (create one with `sovaudit pull`)")
    chain, lines = check_ledger_chain(lake.ledger.path)
    if not lake.ledger.path.exists() and any(p.is_file() for d in (lake.archive.root, lake.tables_dir)
                                             if d.exists() for p in d.rglob("*")):
        chain.broken("ledger.jsonl", "the ledger is missing although the lake holds evidence: nothing in it can "
                     "be traced to a pull", "ledger.jsonl", "no such file")
    checks = [chain]
    if expect_head:
        checks.append(_expected_head(lines, expect_head))
    checks.append(check_archive(lake.archive, lake.root, lines))
    files, good = check_lake_files(lake.root, lines)
    checks.append(files)
    checks.append(check_evidence_refs(lake.archive, good))
    if len(good) < files.checked:
        checks[-1].notes.append(f"{files.checked - len(good)} file(s) that failed their own check were not read")
    return LakeVerification(str(lake.root), started, head_of(lines), len(lines), checks,
                            (datetime.now(UTC) - started).total_seconds(), lines)
