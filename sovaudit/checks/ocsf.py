"""Findings as OCSF 1.1.0 Compliance Findings (class 2003), the schema AWS Security Lake and Security Hub read.

Compliance Finding, not Detection Finding (2004): OCSF defines it for "results of evaluations performed against
resources, to check compliance with various Industry Frameworks or Security Standards", which is what a check
is: a control (`compliance.control`, the check id) over GDPR articles (`compliance.requirements`), failed
(`compliance.status_id` 3). Detection Finding is for threat detections and has no compliance object.

Version 1.1.0 is the one Security Lake's custom sources take; the documents use nothing later versions dropped,
and a test validates them against the 1.1.0 and 1.6.0 (Security Hub's) schemas. Every finding carries the
`datetime` profile (each time also as RFC 3339 text, `*_dt`) and, when the built-in geography knows its region,
the `cloud` profile (provider and region): `metadata.profiles` lists what each one uses. An accepted finding is
`status_id` 3 Suppressed, with the justification in `status_detail`. What OCSF has no attribute for (actor,
jurisdictions, the evidence count, the ledger head) is under `unmapped`.
"""

from datetime import datetime
from typing import Any

from sovaudit import __version__
from sovaudit.checks.catalogue import Check
from sovaudit.checks.links import INFORMATION_URI, help_uri
from sovaudit.checks.runner import CheckRun, Finding
from sovaudit.geography import load_geography
from sovaudit.timewindow import iso

OCSF_VERSION = "1.1.0"
CLASS_UID, CATEGORY_UID, ACTIVITY_CREATE = 2003, 2, 1
_SEVERITY = {"info": (1, "Informational"), "low": (2, "Low"), "medium": (3, "Medium"), "high": (4, "High"),
             "critical": (5, "Critical")}
_STATUS = {"FAIL": (1, "New"), "ACCEPTED": (3, "Suppressed")}
_PROVIDER = {"aws": "AWS", "azure": "Azure", "gcp": "GCP"}
_COMPLIANCE_FAIL = 3


def _ms(value: datetime) -> int:
    return int(value.timestamp() * 1000)


def _times(prefix: str, value: datetime | None) -> dict[str, Any]:
    return {} if value is None else {prefix: _ms(value), f"{prefix}_dt": iso(value)}


def _cloud(region: str | None) -> dict[str, str] | None:
    known = load_geography().resolve(region) if region else None
    return {"provider": _PROVIDER[known.provider], "region": known.region} if known else None


def _finding(run: CheckRun, check: Check, f: Finding) -> dict[str, Any]:
    severity_id, severity = _SEVERITY[check.severity]
    status_id, status = _STATUS[f.status]
    cloud = _cloud(f.region)
    event: dict[str, Any] = {
        "activity_id": ACTIVITY_CREATE, "activity_name": "Create",
        "category_uid": CATEGORY_UID, "category_name": "Findings",
        "class_uid": CLASS_UID, "class_name": "Compliance Finding",
        "type_uid": CLASS_UID * 100 + ACTIVITY_CREATE, "type_name": "Compliance Finding: Create",
        "severity_id": severity_id, "severity": severity,
        "status_id": status_id, "status": status,
        **({"status_detail": f"accepted: {f.acceptance.text}"} if f.acceptance else {}),
        **_times("time", run.generated_at), **_times("start_time", f.first_seen), **_times("end_time", f.last_seen),
        "count": f.event_count,
        "message": f.reason,
        "metadata": {"version": OCSF_VERSION, "profiles": ["datetime", *(["cloud"] if cloud else [])],
                     "product": {"name": "sovaudit", "vendor_name": "sovaudit", "version": __version__,
                                 "url_string": INFORMATION_URI},
                     "log_name": "sovaudit check"},
        "finding_info": {"uid": f.finding_id, "title": check.title, "desc": check.description,
                         "types": [check.family], "src_url": help_uri(check.id),
                         **_times("first_seen_time", f.first_seen), **_times("last_seen_time", f.last_seen),
                         "related_events": [{"uid": uid} for uid in f.evidence]},
        "compliance": {"standards": ["GDPR"], "requirements": list(check.gdpr), "control": check.id,
                       "status": "Fail", "status_id": _COMPLIANCE_FAIL},
        "remediation": {"desc": check.remediation, "references": [help_uri(check.id)]},
        "unmapped": {"actor": f.actor, "region": f.region, "region_jurisdiction": f.region_jurisdiction,
                     "counterpart_jurisdiction": f.counterpart_jurisdiction, "evidence_total": f.evidence_total,
                     "ledger_head": run.ledger_head,
                     "window": {"since": iso(run.window.since), "until": iso(run.window.until)},
                     **({"accepted": f.acceptance.as_dict()} if f.acceptance else {}),
                     **({"details": f.details} if f.details else {})},
    }
    if f.resource:
        event["resource"] = {"uid": f.resource, "name": f.resource}
    if cloud:
        event["cloud"] = cloud
    return event


def to_ocsf(run: CheckRun) -> list[dict[str, Any]]:
    """One Compliance Finding per finding, FAIL or ACCEPTED; a check without findings emits nothing."""
    return [_finding(run, result.check, f) for result in run.results for f in result.findings]
