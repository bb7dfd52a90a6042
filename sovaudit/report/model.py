"""Everything the Article 30 evidence report states, as plain data: the JSON format, and what the templates render.

Built from a check session (the same window, policy and classification the checks used) and its run.
"""

from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sovaudit import __version__
from sovaudit.checks.catalogue import FAMILIES, REPORT_SECTIONS, SEVERITIES
from sovaudit.checks.runner import CheckRun, CheckSession
from sovaudit.geography import load_geography
from sovaudit.ledger import Ledger
from sovaudit.resources import query_text
from sovaudit.sources import SOURCES
from sovaudit.timewindow import iso

EVIDENCE_ROWS_PER_FINDING = 50
FAMILY_TITLES = {"cross_region": "Cross-region processing", "egress": "Egress across jurisdictions",
                 "key_use": "Encryption keys", "retention": "Retention", "integrity": "Integrity of the audit trail"}
REPORT_TITLE = "Record of processing activities with log evidence (GDPR Art. 30)"
SOURCE_FAMILY_TITLES = {"cloudtrail": "CloudTrail", "azure": "Azure Monitor", "kafka": "Kafka"}
PACKAGE_DIR = Path(__file__).resolve().parents[1]
DISCLAIMER = ("This report is evidence drawn from audit logs, not a legal opinion. Whether a transfer is lawful "
              "depends on facts and safeguards the logs cannot show.")


