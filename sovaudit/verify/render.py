"""`sovaudit verify` output for people: Rich tables of the checks, each break, and CloudTrail verdicts."""

from rich.console import Console
from rich.table import Table
from rich.text import Text

from sovaudit.output import visible
from sovaudit.verify.id_conflicts import describe
from sovaudit.verify.run import VerifyReport


def _checks_table(report: VerifyReport) -> Table:
    table = Table(title=f"verify {report.lake.lake}", header_style="bold cyan", title_justify="left")
    table.add_column("check")
    table.add_column("checked", justify="right")
    table.add_column("result")
    for check in report.checks:
        result = Text("ok", style="green") if check.ok else Text(f"FAILED: {len(check.breaks)} break(s)", "bold red")
        table.add_row(Text(visible(check.title)), f"{check.checked:,} {check.unit}", result)
    return table


def _print_breaks(report: VerifyReport, console: Console) -> None:
    """One block per break, hashes unwrapped so they can be copied and compared. CloudTrail's come with
    their verdicts below, in aws-cli's words."""
    breaks = [b for b in report.breaks if b.check != "cloudtrail_digest"]
    if not breaks:
        return
    console.print(Text("what failed to verify:", style="bold red"))
    for b in breaks:
        console.print(Text(visible(f"✗ [{b.check}] {b.where}"), style="red"), soft_wrap=True)
        _print_body(console, b.problem, b.expected, b.found)


def _print_body(console: Console, problem: str | None, expected: str | None, found: str | None) -> None:
    if problem:
        console.print(Text(visible(f"    {problem}")), soft_wrap=True)
    if expected is not None or found is not None:
        console.print(Text(visible(f"    expected {expected}\n    found    {found}")), soft_wrap=True)


def _print_cloudtrail(report: VerifyReport, console: Console) -> None:
    ct = report.cloudtrail
    assert ct is not None
    console.print(Text("CloudTrail digest validation (as aws cloudtrail validate-logs):", style="bold"))
    uncovered = [v for v in ct.verdicts if v.status == "not_covered"]
    for verdict in ct.verdicts:
        if verdict.status in ("valid", "not_covered"):
            continue
        console.print(Text(visible(f"✗ {verdict.message}".replace("\t", "  ")), style="red"), soft_wrap=True)
        found = verdict.found_sha256 if verdict.status == "INVALID" and verdict.kind == "log" else None
        _print_body(console, verdict.detail, verdict.expected_sha256 if found else None, found)
    for verdict in uncovered[:10]:
        console.print(Text(visible(f"- {verdict.message}".replace("\t", "  ")), style="yellow"), soft_wrap=True)
        _print_body(console, verdict.detail, None, None)
    if len(uncovered) > 10:
        console.print(Text(f"- … and {len(uncovered) - 10:,} more log files not covered by a valid digest "
                           "(all of them: sovaudit sql \"FROM cloudtrail_digest WHERE status = 'not_covered'\")",
                           style="yellow"), soft_wrap=True)
    for gap in ct.gaps:
        console.print(Text(visible(gap), style="yellow"), soft_wrap=True)
    coverage = "no CloudTrail log files in the lake" if ct.coverage is None else \
        f"{ct.coverage:.1%} of the lake's CloudTrail log files are covered by a valid digest"
    console.print(Text(f"CloudTrail: {ct.summary()}; {coverage}"), soft_wrap=True)
    if report.recorded:
        console.print(Text(f"verdicts recorded in the lake table cloudtrail_digest (run {report.recorded['run_id']})",
                           style="dim"))


def render_report(report: VerifyReport, console: Console) -> None:
    console.print(_checks_table(report))
    _print_breaks(report, console)
    if conflicts := describe(report.lake.id_conflicts):
        console.print(Text(f"warning: {visible(conflicts)}", style="yellow"), soft_wrap=True)
    for check in report.checks:
        for note in check.notes:
            if check.check != "cloudtrail_digest":
                console.print(Text(f"note: {visible(note)}", style="dim"), soft_wrap=True)
    if report.cloudtrail is not None:
        _print_cloudtrail(report, console)
        for note in report.cloudtrail.notes:
            console.print(Text(f"note: {visible(note)}", style="dim"), soft_wrap=True)
    verdict = Text("verified", style="bold green") if report.ok else \
        Text(f"FAILED: {len(report.breaks)} thing(s) did not verify", style="bold red")
    console.print(Text(f"ledger head {report.lake.ledger_head} ({report.lake.ledger_entries} entries) — ") + verdict,
                  soft_wrap=True)
