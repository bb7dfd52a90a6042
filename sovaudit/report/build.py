"""Run the checks and write the report set: the library behind `sovaudit report` and `sovaudit scan`."""

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sovaudit.checks.formats import FILE_NAMES, WRITERS
from sovaudit.checks.runner import CheckRun, CheckSession
from sovaudit.config import LoadedConfig
from sovaudit.fsutil import write_atomic
from sovaudit.lake import Lake
from sovaudit.report.model import build_report
from sovaudit.report.render import render_html, render_json, render_pdf, write_evidence_csv


@dataclass
class ReportSet:
    run: CheckRun
    report: dict[str, Any]
    files: dict[str, Path] = field(default_factory=dict)


def _integrity(lake: Lake) -> dict[str, Any] | None:
    from sovaudit.verify import evidence_integrity

    return evidence_integrity(lake) if lake.ledger.path.exists() else None


def write_reports(lake: Lake, loaded: LoadedConfig, out_dir: Path, *, formats: tuple[str, ...] = ("html", "pdf"),
                  machine: bool = True, since: str | None = None, until: str | None = None,
                  fail_on: str = "high", stem: str = "report", engine: dict[str, Any] | None = None) -> ReportSet:
    """Writes <stem>.html / .pdf / .json as asked, evidence.csv (every event behind every finding) and, with
    machine=True, findings.json, findings.csv, junit.xml, findings.sarif and findings.ocsf.json. engine: CheckSession's
    engine options (engine, spark_master, spark_conf); the report's own queries run on the same engine."""
    out_dir.mkdir(parents=True, exist_ok=True)
    integrity = _integrity(lake)
    with CheckSession(lake, loaded, since=since, until=until, fail_on=fail_on, **(engine or {})) as session:
        run = session.run()
        if integrity is not None and not integrity["ok"]:
            failed = ", ".join(c["title"] for c in integrity["checks"] if not c["ok"])
            run.partial_reasons.append(f"the lake failed verification ({failed}); see Integrity of evidence "
                                       "and `sovaudit verify`")
        report = build_report(session, run, integrity)
        result = ReportSet(run, report)
        evidence = out_dir / "evidence.csv"
        write_evidence_csv(session, [r.check.id for r in run.results if r.findings], evidence)
        result.files["evidence.csv"] = evidence
    writers = {"html": lambda p: write_atomic(p, render_html(report).encode()),
               "json": lambda p: write_atomic(p, render_json(report).encode()),
               "pdf": lambda p: render_pdf(report, p)}
    for fmt in formats:
        path = out_dir / f"{stem}.{fmt}"
        writers[fmt](path)
        result.files[path.name] = path
        path.chmod(0o644)
    # Without machine outputs findings.csv is still written: the report's "N more in findings.csv" notes point there.
    for fmt in ("json", "csv", "junit", "sarif", "ocsf") if machine else ("csv",):
        name, writer = FILE_NAMES[fmt], WRITERS[fmt]
        write_atomic(out_dir / name, writer(run).encode())
        (out_dir / name).chmod(0o644)  # report artefacts are meant to be shared
        result.files[name] = out_dir / name
    return result
