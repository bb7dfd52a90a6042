"""The lake's own evidence: ledger chain, archive, committed files, row references. Read-only."""

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sovaudit.errors import UsageError
from sovaudit.lake import Lake
from sovaudit.lake_location import require_lake
from sovaudit.timewindow import iso
from sovaudit.verify.archive_blobs import check_archive
from sovaudit.verify.evidence_refs import check_evidence_refs
from sovaudit.verify.id_conflicts import count_id_conflicts
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
    # Per source: records set aside for reusing a stored event id with other content (not a break; see id_conflicts).
    id_conflicts: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)

    @property
    def breaks(self) -> list[Break]:
        return [b for c in self.checks for b in c.breaks]

    def as_dict(self) -> dict[str, Any]:
        return {"lake": self.lake, "verified_at": iso(self.verified_at), "ok": self.ok,
                "ledger_head": self.ledger_head, "ledger_entries": self.ledger_entries,
                "seconds": round(self.seconds, 3), "checks": [c.as_dict() for c in self.checks],
                "id_conflicts": self.id_conflicts_summary()}

    def id_conflicts_summary(self) -> dict[str, Any]:
        return {"records": sum(self.id_conflicts.values()), "by_source": dict(self.id_conflicts)}


_LEDGER_HEAD = re.compile(r"[0-9a-f]{64}")


def ledger_head_argument(value: str | None) -> str | None:
    """A ledger head given to compare with (--expect-head): a SHA-256 in hex. Anything else is a mistyped
    argument, not a sign that entries were removed, and is refused as such."""
    if value is None:
        return None
    head = value.strip().lower()
    if not _LEDGER_HEAD.fullmatch(head):
        shown = value if len(value) <= 80 else value[:80] + "…"
        raise UsageError(f"--expect-head: found {shown!r}, expected a ledger head: 64 hexadecimal digits (the "
                         "SHA-256 that `sovaudit verify`, a pull and the report print as the ledger head)")
    return head


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


def _files_under(*directories: Path) -> list[Path]:
    return [p for d in directories if d.is_dir() for p in d.rglob("*") if p.is_file()]


def _no_ledger(lake: Lake, chain: CheckOutcome) -> None:
    """No ledger: an empty lake, a first pull that was killed before it committed (its work space is still under
    tmp/ and every table file carries its run id, as Lake.recover will treat them), or a deleted ledger."""
    tables = _files_under(lake.tables_dir, lake.quarantine_dir)
    if not tables and not _files_under(lake.archive.root):
        return
    runs = sorted(p.name for p in lake.tmp_dir.iterdir() if p.is_dir()) if lake.tmp_dir.is_dir() else []
    if runs and all(any(p.name.startswith(run) for run in runs) for p in tables):
        chain.notes.append(f"no pull has committed to this lake yet: pull {', '.join(runs)} was interrupted (its work "
                           "space is still under tmp/); nothing it left is part of the lake, and the next pull "
                           "removes its files and keeps its archived blobs")
        return
    chain.broken("ledger.jsonl", "the ledger is missing although the lake holds evidence: nothing in it can "
                 "be traced to a pull", "ledger.jsonl", "no such file")


def verify_lake(lake: Lake, expect_head: str | None = None) -> LakeVerification:
    """Re-check everything the lake's own evidence rests on; returns every break found, never raises on one."""
    started = datetime.now(UTC)
    expect_head = ledger_head_argument(expect_head)
    require_lake(lake.root, unledgered=True)
    chain, lines = check_ledger_chain(lake.ledger.path)
    if not lake.ledger.path.exists():
        _no_ledger(lake, chain)
    checks = [chain]
    if expect_head:
        checks.append(_expected_head(lines, expect_head))
    checks.append(check_archive(lake.archive, lake.root, lines))
    files, good = check_lake_files(lake.root, lines)
    checks.append(files)
    checks.append(check_evidence_refs(lake.archive, good))
    if len(good) < files.checked:
        checks[-1].notes.append(f"{files.checked - len(good)} file(s) that failed their own check were not read")
    conflicts = count_id_conflicts(good)
    return LakeVerification(str(lake.root), started, head_of(lines), len(lines), checks,
                            (datetime.now(UTC) - started).total_seconds(), lines, id_conflicts=conflicts)
