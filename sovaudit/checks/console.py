"""A check run and the catalogue as Rich tables and Markdown, for people."""

from rich.console import Console, Group
from rich.panel import Panel
from rich.syntax import Syntax
from rich.table import Table
from rich.text import Text

from sovaudit.checks.catalogue import Check
from sovaudit.checks.links import catalogue_anchor
from sovaudit.checks.runner import CheckRun
from sovaudit.output import visible
from sovaudit.timewindow import iso

STATUS_STYLE = {"PASS": "bold green", "FAIL": "bold red", "ACCEPTED": "bold blue", "NOT_ASSESSED": "bold yellow"}
SEVERITY_STYLE = {"critical": "bold magenta", "high": "red", "medium": "yellow", "low": "cyan", "info": "dim"}


def print_run(run: CheckRun, console: Console, fail_on: str) -> None:
    window = f"{iso(run.window.since)} – {iso(run.window.until)}"
    console.print(Text(f"Window {window}" + (" (last 30 days of data)" if run.window.defaulted else ""), style="bold"))
    for c in run.coverage:
        span = f"{c['first']} – {c['last']}" if c["events"] else "no events"
        console.print(Text(f"  {c['source']}: {c['events']:,} events, {span}",
                           style="dim" if c["events"] else "yellow"))
    summary = Table(title="checks", header_style="bold cyan", title_justify="left")
    for column in ("check", "status", "severity", "family", "title", "findings", "why"):
        summary.add_column(column, no_wrap=column in ("check", "status", "severity"),
                           justify="right" if column == "findings" else "left")
    for r in run.results:
        c = r.check
        summary.add_row(c.id, Text(r.status, style=STATUS_STYLE[r.status]), Text(c.severity, SEVERITY_STYLE[c.severity]),
                        c.family, Text(visible(c.title)), str(len(r.findings)), Text(visible(r.status_reason)))
    console.print(summary)
    for r in run.results:
        if not r.findings:
            continue
        table = Table(title=f"{r.check.id} {r.check.title} [{r.check.severity}]", header_style="bold cyan",
                      title_justify="left", show_lines=True)
        for column in ("finding", "resource", "actor", "region", "counterpart", "first seen", "last seen", "events",
                       "reason", "evidence"):
            table.add_column(column, justify="right" if column == "events" else "left",
                             min_width=19 if column == "finding" else None)
        for f in r.findings:
            more = f" +{f.evidence_total - 3} more" if f.evidence_total > 3 else ""
            region = (f"{f.region or '-'} ({f.region_jurisdiction})" if f.region_jurisdiction
                      else (f.region or "-"))
            finding = Text(f.finding_id)
            if f.acceptance:
                finding.append(f"\nACCEPTED until {f.acceptance.expires.isoformat()}", style=STATUS_STYLE["ACCEPTED"])
            table.add_row(finding, Text(visible(f.resource or "-")), Text(visible(f.actor or "-")), Text(visible(region)),
                          Text(visible(f.counterpart_jurisdiction or "-")),
                          iso(f.first_seen) or "-", iso(f.last_seen) or "-", f"{f.event_count:,}",
                          Text(visible(f.reason)), Text(visible("\n".join(f.evidence[:3]) + more)))
        console.print(table)
    counts = {s: sum(r.status == s for r in run.results) for s in STATUS_STYLE}
    accepted = sum(len(r.accepted_findings) for r in run.results)
    line = Text(f"{counts['PASS']} passed, {counts['FAIL']} failed, {counts['ACCEPTED']} accepted, "
                f"{counts['NOT_ASSESSED']} not assessed; {accepted} accepted finding(s) not counted; ")
    failing = run.failing(fail_on)
    line.append(f"{len(failing)} failing at or above {fail_on}", style="bold red" if failing else "bold green")
    console.print(line)
    for reason in run.partial_reasons:
        console.print(Text(f"partial evidence: {visible(reason)}", style="yellow"))


def suppression_notes(run: CheckRun) -> list[str]:
    """One line per expired suppression: what it no longer accepts."""
    return [f"warning: {visible(s['note'])}" for s in run.suppressions if s["state"] == "expired"]


def catalogue_table(checks: list[Check]) -> Table:
    table = Table(title="check catalogue", header_style="bold cyan", title_justify="left")
    for column in ("id", "severity", "family", "title", "gdpr", "requires"):
        table.add_column(column, no_wrap=column in ("id", "severity"))
    for c in checks:
        table.add_row(c.id, Text(c.severity, SEVERITY_STYLE[c.severity]), c.family, Text(visible(c.title)),
                      "; ".join(c.gdpr), c.requires_text + ("" if c.builtin else " (user check)"))
    return table


def catalogue_markdown(checks: list[Check]) -> str:
    lines = ["| id | severity | family | title | GDPR | needs |", "|---|---|---|---|---|---|"]
    for c in checks:
        needs = ", ".join([c.requires_text, *c.policy] + (["baseline"] if c.baseline else []))
        title = c.title.replace("|", "\\|")
        lines.append(f'| <a id="{catalogue_anchor(c.id)}"></a>{c.id} | {c.severity} | {c.family} | {title} | '
                     f"{'; '.join(c.gdpr)} | {needs} |")
    return "\n".join(lines) + "\n"


def check_detail(check: Check) -> Group:
    meta = Table.grid(padding=(0, 2))
    meta.add_column(style="bold cyan")
    meta.add_column()
    for label, value in (("id", check.id), ("title", check.title), ("family", check.family),
                         ("severity", check.severity), ("gdpr", "; ".join(check.gdpr)),
                         ("requires", check.requires_text), ("policy", ", ".join(check.policy) or "-"),
                         ("baseline", "yes" if check.baseline else "no"), ("report", check.report or "-"),
                         ("file", str(check.path)),
                         ("description", check.description), ("remediation", check.remediation)):
        meta.add_row(label, Text(visible(value)))
    return Group(meta, Panel(Syntax(visible(check.sql), "sql", word_wrap=True, theme="ansi_dark"), title="SQL"))
