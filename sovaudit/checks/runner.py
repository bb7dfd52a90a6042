"""Run checks over a lake and a policy: each ends PASS, FAIL or NOT_ASSESSED, with its reason."""

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

from sovaudit import __version__
from sovaudit.checks.catalogue import POLICY_NEEDS, SEVERITIES, Check, discover
from sovaudit.checks.coverage import EVENTS, NEVER, PARTIAL, QUIET, UNCOLLECTED, Collection, collections
from sovaudit.checks.finding_id import assign_finding_ids
from sovaudit.checks.reasons import render_reason, template_fields
from sovaudit.checks.session import Window, open_session, view_name
from sovaudit.checks.suppressions import Acceptance, apply_suppressions, validate_suppressions
from sovaudit.config import LoadedConfig
from sovaudit.errors import UsageError
from sovaudit.lake import Lake
from sovaudit.ledger import Ledger
from sovaudit.timewindow import iso

MAX_EVIDENCE = 50
# --fail-on: a severity, or none for a run that reports and never fails on findings.
NO_FAILING = "none"
ENGINES = ("duckdb", "spark")
FAIL_ON = (*SEVERITIES, NO_FAILING)
FINDING_COLUMNS = ("resource", "actor", "region", "region_jurisdiction", "counterpart_jurisdiction", "first_seen",
                   "last_seen", "event_count", "reason", "evidence")
_POLICY_QUERIES = {
    "classed_resources": "SELECT count(*) FROM checks.resource_class",
    "classed_keys": "SELECT count(*) FROM checks.key_class",
    "classed_topics": "SELECT count(*) FROM checks.topic_class",
}


@dataclass
class Finding:
    resource: str | None
    actor: str | None
    region: str | None
    # The jurisdiction of `region`, and of the other end when the finding is about a flow: the caller,
    # a copy's or replica's destination, a mirror.
    region_jurisdiction: str | None
    counterpart_jurisdiction: str | None
    first_seen: datetime | None
    last_seen: datetime | None
    event_count: int
    reason: str
    evidence: list[str]
    evidence_total: int
    details: dict[str, Any] = field(default_factory=dict)
    # Set by assign_finding_ids (sovaudit/checks/finding_id.py) when the CheckResult is made.
    finding_id: str = ""
    fingerprint: str = ""
    # The [[suppressions]] entry that accepts this finding, if one does.
    acceptance: Acceptance | None = None

    @property
    def status(self) -> str:
        return "ACCEPTED" if self.acceptance else "FAIL"

    def as_dict(self) -> dict[str, Any]:
        return {"finding_id": self.finding_id, "status": self.status,
                **({"accepted": self.acceptance.as_dict()} if self.acceptance else {}),
                "resource": self.resource, "actor": self.actor, "region": self.region,
                "region_jurisdiction": self.region_jurisdiction,
                "counterpart_jurisdiction": self.counterpart_jurisdiction, "first_seen": iso(self.first_seen),
                "last_seen": iso(self.last_seen), "event_count": self.event_count, "reason": self.reason,
                "evidence": self.evidence, "evidence_total": self.evidence_total, **(
                    {"details": self.details} if self.details else {})}


@dataclass
class CheckResult:
    check: Check
    status: str  # PASS | FAIL | ACCEPTED (every finding accepted by a suppression) | NOT_ASSESSED
    status_reason: str
    findings: list[Finding]
    seconds: float
    error: bool = False
    # NOT_ASSESSED only because a required source was never pulled into this lake: outside the audit's
    # scope, stated, but not partial evidence.
    out_of_scope: bool = False

    def __post_init__(self) -> None:
        if any(not f.finding_id for f in self.findings):
            assign_finding_ids(self.check.id, self.findings)

    @property
    def open_findings(self) -> list[Finding]:
        return [f for f in self.findings if f.acceptance is None]

    @property
    def accepted_findings(self) -> list[Finding]:
        return [f for f in self.findings if f.acceptance is not None]

    def as_dict(self) -> dict[str, Any]:
        c = self.check
        return {"id": c.id, "title": c.title, "family": c.family, "severity": c.severity, "gdpr": list(c.gdpr),
                "requires": list(c.requires), "requires_any": c.requires_any, "status": self.status,
                "status_reason": self.status_reason, **({"out_of_scope": True} if self.out_of_scope else {}),
                "description": c.description, "remediation": c.remediation,
                "findings": [f.as_dict() for f in self.findings]}


