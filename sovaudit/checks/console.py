"""A check run and the catalogue as Rich tables and Markdown, for people."""

from rich.console import Console, Group
from rich.panel import Panel
from rich.syntax import Syntax
from rich.table import Table
from rich.text import Text

from sovaudit.checks.catalogue import Check
from sovaudit.checks.links import catalogue_anchor
from sovaudit.checks.runner import NO_FAILING, CheckRun, Finding
from sovaudit.output import visible
from sovaudit.timewindow import iso

STATUS_STYLE = {"PASS": "bold green", "FAIL": "bold red", "ACCEPTED": "bold blue", "NOT_ASSESSED": "bold yellow"}
# Below this many columns a finding is shown as label and value lines: ten columns would leave ids a few
# characters wide.
FINDINGS_TABLE_WIDTH = 120
SEVERITY_STYLE = {"critical": "bold magenta", "high": "red", "medium": "yellow", "low": "cyan", "info": "dim"}


def print_run(run: CheckRun, console: Console, fail_on: str) -> None:
    window = f"{iso(run.window.since)} – {iso(run.window.until)}"
    console.print(Text(f"Window {window}" + (" (last 30 days of data)" if run.window.defaulted else ""), style="bold"))
    for c in run.coverage:
        span = f"{c['first']} – {c['last']}" if c["events"] else "no events"
        console.print(Text(f"  {c['source']}: {c['events']:,} events, {span}",
                           style="dim" if c["events"] else "yellow"))
    rows = [(Text(visible(r.check.id)), Text(r.status, style=STATUS_STYLE[r.status]),
             Text(r.check.severity, SEVERITY_STYLE[r.check.severity]), Text(r.check.family),
             Text(visible(r.check.title)), Text(str(len(r.findings))), Text(visible(r.status_reason)))
            for r in run.results]
    console.print(_summary_table(rows, console.width))
    for r in run.results:
        if r.findings:
            # Text, not markup: "[high]" would be read as a style, and a user check's title is not to be obeyed.
            title = Text(visible(f"{r.check.id} {r.check.title} [{r.check.severity}]"), style="bold")
            show = _print_findings_table if console.width >= FINDINGS_TABLE_WIDTH else _print_findings_records
            show(console, title, r.findings)
    counts = {s: sum(r.status == s for r in run.results) for s in STATUS_STYLE}
    accepted = sum(len(r.accepted_findings) for r in run.results)
    line = Text(f"{counts['PASS']} passed, {counts['FAIL']} failed, {counts['ACCEPTED']} accepted, "
                f"{counts['NOT_ASSESSED']} not assessed; {accepted} accepted finding(s) not counted; ")
    failing = run.failing(fail_on)
    if fail_on == NO_FAILING:
        line.append("findings do not fail the run (--fail-on none)", style="bold")
    else:
        line.append(f"{len(failing)} failing at or above {fail_on}", style="bold red" if failing else "bold green")
    console.print(line)
    for reason in run.partial_reasons:
        console.print(Text(f"partial evidence: {visible(reason)}", style="yellow"))


def suppression_notes(run: CheckRun) -> list[str]:
    """One line per expired suppression: what it no longer accepts."""
    return [f"warning: {visible(s['note'])}" for s in run.suppressions if s["state"] == "expired"]


def _summary_table(rows: list[tuple[Text, ...]], width: int) -> Table:
    """Every column folds rather than cuts, so that an id is whole at any width, over as many lines as it
    needs. The short columns keep their width while the title and the reason can take the squeeze (a minimum
    width Rich cannot honour would crop the table instead)."""
    summary = Table(title="checks", header_style="bold cyan", title_justify="left")
    columns = ("check", "status", "severity", "family", "title", "findings", "why")
    short = {i: max([len(c), *(row[i].cell_len for row in rows)])
             for i, c in enumerate(columns) if c not in ("title", "why")}
    # Rich does not fold a column below its longest word: the title's and the reason's count as well.
    words = sum(max((len(w) for row in rows for w in row[i].plain.split()), default=1)
                for i, c in enumerate(columns) if c in ("title", "why"))
    fits = sum(short.values()) + words + 3 * len(columns) + 1 <= width  # cells, borders and padding
    for i, column in enumerate(columns):
        summary.add_column(column, overflow="fold", min_width=short.get(i) if fits else None,
                           justify="right" if column == "findings" else "left")
    for row in rows:
        summary.add_row(*row)
    return summary


def _finding_cells(f: Finding) -> dict[str, str]:
    region = f"{f.region or '-'} ({f.region_jurisdiction})" if f.region_jurisdiction else (f.region or "-")
    more = f" +{f.evidence_total - 3} more" if f.evidence_total > 3 else ""
    finding = f.finding_id + (f"\nACCEPTED until {f.acceptance.expires.isoformat()}" if f.acceptance else "")
    return {"finding": finding, "resource": f.resource or "-", "actor": f.actor or "-", "region": region,
            "counterpart": f.counterpart_jurisdiction or "-", "first seen": iso(f.first_seen) or "-",
            "last seen": iso(f.last_seen) or "-", "events": f"{f.event_count:,}", "reason": f.reason,
            "evidence": "\n".join(f.evidence[:3]) + more}


def _print_findings_table(console: Console, title: Text, findings: list[Finding]) -> None:
    table = Table(title=title, header_style="bold cyan", title_justify="left", show_lines=True)
    for column in _finding_cells(findings[0]):
        table.add_column(column, overflow="fold", justify="right" if column == "events" else "left")
    for f in findings:
        table.add_row(*(Text(visible(value)) for value in _finding_cells(f).values()))
    console.print(table)


def _print_findings_records(console: Console, title: Text, findings: list[Finding]) -> None:
    """Too narrow for ten columns: each finding as label and value lines, the values folded, never cut."""
    console.print(title)
    for f in findings:
        grid = Table.grid(padding=(0, 1))
        grid.add_column(style="cyan", no_wrap=True)
        grid.add_column(overflow="fold")
        for label, value in _finding_cells(f).items():
            grid.add_row(f"  {label}", Text(visible(value)))
        console.print(grid)
        console.print()


def catalogue_table(checks: list[Check]) -> Table:
    table = Table(title="check catalogue", header_style="bold cyan", title_justify="left")
    for column in ("id", "severity", "family", "title", "gdpr", "requires"):
        table.add_column(column, overflow="fold")
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
