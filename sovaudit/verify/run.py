"""`sovaudit verify`: the lake's own evidence, and optionally CloudTrail's digests, in one report."""

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sovaudit.errors import LedgerDamaged
from sovaudit.lake import Lake
from sovaudit.verify.cloudtrail.archived_files import archived_files
from sovaudit.verify.cloudtrail.digest_table import commit_verdicts
from sovaudit.verify.cloudtrail.public_keys import PublicKeySource
from sovaudit.verify.cloudtrail.validation import FAILED, DigestValidation, validate_cloudtrail
from sovaudit.verify.lake_integrity import LakeVerification, verify_lake
from sovaudit.verify.outcome import Break, CheckOutcome


@dataclass
class VerifyReport:
    lake: LakeVerification
    cloudtrail: DigestValidation | None = None
    cloudtrail_check: CheckOutcome | None = None
    recorded: dict[str, Any] | None = None  # the ledger entry that committed the CloudTrail verdicts

    @property
    def checks(self) -> list[CheckOutcome]:
        return self.lake.checks + ([self.cloudtrail_check] if self.cloudtrail_check else [])

    @property
    def ok(self) -> bool:
        return all(check.ok for check in self.checks)

    @property
    def exit_code(self) -> int:
        return 0 if self.ok else 1

    @property
    def breaks(self) -> list[Break]:
        return [b for check in self.checks for b in check.breaks]

    def as_dict(self) -> dict[str, Any]:
        out = self.lake.as_dict()
        out["ok"] = self.ok
        out["checks"] = [c.as_dict() for c in self.checks]
        if self.cloudtrail is not None:
            ct = self.cloudtrail
            out["cloudtrail"] = {
                "summary": ct.summary(), "coverage": ct.coverage, "digest_files": ct.counts("digest"),
                "log_files": ct.counts("log"), "gaps": ct.gaps, "notes": ct.notes,
                "recorded_by": self.recorded["run_id"] if self.recorded else None,
                "results": [v.as_dict() for v in ct.verdicts],
            }
        return out


def _as_check(validation: DigestValidation) -> CheckOutcome:
    outcome = CheckOutcome("cloudtrail_digest", "CloudTrail digest files and the log files they list",
                           checked=len(validation.verdicts), unit="files")
    for verdict in validation.verdicts:
        if verdict.status in FAILED:
            outcome.broken(verdict.location, verdict.message.rsplit("\t", 1)[-1] +
                           (f": {verdict.detail}" if verdict.detail else ""),
                           verdict.expected_sha256, verdict.found_sha256 if verdict.expected_sha256 else None)
    outcome.notes += validation.gaps + validation.notes
    logs = validation.counts("log")
    if logs.get("not_covered"):
        outcome.notes.append(f"{logs['not_covered']} log file(s) in the lake are not covered by a valid digest")
    return outcome


def verify(lake: Lake, *, cloudtrail: bool = False, public_keys: PublicKeySource | None = None,
           expect_head: str | None = None, record: bool = True) -> VerifyReport:
    """Verify the lake; with `cloudtrail`, also validate CloudTrail digests and (with `record`) commit the
    verdicts to the lake's `cloudtrail_digest` table. Never raises on a failed check: read `.ok` and `.breaks`."""
    report = VerifyReport(verify_lake(lake, expect_head=expect_head))
    if cloudtrail:
        logs, digests = archived_files([line.entry for line in report.lake.lines])
        started = datetime.now(UTC)
        report.cloudtrail = validate_cloudtrail(lake.archive, logs, digests, public_keys)
        if record:
            _record(lake, report, started)
        report.cloudtrail_check = _as_check(report.cloudtrail)
    return report


def _record(lake: Lake, report: VerifyReport, started: datetime) -> None:
    assert report.cloudtrail is not None
    try:
        report.recorded = commit_verdicts(lake, report.cloudtrail, started)
    except LedgerDamaged:  # the ledger_chain check names the line; nothing is appended to an altered ledger
        report.cloudtrail.notes.append("the verdicts were not recorded in the lake: its ledger has a line "
                                       "that is not an entry")