@dataclass
class CheckRun:
    results: list[CheckResult]
    window: Window
    coverage: list[dict[str, Any]]
    lake_path: str
    ledger_head: str | None
    config_path: str | None
    partial_reasons: list[str]
    generated_at: datetime
    fail_on: str = "high"
    # Each [[suppressions]] entry with its state (active or expired) and the findings it matched.
    suppressions: list[dict[str, Any]] = field(default_factory=list)

    def failing(self, fail_on: str | None = None) -> list[CheckResult]:
        fail_on = fail_on or self.fail_on
        if fail_on == NO_FAILING:
            return []
        limit = SEVERITIES.index(fail_on)
        return [r for r in self.results if r.status == "FAIL" and r.check.severity_rank <= limit]

    @property
    def partial(self) -> bool:
        return bool(self.partial_reasons) or any(r.status == "NOT_ASSESSED" and not r.out_of_scope
                                                 for r in self.results)

    def exit_code(self, fail_on: str | None = None) -> int:
        if any(r.error for r in self.results):
            return 2
        if self.failing(fail_on):
            return 1
        return 3 if self.partial else 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "tool": {"name": "sovaudit", "version": __version__},
            "generated_at": iso(self.generated_at),
            "window": {"since": iso(self.window.since), "until": iso(self.window.until),
                       "baseline_since": iso(self.window.baseline_since)},
            "lake": {"path": self.lake_path, "ledger_head": self.ledger_head},
            "coverage": self.coverage,
            "partial_evidence": self.partial_reasons,
            "suppressions": self.suppressions,
            "checks": [r.as_dict() for r in self.results],
        }


def select_checks(catalogue: list[Check], ids: list[str] | None, families: list[str] | None) -> list[Check]:
    known = {c.id: c for c in catalogue}
    for wanted in ids or []:
        if wanted.upper() not in known:
            raise UsageError(f"--check: found {wanted!r}, expected one of {', '.join(known)}")
    for family in families or []:
        if family not in {c.family for c in catalogue}:
            raise UsageError(f"--family: found {family!r}, expected one of "
                             f"{', '.join(sorted({c.family for c in catalogue}))}")
    chosen = [c for c in catalogue if (not ids or c.id in {i.upper() for i in ids})
              and (not families or c.family in families)]
    return chosen


def load_catalogue(loaded: LoadedConfig) -> list[Check]:
    base = loaded.path.parent if loaded.path else Path.cwd()
    return discover([base / p for p in loaded.config.checks.paths])


def pulled_tables(lake: Lake) -> set[str]:
    """Tables some pull into this lake wrote (ledger entries name them as `tables`, or `table`)."""
    tables: set[str] = set()
    for entry in lake.ledger.entries():
        tables.update(Ledger.tables_of(entry))
    return tables


def _coverage(con: duckdb.DuckDBPyConnection, required: set[str]) -> list[dict[str, Any]]:
    rows = con.execute("SELECT source, count(*), min(time), max(time) FROM checks.window_records GROUP BY source "
                       "ORDER BY source").fetchall()
    seen = {r[0] for r in rows}
    out = [{"source": s, "events": n, "first": iso(first), "last": iso(last)} for s, n, first, last in rows]
    out += [{"source": s, "events": 0, "first": None, "last": None} for s in sorted(required - seen)]
    return sorted(out, key=lambda c: c["source"])


