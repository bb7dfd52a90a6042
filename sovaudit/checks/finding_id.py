"""Stable finding ids: `XR-002-` and the first 12 hex digits of a SHA-256 over what identifies the finding.

The key is the check id, resource, actor, region, counterpart jurisdiction, first_seen and, where the check
returns one, the data class: what tells two findings of a check apart. Not the reason (its wording may change
between versions), nor last_seen, event_count or evidence, which grow as the window moves on while the finding
stays the same. So a finding keeps its id across runs over the same lake and window, whatever order the rows
came in, and findings.csv, evidence.csv, JSON, JUnit, SARIF, OCSF and the report cards all join on it.

Two findings of one check with the same key (a user check that groups by a column the key leaves out) are told
apart by their reason and first evidence id; findings alike in all of these too get `-2`, `-3` … after the
hash, in the order the check returned them.
"""

import hashlib
import json
from collections import Counter, defaultdict
from typing import Any, Protocol

from sovaudit.output import rfc3339

ID_HEX_DIGITS = 12


class Identifiable(Protocol):
    resource: str | None
    actor: str | None
    region: str | None
    counterpart_jurisdiction: str | None
    first_seen: Any
    reason: str
    evidence: list[str]
    details: dict[str, Any]
    finding_id: str
    fingerprint: str


def _key(check_id: str, f: Identifiable) -> list[Any]:
    first_seen = rfc3339(f.first_seen) if f.first_seen is not None else None
    key = [check_id, f.resource, f.actor, f.region, f.counterpart_jurisdiction, first_seen]
    if f.details.get("data_class") is not None:
        key.append(str(f.details["data_class"]))
    return key


def _digest(key: list[Any]) -> str:
    # JSON keeps None apart from "" and needs no separator; surrogatepass: no crash on a lone surrogate.
    text = json.dumps(key, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def assign_finding_ids(check_id: str, findings: list[Identifiable]) -> None:
    """Sets `fingerprint` (the full SHA-256, SARIF's partialFingerprints) and `finding_id` on each finding."""
    keys = [_key(check_id, f) for f in findings]
    counts = Counter(json.dumps(k, ensure_ascii=False) for k in keys)
    digests = []
    for f, key in zip(findings, keys, strict=True):
        if counts[json.dumps(key, ensure_ascii=False)] > 1:
            key = [*key, f.reason, f.evidence[0] if f.evidence else None]
        digests.append(_digest(key))
    seen: dict[str, int] = defaultdict(int)
    for f, digest in zip(findings, digests, strict=True):
        seen[digest] += 1
        suffix = f"-{seen[digest]}" if seen[digest] > 1 else ""
        f.fingerprint = digest + suffix
        f.finding_id = f"{check_id}-{digest[:ID_HEX_DIGITS]}{suffix}"
