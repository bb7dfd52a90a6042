"""The report as HTML (one self-contained file), PDF (WeasyPrint, from the same HTML), JSON, and the full
evidence lists as CSV."""

import csv
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from sovaudit.checks.runner import CheckSession, Finding, read_findings
from sovaudit.output import csv_cell, dumps, visible
from sovaudit.report import charts
from sovaudit.report.model import FAMILY_TITLES
from sovaudit.resources import query_text, resource_dir

if TYPE_CHECKING:
    import weasyprint


@dataclass(frozen=True)
class Limits:
    """How much of each list a rendering shows; the rest is counted and pointed to in the CSV files."""
    findings_per_check: int
    evidence_rows: int


SCREEN = Limits(findings_per_check=100, evidence_rows=50)
# A PDF is read on paper: 10,000 findings must not make 10,000 pages.
PRINT = Limits(findings_per_check=15, evidence_rows=10)


def _when(value: str | None) -> str:
    """2026-09-01T23:44:14.312825Z -> 2026-09-01 23:44:14 UTC"""
    if not value:
        return ""
    text = str(value).replace("T", " ").removesuffix("Z").split(".")[0].removesuffix("+00:00")
    return text + " UTC"


def _shown(value: Any) -> Any:
    """Every {{ … }}: control characters in their escape form, since HTML and the PDF's fonts cannot show them.
    Markup too (joined lists, the charts): the escape form holds no character that HTML treats as markup."""
    if isinstance(value, Markup):
        return Markup(visible(value))
    return visible(value) if isinstance(value, str) else value


def _environment() -> Environment:
    env = Environment(loader=FileSystemLoader(str(resource_dir("report_templates"))),
                      autoescape=select_autoescape(default=True, default_for_string=True),
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True, finalize=_shown)
    env.filters["bytes"] = charts.human_bytes
    env.filters["thousands"] = lambda n: f"{n:,}" if isinstance(n, int) else ("" if n is None else n)
    env.filters["when"] = _when
    return env


def render_html(report: dict[str, Any], *, printable: bool = False) -> str:
    env = _environment()
    css = (resource_dir("report_templates") / "report.css").read_text(encoding="utf-8")
    return env.get_template("report.html.j2").render(
        r=report, css=css, printable=printable, limits=PRINT if printable else SCREEN,
        family_titles=FAMILY_TITLES,
        daily_chart=charts.daily_jurisdictions(report["charts"]["daily_jurisdictions"], report["window"].get("since"),
                                               report["window"].get("until")),
        class_flow_chart=charts.class_flow_matrix(report["charts"].get("class_flow_matrix", [])),
        flow_chart=charts.flow_matrix(report["charts"]["flow_matrix"]),
    )


# Archival (PDF/A-3b: fonts embedded, colours in sRGB, XMP metadata) and tagged for assistive technology.
PDF_VARIANT = "pdf/a-3b"


def layout_pdf(report: dict[str, Any]) -> "weasyprint.Document":
    """The PDF's pages, laid out by WeasyPrint from the printable HTML alone."""
    from weasyprint import HTML

    # No base URL and a fetcher that refuses everything: the PDF is built from the inline HTML alone.
    def no_fetch(url: str, *args: Any, **kwargs: Any) -> dict[str, Any]:
        raise ValueError(f"the report fetches nothing; refused {url}")

    return HTML(string=render_html(report, printable=True), url_fetcher=no_fetch).render(pdf_tags=True)


def render_pdf(report: dict[str, Any], out: Path) -> None:
    """Title, author (the controller), subject, keywords and creation date come from the HTML's <title> and
    <meta> elements; the ledger head is in the keywords and in its own LedgerHead entry."""
    head = (report.get("lake") or {}).get("ledger_head") or ""

    def ledger_head(document: Any, pdf: Any) -> None:
        import pydyf

        pdf.info["LedgerHead"] = pydyf.String(head)

    layout_pdf(report).write_pdf(str(out), pdf_variant=PDF_VARIANT, pdf_tags=True, finisher=ledger_head)


def render_json(report: dict[str, Any]) -> str:
    return dumps(report, indent=2) + "\n"


EVIDENCE_COLUMNS = ("check_id", "finding_id", "finding", "resource", "reason", "event_uid", "source", "time", "actor",
                    "src_ip", "src_country", "user_agent", "region", "action", "outcome", "evidence_blob",
                    "evidence_index")


def _cited(findings: list[Finding]) -> pa.Table:
    rows: dict[str, list[Any]] = {name: [] for name in ("finding", "finding_id", "resource", "reason", "event_uid", "n")}
    for number, f in enumerate(findings, start=1):
        for n, uid in enumerate(f.evidence, start=1):
            for name, value in (("finding", number), ("finding_id", f.finding_id), ("resource", f.resource),
                                ("reason", f.reason), ("event_uid", uid), ("n", n)):
                rows[name].append(value)
    return pa.table({name: pa.array(values, type=pa.int64() if name in ("finding", "n") else pa.string())
                     for name, values in rows.items()})


def write_evidence_csv(session: CheckSession, check_ids: list[str], out: Path) -> int:
    """Every event behind every finding, all of them (not only the 50 the report shows), each row with its
    finding's id and number as findings.csv and the report give them. Returns the rows."""
    query = query_text("report/full_evidence.sql")
    written = 0
    with open(out, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(EVIDENCE_COLUMNS)
        for check in session.checks:
            if check.id not in check_ids:
                continue
            session.con.register("evidence_cited", _cited(read_findings(session.con, check, evidence_limit=None)))
            try:
                for row in session.con.sql(query, params={"check_id": check.id}).fetchall():
                    writer.writerow([csv_cell(v) for v in row])
                    written += 1
            finally:
                session.con.unregister("evidence_cited")
    return written