def _partial_reasons(lake: Lake) -> list[str]:
    quarantined = failures = 0
    for entry in lake.ledger.entries():
        quarantined += entry.get("counts", {}).get("quarantined", 0)
        failures += len(entry.get("failures", []))
    reasons = []
    if quarantined:
        reasons.append(f"{quarantined} record(s) were quarantined by pulls into this lake "
                       "(sovaudit sql \"FROM quarantine\")")
    if failures:
        reasons.append(f"{failures} input(s) could not be read by pulls into this lake (see the ledger's failures)")
    for table, (older, total, columns) in lake.files_without_columns().items():
        shown = ", ".join(columns[:5]) + (f" and {len(columns) - 5} more" if len(columns) > 5 else "")
        reasons.append(f"{older} of {total} {table} file(s) were written by an older sovaudit, without the "
                       f"column(s) {shown}: there they read as empty, so checks that read them can miss findings "
                       "(pull those days again into a new lake to fill them)")
    return reasons


def _unmet_policy(con: duckdb.DuckDBPyConnection, check: Check, loaded: LoadedConfig,
                  cache: dict[str, bool]) -> str | None:
    for need in check.policy:
        if need not in cache:
            if need == "data_classes":
                cache[need] = bool(loaded.config.data_classes)
            elif need == "tier1_classes":
                cache[need] = any(c.tier == 1 for c in loaded.config.data_classes)
            elif need == "evidence_period":
                cache[need] = loaded.config.organisation.evidence_period_days is not None
            elif need == "accounts":
                cache[need] = bool(loaded.config.accounts)
            else:
                cache[need] = con.execute(_POLICY_QUERIES[need]).fetchall()[0][0] > 0
        if not cache[need]:
            return POLICY_NEEDS[need]
    return None


def _baseline_sources(con: duckdb.DuckDBPyConnection) -> set[str]:
    return {r[0] for r in con.execute("SELECT DISTINCT source FROM checks.baseline_core").fetchall()}


def read_findings(con: duckdb.DuckDBPyConnection, check: Check,
                  evidence_limit: int | None = MAX_EVIDENCE) -> list[Finding]:
    """The check's findings from its view, with ids, in report order; evidence_limit=None keeps every
    evidence id (evidence.csv)."""
    relation = con.sql(f'SELECT * FROM checks."{view_name(check)}"')  # noqa: S608
    return findings_from_rows(check, relation.columns, relation.fetchall(), evidence_limit)


def findings_from_rows(check: Check, columns: list[str], rows: list[tuple[Any, ...]],
                       evidence_limit: int | None = MAX_EVIDENCE) -> list[Finding]:
    """Findings from a check's result rows, whichever engine ran it: the reason rendered from the check's
    template when it has one, the other columns kept as the finding's details."""
    template = check.reason_template
    needed = [c for c in FINDING_COLUMNS if not (template and c == "reason")]
    needed += [c for c in template_fields(template) if c not in needed] if template else []
    missing = [c for c in needed if c not in columns]
    if missing:
        renamed = (" (`jurisdiction` is now two columns: region_jurisdiction, the region's, and "
                   "counterpart_jurisdiction, the other end's)" if "jurisdiction" in columns else "")
        raise ValueError(f"{check.path}: the result lacks the column(s) {', '.join(missing)} "
                         f"(a check returns {', '.join(needed)}){renamed}")
    findings = []
    for row in rows:
        values = dict(zip(columns, row, strict=True))
        reason = render_reason(template, values) if template else str(values.pop("reason"))
        evidence = [str(e) for e in (values.pop("evidence") or []) if e is not None]
        finding = Finding(
            resource=values.pop("resource"), actor=values.pop("actor"), region=values.pop("region"),
            region_jurisdiction=values.pop("region_jurisdiction"),
            counterpart_jurisdiction=values.pop("counterpart_jurisdiction"), first_seen=values.pop("first_seen"),
            last_seen=values.pop("last_seen"), event_count=int(values.pop("event_count") or 0),
            reason=reason, evidence=evidence[:evidence_limit], evidence_total=len(evidence),
            details={k: v for k, v in values.items() if v is not None},
        )
        findings.append(finding)
    assign_finding_ids(check.id, findings)
    findings.sort(key=lambda f: (f.first_seen or datetime.min.replace(tzinfo=UTC), f.resource or "", f.reason,
                                 f.finding_id))
    return findings


