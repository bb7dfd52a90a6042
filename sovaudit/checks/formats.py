"""A check run as text for machines: JSON, CSV (one row per finding), JUnit XML, SARIF 2.1.0 and OCSF."""

import csv
import io
import re
import uuid
from xml.etree import ElementTree as ET

from sovaudit import __version__
from sovaudit.checks.links import INFORMATION_URI, help_uri
from sovaudit.checks.ocsf import to_ocsf as ocsf_findings
from sovaudit.checks.runner import CheckResult, CheckRun, Finding
from sovaudit.output import csv_cell, dumps, visible
from sovaudit.timewindow import iso

CSV_COLUMNS = ("check_id", "finding_id", "status", "title", "family", "severity", "gdpr", "resource", "actor",
               "region", "region_jurisdiction", "counterpart_jurisdiction", "first_seen", "last_seen", "event_count",
               "reason", "evidence_total", "evidence", "accepted_reason", "accepted_by", "accepted_until")
_SARIF_LEVEL = {"critical": "error", "high": "error", "medium": "warning", "low": "note", "info": "note"}
_SECURITY_SEVERITY = {"critical": "9.5", "high": "8.0", "medium": "5.5", "low": "3.0", "info": "0.0"}
# SARIF's correlationGuid of a finding: the name-based UUID of its finding id in this namespace.
_FINDING_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, INFORMATION_URI + "/finding")


def to_json(run: CheckRun) -> str:
    return dumps(run.as_dict(), indent=2) + "\n"


def to_csv(run: CheckRun) -> str:
    buffer = io.StringIO()
    # CRLF, as RFC 4180 and evidence.csv: the csv module quotes only fields holding its line terminator's
    # characters, so with "\n" a CR in a log value went out unquoted and split the row.
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    for result in run.results:
        c = result.check
        for f in result.findings:
            d = f.as_dict()
            accepted = f.acceptance
            writer.writerow([csv_cell(v) for v in (
                c.id, f.finding_id, f.status, c.title, c.family, c.severity, "; ".join(c.gdpr), d["resource"],
                d["actor"], d["region"], d["region_jurisdiction"], d["counterpart_jurisdiction"], d["first_seen"],
                d["last_seen"], d["event_count"], d["reason"], d["evidence_total"], " ".join(d["evidence"]),
                accepted.reason if accepted else None, accepted.approved_by if accepted else None,
                accepted.expires.isoformat() if accepted else None)])
    return buffer.getvalue()


def _finding_line(f: Finding) -> str:
    return (f"- [{f.finding_id}] {f.resource or '-'} | {f.actor or '-'} | {f.region or '-'}: {f.reason} "
            f"(evidence: {', '.join(f.evidence[:5])}{' …' if f.evidence_total > 5 else ''})")


def _accepted_lines(result: CheckResult) -> str:
    return "\n".join(f"{_finding_line(f)}\n  accepted: {f.acceptance.text}" for f in result.accepted_findings)


def _printable(root: ET.Element) -> None:
    """XML 1.0 cannot carry most control characters, not even as character references: show them escaped."""
    for element in root.iter():
        if element.text:
            element.text = visible(element.text)
        for name, value in element.attrib.items():
            element.attrib[name] = visible(value)


def to_junit(run: CheckRun) -> str:
    failures = sum(r.status == "FAIL" for r in run.results)
    skipped = sum(r.status == "NOT_ASSESSED" for r in run.results)
    suites = ET.Element("testsuites", name="sovaudit", tests=str(len(run.results)), failures=str(failures),
                        skipped=str(skipped), time=f"{sum(r.seconds for r in run.results):.3f}")
    # The JUnit schema's timestamp takes no zone designator (ISO8601_DATETIME_PATTERN): UTC, without the Z.
    suite = ET.SubElement(suites, "testsuite", name="sovaudit checks", tests=str(len(run.results)),
                          failures=str(failures), skipped=str(skipped), errors="0",
                          timestamp=run.generated_at.strftime("%Y-%m-%dT%H:%M:%S"),
                          time=f"{sum(r.seconds for r in run.results):.3f}")
    props = ET.SubElement(suite, "properties")
    accepted = sum(len(r.accepted_findings) for r in run.results)
    for name, value in (("window.since", iso(run.window.since)), ("window.until", iso(run.window.until)),
                        ("generated_at", iso(run.generated_at)), ("ledger_head", run.ledger_head or ""),
                        ("lake", run.lake_path), ("version", __version__), ("findings.accepted", str(accepted))):
        ET.SubElement(props, "property", name=name, value=value)
    for result in run.results:
        c = result.check
        case = ET.SubElement(suite, "testcase", classname=f"sovaudit.{c.family}", name=f"{c.id} {c.title}",
                             time=f"{result.seconds:.3f}")
        if result.status == "FAIL":
            failure = ET.SubElement(case, "failure", type=c.severity,
                                    message=f"[{c.severity}] {result.status_reason}")
            failure.text = "\n".join(_finding_line(f) for f in result.open_findings)
            if result.accepted_findings:
                failure.text += "\n\nAccepted (not failing):\n" + _accepted_lines(result)
            failure.text += f"\n\nRemediation: {c.remediation}"
        elif result.status == "NOT_ASSESSED":
            ET.SubElement(case, "skipped", message=f"NOT_ASSESSED: {result.status_reason}")
        elif result.status == "ACCEPTED":
            ET.SubElement(case, "system-out").text = f"ACCEPTED: {result.status_reason}\n" + _accepted_lines(result)
    _printable(suites)
    ET.indent(suites)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n"


