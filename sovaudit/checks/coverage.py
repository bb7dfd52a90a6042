"""Whether a source was collected for the window: from what the ledger says each pull collected
(checks.collected_spans, queries/session/collected.sql), not from whether events exist.

A table with events in the window is judged on them. One without is either collected and quiet (a check on it
can PASS), collected for only part of the window, not collected for the window, or never pulled at all (out of
scope). The end of the window needs collecting only up to the delivery allowance: logs of the last
`delivery_delay_hours` may still be on their way."""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

import duckdb

from sovaudit.timewindow import iso

EVENTS, QUIET, PARTIAL, UNCOLLECTED, NEVER = "events", "quiet", "partial", "uncollected", "never"


@dataclass(frozen=True)
class Span:
    since: datetime
    until: datetime
    sources: str

    def text(self) -> str:
        return f"{self.sources} pulled {iso(self.since)} – {iso(self.until)}"


@dataclass
class Collection:
    table: str
    state: str
    spans: list[Span] = field(default_factory=list)  # the collected spans that meet the window
    missing: list[tuple[datetime, datetime]] = field(default_factory=list)  # parts of the window not collected

    @property
    def judged(self) -> bool:
        return self.state in (EVENTS, QUIET)

    def spans_text(self) -> str:
        return "; ".join(s.text() for s in self.spans)

    def missing_text(self) -> str:
        return ", ".join(f"{iso(a)} – {iso(b)}" for a, b in self.missing)


def _spans(con: duckdb.DuckDBPyConnection, tables: set[str]) -> dict[str, list[Span]]:
    out: dict[str, list[Span]] = {t: [] for t in tables}
    rows = con.execute("SELECT table_name, since, until, sources FROM checks.collected_spans "
                       "WHERE list_contains(?, table_name) ORDER BY table_name, since", [sorted(tables)]).fetchall()
    for table, since, until, sources in rows:
        out[table].append(Span(since, until, sources or "a pull"))
    return out


def _uncovered(spans: list[Span], start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
    missing, at = [], start
    for span in sorted(spans, key=lambda s: s.since):
        if span.until <= at:
            continue
        if span.since > at:
            missing.append((at, min(span.since, end)))
        at = max(at, span.until)
        if at >= end:
            break
    if at < end:
        missing.append((at, end))
    return [(a, b) for a, b in missing if a < b]


def collections(con: duckdb.DuckDBPyConnection, tables: set[str], since: datetime, until: datetime,
                delay_hours: int, present: set[str], pulled: set[str]) -> dict[str, Collection]:
    """Each table's state for the window since – until."""
    spans = _spans(con, tables & pulled)
    end = max(since, until - timedelta(hours=delay_hours))
    out = {}
    for table in tables:
        meeting = [s for s in spans.get(table, []) if s.since < until and s.until > since]
        if table not in pulled:
            out[table] = Collection(table, NEVER)
            continue
        missing = _uncovered(meeting, since, end)
        if table in present:
            state = EVENTS
        elif not meeting:
            state = UNCOLLECTED
        else:
            state = PARTIAL if missing else QUIET
        out[table] = Collection(table, state, meeting, missing)
    return out