def _names(sources: list[str], conjunction: str = "and") -> str:
    return sources[0] if len(sources) == 1 else ", ".join(sources[:-1]) + f" {conjunction} " + sources[-1]


def _not_collected(unmet: list[Collection], span: str, any_of: bool) -> str:
    uncollected = [c.table for c in unmet if c.state == UNCOLLECTED]
    partial = [c for c in unmet if c.state == PARTIAL]
    never = [c.table for c in unmet if c.state == NEVER]
    parts = [f"no {_names(uncollected, 'or' if any_of else 'and')} pull covers the window {span}"] if uncollected else []
    parts += [f"{c.table} was collected for only part of the window ({c.spans_text()}), not {c.missing_text()}"
              for c in partial]
    if never:
        parts.append(f"{_names(never)} {'was' if len(never) == 1 else 'were'} never pulled into this lake")
    if any_of:
        then = "pull one of those sources for the window first"
    else:
        then = "pull that period first" if partial and not uncollected else "pull that source for the window first"
    return f"{'partly collected' if partial else 'not collected'}: {'; '.join(parts)}; {then}"


def _unmet_sources(check: Check, window: Window, states: dict[str, Collection]) -> tuple[str, bool] | None:
    """Why the check's sources cannot be judged, and whether that is only because they were never pulled
    (out of scope: no partial evidence), or None when they can. A source with no events in the window is
    judged when the ledger shows it was collected for the whole window: quiet, not missing."""
    required = [states[s] for s in check.requires]
    unmet = [c for c in required if not c.judged]
    if not unmet or check.requires_any and len(unmet) < len(required):
        return None
    if all(c.state == NEVER for c in unmet):
        never = [c.table for c in unmet]
        return (f"out of scope: {_names(never)} {'was' if len(never) == 1 else 'were'} never pulled into "
                "this lake", True)
    return _not_collected(unmet, f"{iso(window.since)} – {iso(window.until)}", check.requires_any), False


def _pass_reason(check: Check, states: dict[str, Collection], counts: dict[str, int]) -> str:
    scope = []
    for table in check.requires:
        c = states[table]
        if c.state == EVENTS:
            scope.append(f"{counts.get(table, 0):,} {table} events")
        elif c.state == QUIET:
            scope.append(f"0 {table} events (collected: {c.spans_text()}, no events)")
    idle = [c.table for c in (states[t] for t in check.requires) if not c.judged and c.state != NEVER]
    return f"no findings in {', '.join(scope)}" + (f"; not collected for the window: {', '.join(idle)}" if idle else "")


def _evaluate(con: duckdb.DuckDBPyConnection, check: Check, loaded: LoadedConfig, window: Window,
              states: dict[str, Collection], coverage: list[dict[str, Any]], broken: dict[str, str],
              baseline: Callable[[], set[str]], policy_cache: dict[str, bool]) -> CheckResult:
    started = time.perf_counter()

    def outcome(status: str, reason: str, findings: list[Finding] | None = None, error: bool = False,
                out_of_scope: bool = False) -> CheckResult:
        return CheckResult(check, status, reason, findings or [], time.perf_counter() - started, error=error,
                           out_of_scope=out_of_scope)

    if check.id in broken:
        return outcome("NOT_ASSESSED", broken[check.id], error=True)
    unmet_sources = _unmet_sources(check, window, states)
    if unmet_sources:
        reason, out_of_scope = unmet_sources
        return outcome("NOT_ASSESSED", reason, out_of_scope=out_of_scope)
    judged = [s for s in check.requires if states[s].judged]
    unmet = _unmet_policy(con, check, loaded, policy_cache)
    if unmet:
        return outcome("NOT_ASSESSED", f"policy missing: {unmet}")
    if check.baseline:
        no_baseline = [s for s in judged if s not in baseline()]
        if check.requires_any and len(no_baseline) < len(judged):
            no_baseline = []
        if no_baseline:
            joined = (" or " if check.requires_any else ", ").join(no_baseline)
            return outcome("NOT_ASSESSED", f"no baseline: no {joined} events in the "
                                           f"{loaded.config.thresholds.baseline_days} days before the window "
                                           f"({iso(window.baseline_since)} – {iso(window.since)})")
    try:
        findings = read_findings(con, check)
    except (duckdb.Error, ValueError) as exc:
        message = str(exc).splitlines()[0]
        if isinstance(exc, duckdb.Error):
            message = f"{check.path}: the SQL failed: {message}"
        return outcome("NOT_ASSESSED", message, error=True)
    if findings:
        events = sum(f.event_count for f in findings)
        return outcome("FAIL", f"{len(findings)} finding(s) over {events:,} event(s)", findings)
    return outcome("PASS", _pass_reason(check, states, {c["source"]: c["events"] for c in coverage}))