def rule_name(title: str) -> str:
    """SARIF's rule name: the whole title as one PascalCase word (`Tier-1 data accessed …` → `Tier1DataAccessed…`)."""
    return "".join(w[0].upper() + w[1:] for w in re.findall(r"[A-Za-z0-9]+", title))


def _logical_locations(f: Finding) -> list[dict[str, str]]:
    region = f.region or "(no region)"
    resource = f.resource or "(unknown resource)"
    return [{"name": resource, "fullyQualifiedName": f"{region}/{resource}", "kind": "resource"},
            {"name": region, "kind": "namespace"}]


def to_sarif(run: CheckRun) -> str:
    artifact = run.config_path or "sovaudit.toml"
    rules, results, notifications = [], [], []
    for index, result in enumerate(run.results):
        c = result.check
        rules.append({
            "id": c.id, "name": rule_name(c.title) or c.id,
            "shortDescription": {"text": c.title}, "fullDescription": {"text": c.description},
            "help": {"text": c.remediation}, "helpUri": help_uri(c.id),
            "defaultConfiguration": {"level": _SARIF_LEVEL[c.severity]},
            "properties": {"tags": [c.family, *c.gdpr], "security-severity": _SECURITY_SEVERITY[c.severity],
                           "severity": c.severity},
        })
        if result.status == "NOT_ASSESSED":
            notifications.append({"descriptor": {"id": c.id}, "level": "warning",
                                  "message": {"text": f"{c.id} NOT_ASSESSED: {result.status_reason}"}})
        for f in result.findings:
            results.append({
                "ruleId": c.id, "ruleIndex": index, "level": _SARIF_LEVEL[c.severity],
                "message": {"text": f.reason},
                "locations": [{
                    "physicalLocation": {"artifactLocation": {"uri": artifact}},
                    "logicalLocations": _logical_locations(f),
                }],
                "partialFingerprints": {"sovauditFinding/v2": f.fingerprint},
                "correlationGuid": str(uuid.uuid5(_FINDING_NAMESPACE, f.finding_id)),
                # An empty list says "not suppressed"; an accepted finding carries its justification.
                "suppressions": ([{"kind": "external", "status": "accepted", "justification": f.acceptance.text,
                                   "properties": f.acceptance.as_dict()}] if f.acceptance else []),
                "properties": {"finding_id": f.finding_id, "status": f.status, "actor": f.actor,
                               "region": f.region, "region_jurisdiction": f.region_jurisdiction,
                               "counterpart_jurisdiction": f.counterpart_jurisdiction,
                               "first_seen": iso(f.first_seen), "last_seen": iso(f.last_seen),
                               "event_count": f.event_count, "evidence": f.evidence,
                               "evidence_total": f.evidence_total},
            })
    document = {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "sovaudit", "version": __version__, "informationUri": INFORMATION_URI,
                                "rules": rules}},
            "invocations": [{"executionSuccessful": not any(r.error for r in run.results),
                             "toolExecutionNotifications": notifications}],
            "results": results,
            "properties": {"window": run.as_dict()["window"], "ledger_head": run.ledger_head,
                           "suppressions": run.suppressions},
        }],
    }
    return dumps(document, indent=2) + "\n"


def to_ocsf(run: CheckRun) -> str:
    return dumps(ocsf_findings(run), indent=2) + "\n"


WRITERS = {"json": to_json, "csv": to_csv, "junit": to_junit, "sarif": to_sarif, "ocsf": to_ocsf}
# What each format's file is called in a report set or an --out-dir.
FILE_NAMES = {"json": "findings.json", "csv": "findings.csv", "junit": "junit.xml", "sarif": "findings.sarif",
              "ocsf": "findings.ocsf.json"}