def _rows(session: CheckSession, name: str, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    relation = session.con.sql(query_text(f"report/{name}.sql"), params=params)
    return [dict(zip(relation.columns, row, strict=True)) for row in relation.fetchall()]


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return iso(value)
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def _transfer_basis(activity: Any, class_cfg: Any, jurisdiction: str) -> dict[str, str | None]:
    """declared (by the activity or the class, with its safeguard), adequacy (a full adequacy decision), or
    undeclared. A partial decision (e.g. the EU-US Data Privacy Framework, for certified organisations only)
    does not cover a flow by itself: it stays undeclared, with a note."""
    declared = next((t for t in (activity.transfers if activity else []) if t.to == jurisdiction), None)
    if declared:
        return {"status": "declared", "safeguard": declared.safeguard, "recipient": declared.recipient, "note": None}
    allowed = next((t for t in (class_cfg.allowed_transfers if class_cfg else []) if t.to == jurisdiction), None)
    if allowed:
        return {"status": "declared", "safeguard": allowed.safeguard, "recipient": None, "note": None}
    decision = load_geography().adequacy(jurisdiction)
    if decision and not decision.get("partial"):
        return {"status": "adequacy", "safeguard": f"{decision['instrument']} ({decision['name']})",
                "recipient": None, "note": None}
    note = (f"{decision['instrument']} covers only {decision['scope']}; declare the transfer if the recipient "
            "qualifies") if decision else None
    return {"status": "undeclared", "safeguard": None, "recipient": None, "note": note}


def _where(record: dict[str, Any]) -> str | None:
    """Where a pull read, as its source says; None for an entry no registered source wrote (e.g. verify's)."""
    source = SOURCES.get(record.get("type"))
    return source.where(record) if source else None


def shown_where(where: str | None, config_dir: Path | None) -> str | None:
    """A local path as a reader can place it: inside the installed sovaudit (the bundled demo) as
    `sovaudit/…`, under the config's folder relative to it, under the home folder as `~/…`; anything else
    (a bucket, a URL, a host:port, an absolute path elsewhere) as it is."""
    if not where or not where.startswith("/"):
        return where
    path = Path(where)
    for base, prefix in ((PACKAGE_DIR, "sovaudit"), (config_dir, "."), (Path.home(), "~")):
        if base is not None and path.is_relative_to(base):
            return str(Path(prefix, path.relative_to(base)))
    return where


def _family_of(table: str) -> str:
    """The source family whose sources write a lake table (CloudTrail, Azure Monitor, Kafka)."""
    for source in SOURCES.values():
        if table in source.tables:
            family = source.__module__.split(".")[2]
            return SOURCE_FAMILY_TITLES.get(family, family)
    return table


def _by_family(coverage: list[dict[str, Any]], key: str) -> list[dict[str, Any]]:
    """The accounts or regions of the coverage rows, once per source family: a family's tables share them."""
    merged: dict[str, set[str]] = {}
    for row in coverage:
        merged.setdefault(_family_of(row["source"]), set()).update(row.get(key) or [])
    order = list(SOURCE_FAMILY_TITLES.values())
    ranked = sorted(merged.items(), key=lambda item: (order.index(item[0]) if item[0] in order else len(order), item[0]))
    return [{"family": family, key: sorted(values)} for family, values in ranked if values]


def _scope(session: CheckSession) -> dict[str, Any]:
    sources = []
    seen = set()
    config_dir = session.loaded.path.parent.resolve() if session.loaded.path else None
    for entry in session.lake.ledger.entries():
        record = entry.get("source") or {}
        table = ", ".join(Ledger.tables_of(entry))
        key = (record.get("name"), record.get("type"), table)
        if table and key not in seen:
            seen.add(key)
            where = _where(record)
            sources.append({"name": record.get("name"), "type": record.get("type") or table,
                            "table": table, "where": where, "where_shown": shown_where(where, config_dir)})
    coverage = [_jsonable(r) for r in _rows(session, "coverage")]
    return {"sources": sources, "coverage": coverage, "accounts_by_family": _by_family(coverage, "accounts"),
            "regions_by_family": _by_family(coverage, "regions")}


def _evidence_rows(session: CheckSession, uids: list[str]) -> dict[str, dict[str, Any]]:
    if not uids:
        return {}
    return {r["event_uid"]: _jsonable(r) for r in _rows(session, "evidence_rows", {"uids": uids})}


def _activities(session: CheckSession, run: CheckRun) -> list[dict[str, Any]]:
    config = session.loaded.config
    classes = {c.name: c for c in config.data_classes}
    locations = _rows(session, "class_locations")
    transfers = _rows(session, "class_transfers")
    lifecycle = _rows(session, "class_lifecycle")
    topic_retention = _rows(session, "class_topic_retention")
    keys = _rows(session, "class_keys")

    def findings_of(section: str, class_names: set[str]) -> list[dict[str, Any]]:
        return [f.as_dict() for r in run.results if r.check.report == section
                for f in r.findings if f.details.get("data_class") in class_names]

    out = []
    for activity in config.processing_activities:
        names = set(activity.data_classes)
        flows = []
        for row in (r for r in transfers if r["class_name"] in names):
            flows.append({**_jsonable(row), **_transfer_basis(activity, classes.get(row["class_name"]),
                                                              row["destination"])})
        out.append({
            "name": activity.name, "purpose": activity.purpose, "data_subjects": activity.data_subjects,
            "data_categories": activity.data_categories, "recipients": activity.recipients,
            "data_classes": [{"name": n, "home": classes[n].home, "tier": classes[n].tier,
                              "retention_days": classes[n].retention_days} for n in activity.data_classes],
            "declared_transfers": [t.model_dump() for t in activity.transfers],
            "retention": activity.retention, "security_measures": activity.security_measures,
            "observed_locations": [_jsonable(r) for r in locations if r["class_name"] in names],
            "observed_transfers": flows,
            "lifecycle_rules": [_jsonable(r) for r in lifecycle if r["class_name"] in names],
            "topic_retention": [_jsonable(r) for r in topic_retention if r["class_name"] in names],
            "read_after_expiry": findings_of("read_after_expiry", names),
            "keys_used": [_jsonable(r) for r in keys if r["class_name"] in names],
            "key_weakening": findings_of("key_weakening", names),
        })
    return out


def _section_checks(run: CheckRun) -> dict[str, list[str]]:
    """The checks in this run that feed each report section, in catalogue order: what a section with no
    findings was checked by."""
    return {section: [r.check.id for r in run.results if r.check.report == section] for section in REPORT_SECTIONS}


def _summary(run: CheckRun) -> dict[str, Any]:
    by_family = {f: Counter() for f in FAMILIES}
    by_severity = {s: Counter() for s in SEVERITIES}
    for r in run.results:
        by_family.setdefault(r.check.family, Counter())[r.status] += 1
        by_severity[r.check.severity][r.status] += 1
    headline = sorted((r for r in run.results if r.status == "FAIL"),
                      key=lambda r: (r.check.severity_rank, r.check.id))
    return {
        "status_counts": dict(Counter(r.status for r in run.results)),
        "by_family": {f: dict(c) for f, c in by_family.items() if c},
        "by_severity": {s: dict(c) for s, c in by_severity.items() if c},
        "headlines": [{"id": r.check.id, "severity": r.check.severity, "title": r.check.title,
                       "findings": len(r.open_findings), "first_reason": r.open_findings[0].reason}
                      for r in headline[:8]],
        "failing": [r.check.id for r in run.failing()],
        "accepted_findings": sum(len(r.accepted_findings) for r in run.results),
    }


def _accepted(run: CheckRun) -> dict[str, Any]:
    """The accepted findings with their justification, and the suppressions that expired: an auditor reads
    both, so neither is left out of the report."""
    findings = [{"check": r.check.id, "title": r.check.title, "severity": r.check.severity, **f.as_dict()}
                for r in run.results for f in r.accepted_findings]
    return {"findings": findings, "expired": [s for s in run.suppressions if s["state"] == "expired"],
            "unused": [s for s in run.suppressions if s["state"] == "active" and not s["findings"]]}


def _subject(controller: str | None, window: dict[str, Any]) -> str:
    """What the document is, for its metadata (the PDF's Subject)."""
    period = f"{str(window.get('since'))[:10]} to {str(window.get('until'))[:10]}"
    return (f"Records of processing activities (GDPR Art. 30) of {controller or 'the controller'} set beside "
            f"audit-log evidence, {period}")


def build_report(session: CheckSession, run: CheckRun, integrity: dict[str, Any] | None = None) -> dict[str, Any]:
    for table in ("class_events", "class_flows"):  # in this order: the flows are read from the events
        session.con.execute(f"CREATE OR REPLACE TEMP TABLE {table} AS " + query_text(f"report/{table}.sql"))
    config = session.loaded.config
    checks = run.as_dict()
    uids = sorted({uid for r in run.results for f in r.findings for uid in f.evidence[:EVIDENCE_ROWS_PER_FINDING]})
    rows = _evidence_rows(session, uids)
    for check, result in zip(checks["checks"], run.results, strict=True):
        check["sql"] = result.check.sql
        check["path"] = str(result.check.path)
        check["builtin"] = result.check.builtin
        for finding in check["findings"]:
            finding["evidence_rows"] = [rows[u] for u in finding["evidence"][:EVIDENCE_ROWS_PER_FINDING] if u in rows]
    return {
        **checks,
        "report": {"title": REPORT_TITLE, "subject": _subject(config.organisation.controller, checks["window"]),
                   "generated_at": iso(datetime.now(UTC)), "tool_version": __version__},
        "organisation": config.organisation.model_dump(),
        "config_path": run.config_path,
        "fail_on": run.fail_on,
        "scope": _scope(session),
        "summary": _summary(run),
        "accepted": _accepted(run),
        "processing_activities": _activities(session, run),
        "section_checks": _section_checks(run),
        "charts": {"daily_jurisdictions": [_jsonable(r) for r in _rows(session, "daily_jurisdictions")],
                   "flow_matrix": [_jsonable(r) for r in _rows(session, "flow_matrix")],
                   "class_flow_matrix": [_jsonable(r) for r in _rows(session, "class_flow_matrix")]},
        "integrity": integrity,
        "disclaimer": DISCLAIMER,
    }