class CheckSession:
    """The checks' DuckDB session, kept open after the run so that the report can query the same window,
    policy and classification. Use as a context manager."""

    def __init__(self, lake: Lake, loaded: LoadedConfig, *, check_ids: list[str] | None = None,
                 families: list[str] | None = None, since: str | None = None, until: str | None = None,
                 fail_on: str = "high", catalogue: list[Check] | None = None, engine: str = "duckdb",
                 spark_master: str | None = None, spark_conf: dict[str, str] | None = None,
                 lake_uri: str | None = None):
        if fail_on not in FAIL_ON:
            raise UsageError(f"--fail-on: found {fail_on!r}, expected one of {', '.join(FAIL_ON)}")
        self.lake, self.loaded, self.fail_on = lake, loaded, fail_on
        catalogue = catalogue if catalogue is not None else load_catalogue(loaded)
        validate_suppressions(loaded.config.suppressions, catalogue, loaded.path)
        self.checks = select_checks(catalogue, check_ids, families)
        if engine not in ENGINES:
            raise UsageError(f"--engine: found {engine!r}, expected one of {', '.join(ENGINES)}")
        self.engine = engine
        if engine == "spark":
            from sovaudit.engines.spark_checks import open_spark_session  # pyspark only when asked for
            self.con, self.window, self.broken = open_spark_session(
                lake, loaded.config, self.checks, since, until, spark_master, spark_conf, lake_uri)
        else:
            self.con, self.window, self.broken = open_session(lake, loaded.config, self.checks, since, until)

    def __enter__(self) -> "CheckSession":
        return self

    def __exit__(self, *exc: object) -> None:
        self.con.close()

    def run(self) -> CheckRun:
        pulled = pulled_tables(self.lake)
        coverage = _coverage(self.con, {s for c in self.checks for s in c.requires if s in pulled})
        present = {c["source"] for c in coverage if c["events"]}
        tables = {s for c in self.checks for s in c.requires} | {c["source"] for c in coverage}
        states = collections(self.con, tables, self.window.since,
                             self.window.until, self.loaded.config.thresholds.delivery_delay_hours, present, pulled)
        for c in coverage:
            c["collected"] = [{"sources": s.sources, "since": iso(s.since), "until": iso(s.until)}
                              for s in states[c["source"]].spans]
        baseline_cache: list[set[str]] = []

        def baseline() -> set[str]:
            if not baseline_cache:
                baseline_cache.append(_baseline_sources(self.con))
            return baseline_cache[0]

        policy_cache: dict[str, bool] = {}
        results = [_evaluate(self.con, check, self.loaded, self.window, states, coverage, self.broken, baseline,
                             policy_cache) for check in self.checks]
        now = datetime.now(UTC)
        suppressions = apply_suppressions(results, self.loaded.config.suppressions, now.date())
        return CheckRun(results=results, window=self.window, coverage=coverage, lake_path=str(self.lake.root),
                        ledger_head=self.lake.ledger.head(),
                        config_path=str(self.loaded.path) if self.loaded.path else None,
                        partial_reasons=_partial_reasons(self.lake), generated_at=now,
                        fail_on=self.fail_on, suppressions=suppressions)


def run_checks(lake: Lake, loaded: LoadedConfig, **options: Any) -> CheckRun:
    """Run the catalogue (or the selected checks) over the lake; see CheckSession for the options."""
    with CheckSession(lake, loaded, **options) as session:
        return session.run()
