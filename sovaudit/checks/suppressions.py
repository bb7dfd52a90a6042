"""Accepted findings: the config's [[suppressions]] applied to a check run.

A finding of the suppression's check whose resource and actor match its GLOBs (`*` matches anything, `/`
included; a missing resource or actor is matched as empty text) is ACCEPTED instead of FAIL, with the reason,
who approved it and until when; the first matching suppression, in config order, is the one cited. A check
whose findings are all accepted is ACCEPTED; one with any other finding stays FAIL. An expired suppression
matches nothing, and its entry says which findings it would have accepted, now FAIL again.
"""

from dataclasses import dataclass
from datetime import date
from fnmatch import fnmatchcase
from typing import TYPE_CHECKING, Any

from sovaudit.errors import ConfigError

if TYPE_CHECKING:
    from sovaudit.checks.catalogue import Check
    from sovaudit.checks.runner import CheckResult, Finding
    from sovaudit.config import Suppression


@dataclass(frozen=True)
class Acceptance:
    suppression: int  # its position in [[suppressions]], from 1
    reason: str
    approved_by: str
    expires: date

    def as_dict(self) -> dict[str, Any]:
        return {"suppression": self.suppression, "reason": self.reason, "approved_by": self.approved_by,
                "expires": self.expires.isoformat()}

    @property
    def text(self) -> str:
        """One line for JUnit, SARIF and terminals."""
        return f"{self.reason} (approved by {self.approved_by}, valid through {self.expires.isoformat()})"


def validate_suppressions(suppressions: "list[Suppression]", catalogue: "list[Check]",
                          config_path: object) -> None:
    known = {c.id for c in catalogue}
    for i, s in enumerate(suppressions):
        if s.check not in known:
            raise ConfigError(f"{config_path or 'sovaudit.toml'}: suppressions[{i}].check: found {s.check!r}, "
                              f"expected the id of a check in the catalogue (`sovaudit checks list`)")


def _matches(s: "Suppression", check_id: str, f: "Finding") -> bool:
    return s.check == check_id and fnmatchcase(f.resource or "", s.resource) and fnmatchcase(f.actor or "", s.actor)


def _describe(n: int, s: "Suppression") -> str:
    return f"suppression {n} ({s.check}, resource {s.resource}, actor {s.actor})"


def apply_suppressions(results: "list[CheckResult]", suppressions: "list[Suppression]",
                       today: date) -> list[dict[str, Any]]:
    """Marks accepted findings and ACCEPTED checks in place; returns each suppression's state for the outputs."""
    states = []
    for n, s in enumerate(suppressions, start=1):
        expired = today > s.expires
        matched = []
        for result in results:
            for f in result.findings:
                if not _matches(s, result.check.id, f):
                    continue
                if not expired and f.acceptance is None:
                    f.acceptance = Acceptance(n, s.reason, s.approved_by, s.expires)
                    matched.append(f.finding_id)
                elif expired:
                    matched.append(f.finding_id)
        if expired:
            again = (f"finding{'s' if len(matched) > 1 else ''} {', '.join(matched)} "
                     f"{'are' if len(matched) > 1 else 'is'} FAIL again") if matched else "it matches no finding"
            note = f"{_describe(n, s)} expired: valid through {s.expires.isoformat()}; {again}"
        else:
            note = (f"{_describe(n, s)} accepts {len(matched)} finding(s)" if matched
                    else f"{_describe(n, s)} matches no finding in this run")
        states.append({"suppression": n, "check": s.check, "resource": s.resource, "actor": s.actor,
                       "reason": s.reason, "approved_by": s.approved_by, "expires": s.expires.isoformat(),
                       "state": "expired" if expired else "active", "findings": matched, "note": note})
    for result in results:
        _restate(result)
    return states


def _restate(result: "CheckResult") -> None:
    accepted = result.accepted_findings
    if result.status != "FAIL" or not accepted:
        return
    still = result.open_findings
    if not still:
        events = sum(f.event_count for f in accepted)
        result.status = "ACCEPTED"
        result.status_reason = f"{len(accepted)} finding(s) over {events:,} event(s), all accepted"
        return
    events = sum(f.event_count for f in still)
    result.status_reason = (f"{len(still)} finding(s) over {events:,} event(s); "
                            f"{len(accepted)} more accepted")
