"""A check run as text for machines: JSON, CSV (one row per finding), JUnit XML and SARIF 2.1.0."""

import csv
import hashlib
import io
from xml.etree import ElementTree as ET

from sovaudit import __version__
from sovaudit.checks.runner import CheckRun
from sovaudit.output import csv_cell, dumps, visible

INFORMATION_URI = "https://github.com/sovaudit/sovaudit"
CSV_COLUMNS = ("check_id", "title", "family", "severity", "gdpr", "resource", "actor", "region",
               "region_jurisdiction", "counterpart_jurisdiction", "first_seen", "last_seen", "event_count", "reason", "evidence_total", "evidence")
_SARIF_LEVEL = {"critical": "error", "high": "error", "medium": "warning", "low": "note", "info": "note"}
_SECURITY_SEVERITY = {"critical": "9.5", "high": "8.0", "medium": "5.5", "low": "3.0", "info": "0.0"}


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
            writer.writerow([csv_cell(v) for v in (
                c.id, c.title, c.family, c.severity, "; ".join(c.gdpr), d["resource"], d["actor"], d["region"],
                d["region_jurisdiction"], d["counterpart_jurisdiction"], d["first_seen"], d["last_seen"], d["event_count"], d["reason"],
                d["evidence_total"], " ".join(d["evidence"]))])
    return buffer.getvalue()


def _finding_lines(result) -> str:
    return "\n".join(f"- {f.resource or '-'} | {f.actor or '-'} | {f.region or '-'}: {f.reason} "
                     f"(evidence: {', '.join(f.evidence[:5])}{' …' if f.evidence_total > 5 else ''})"
                     for f in result.findings)


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
    suite = ET.SubElement(suites, "testsuite", name="sovaudit checks", tests=str(len(run.results)),
                          failures=str(failures), skipped=str(skipped), errors="0",
                          timestamp=run.generated_at.strftime("%Y-%m-%dT%H:%M:%S"),
                          time=f"{sum(r.seconds for r in run.results):.3f}")
    props = ET.SubElement(suite, "properties")
    for name, value in (("window.since", run.window.since.isoformat()), ("window.until", run.window.until.isoformat()),
                        ("ledger_head", run.ledger_head or ""), ("lake", run.lake_path), ("version", __version__)):
        ET.SubElement(props, "property", name=name, value=value)
    for result in run.results:
        c = result.check
        case = ET.SubElement(suite, "testcase", classname=f"sovaudit.{c.family}", name=f"{c.id} {c.title}",
                             time=f"{result.seconds:.3f}")
        if result.status == "FAIL":
            failure = ET.SubElement(case, "failure", type=c.severity,
                                    message=f"[{c.severity}] {result.status_reason}")
            failure.text = _finding_lines(result) + f"\n\nRemediation: {c.remediation}"
        elif result.status == "NOT_ASSESSED":
            ET.SubElement(case, "skipped", message=f"NOT_ASSESSED: {result.status_reason}")
    _printable(suites)
    ET.indent(suites)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n"


def _fingerprint(check_id: str, finding) -> str:
    key = "\x1f".join(str(x) for x in (check_id, finding.resource, finding.actor, finding.region, finding.reason))
    # surrogatepass: the same bytes as UTF-8 for any real text, and no crash on a lone surrogate.
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


def to_sarif(run: CheckRun) -> str:
    artifact = run.config_path or "sovaudit.toml"
    rules, results, notifications = [], [], []
    for index, result in enumerate(run.results):
        c = result.check
        rules.append({
            "id": c.id, "name": "".join(w.capitalize() for w in c.title.split()[:8] if w.isalnum()) or c.id,
            "shortDescription": {"text": c.title}, "fullDescription": {"text": c.description},
            "help": {"text": c.remediation}, "defaultConfiguration": {"level": _SARIF_LEVEL[c.severity]},
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
                    "logicalLocations": [{"name": f.resource or "(unknown resource)", "kind": "resource"}],
                }],
                "partialFingerprints": {"sovauditFinding/v1": _fingerprint(c.id, f)},
                "properties": {"actor": f.actor, "region": f.region, "region_jurisdiction": f.region_jurisdiction,
                               "counterpart_jurisdiction": f.counterpart_jurisdiction,
                               "first_seen": f.as_dict()["first_seen"], "last_seen": f.as_dict()["last_seen"],
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
            "properties": {"window": run.as_dict()["window"], "ledger_head": run.ledger_head},
        }],
    }
    return dumps(document, indent=2) + "\n"


WRITERS = {"json": to_json, "csv": to_csv, "junit": to_junit, "sarif": to_sarif}
