"""Charts as inline SVG, drawn at render time: no JavaScript, so they print in the PDF as on screen."""

import math
from collections import defaultdict
from datetime import date, datetime, time, timedelta
from typing import Any

from markupsafe import Markup, escape

PALETTE = {"EU": "#1f5fa8", "US": "#b8412c", "UK": "#6b4c9a", "unknown": "#9a9a9a"}
EXTRA_COLOURS = ["#2e8b57", "#c48a00", "#008b8b", "#8b4513", "#c71585", "#556b2f"]


def colour_of(jurisdiction: str, order: list[str]) -> str:
    if jurisdiction in PALETTE:
        return PALETTE[jurisdiction]
    others = [j for j in order if j not in PALETTE]
    return EXTRA_COLOURS[others.index(jurisdiction) % len(EXTRA_COLOURS)] if jurisdiction in others else "#444"


def human_bytes(n: float | None) -> str:
    if not n:
        return "0 B"
    units = ["B", "kB", "MB", "GB", "TB", "PB"]
    power = min(int(math.log(n, 1000)), len(units) - 1)
    value = n / 1000**power
    return f"{value:,.0f} {units[power]}" if power == 0 or value >= 100 else f"{value:,.1f} {units[power]}"


MIN_BAR = 2.0  # px: a day with events is never drawn as nothing, however small beside the row's peak
PANEL_H, PANEL_GAP = 56, 12


def _instant(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value.replace("Z", "+00:00")) if value else None


def _calendar(rows_days: set[str], since: str | None, until: str | None) -> tuple[list[str], set[str]]:
    """Every UTC day of the window (or of the rows, without one) and those the window covers only in part."""
    start, end = _instant(since), _instant(until)
    if start is None or end is None or end <= start:
        return sorted(rows_days), set()
    first, last = start.date(), (end - timedelta(microseconds=1)).date()
    days = [(first + timedelta(days=i)).isoformat() for i in range((last - first).days + 1)]
    partial = {first.isoformat()} if start.time() != time(0) else set()
    if end.time() != time(0):
        partial.add(last.isoformat())
    return sorted(set(days) | rows_days), partial


def daily_jurisdictions(rows: list[dict[str, Any]], since: str | None = None, until: str | None = None,
                        width: int = 760) -> Markup:
    """Events per UTC day, one row of bars per jurisdiction of the serving region, each on its own scale (a
    jurisdiction with 30 events beside one with 10,000 would otherwise be a line of single pixels)."""
    if not rows:
        return Markup('<p class="empty">No events in the window.</p>')
    per_day: dict[str, dict[str, int]] = defaultdict(dict)
    totals: dict[str, int] = defaultdict(int)
    for r in rows:
        day = r["day"] if isinstance(r["day"], str) else date.isoformat(r["day"])
        per_day[day][r["jurisdiction"]] = r["events"]
        totals[r["jurisdiction"]] += r["events"]
    order = sorted(totals, key=lambda j: (-totals[j], j))
    days, partial = _calendar(set(per_day), since, until)
    left, right, top = 128, 12, 26
    plot_w = width - left - right
    bottom = top + len(order) * (PANEL_H + PANEL_GAP)
    height = bottom + (52 if partial else 36)
    bar_w = plot_w / len(days)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="100%" role="img" '
             f'aria-labelledby="chart-daily-title" class="chart chart-daily">',
             '<title id="chart-daily-title">Events per UTC day by jurisdiction of the serving region (all events), '
             'each jurisdiction on its own scale</title>',
             f'<text x="{left}" y="12" font-size="11" fill="#5b6470">Events per day (each row on its own scale; the '
             'axis gives its events per day)</text>']
    for k, jurisdiction in enumerate(order):
        y0 = top + k * (PANEL_H + PANEL_GAP)
        base = y0 + PANEL_H
        peak = max(per_day[d].get(jurisdiction, 0) for d in per_day) or 1
        step = _nice_step(peak)
        y_max = step * math.ceil(peak / step)
        colour = colour_of(jurisdiction, order)
        parts.append(f'<g class="panel" data-jurisdiction="{escape(jurisdiction)}">'
                     f'<text x="4" y="{y0 + 20}" font-size="13" font-weight="bold" fill="{colour}">'
                     f'{escape(jurisdiction)}</text>'
                     f'<text x="4" y="{y0 + 36}" font-size="10" fill="#5b6470">{_count(totals[jurisdiction], "event")}</text>'
                     f'<line x1="{left}" y1="{y0}" x2="{width - right}" y2="{y0}" stroke="#e4e7eb" stroke-width="1"/>'
                     f'<line x1="{left}" y1="{base}" x2="{width - right}" y2="{base}" stroke="#9aa1a9" stroke-width="1"/>'
                     f'<text x="{left - 6}" y="{y0 + 8}" font-size="10" fill="#5b6470" text-anchor="end">'
                     f'{int(y_max):,}/day</text>'
                     f'<text x="{left - 6}" y="{base}" font-size="10" fill="#5b6470" text-anchor="end">0</text>')
        for i, day in enumerate(days):
            n = per_day.get(day, {}).get(jurisdiction, 0)
            if not n:
                continue
            h = max(PANEL_H * n / y_max, MIN_BAR)
            note = " (partial day: the window covers only part of it)" if day in partial else ""
            opacity = ' fill-opacity="0.4"' if day in partial else ""
            parts.append(f'<rect x="{left + i * bar_w + 0.5:.1f}" y="{base - h:.1f}" width="{max(bar_w - 1, 0.5):.1f}" '
                         f'height="{h:.1f}" fill="{colour}"{opacity} class="bar{" partial" if day in partial else ""}">'
                         f'<title>{escape(day)} {escape(jurisdiction)}: {n:,} events{note}</title></rect>')
        parts.append("</g>")
    for i, day in enumerate(days):
        if len(days) <= 16 or i % math.ceil(len(days) / 10) == 0:
            parts.append(f'<text x="{left + i * bar_w + bar_w / 2:.1f}" y="{bottom + 2}" font-size="10" '
                         f'fill="#5b6470" text-anchor="middle">{escape(day[5:])}</text>')
    parts.append(f'<text x="{left + plot_w / 2:.1f}" y="{bottom + 20}" font-size="11" fill="#5b6470" '
                 'text-anchor="middle">UTC day (month-day)</text>')
    if partial:
        shown = ", ".join(d[5:] for d in sorted(partial))
        parts.append(f'<rect x="{left}" y="{height - 14}" width="10" height="10" fill="#5b6470" fill-opacity="0.4"/>'
                     f'<text x="{left + 14}" y="{height - 5}" font-size="10" fill="#5b6470">Lighter bars: days the '
                     f'window covers only in part ({escape(shown)}), not a drop in activity</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def _matrix(cells: dict[tuple[str, str], dict[str, Any]], rows: list[str], columns: list[str], *, chart_id: str,
            title: str, row_axis: str, column_axis: str, within: Any, legend: tuple[str, str]) -> Markup:
    """A grid of rows × columns, each cell with its events and bytes (and snapshot rows, where any); grey where
    within(row, column), else red, darker with more events."""
    snapshots = any(c.get("snapshot_rows") for c in cells.values())
    cell_w, cell_h = 112, 58 if snapshots else 44
    label_w = max(80, int(7.5 * max(len(r) for r in rows)) + 16)
    head_h = 46
    grid_bottom = head_h + cell_h * len(rows)
    width = max(label_w + cell_w * len(columns) + 10, 6 * max(len(line) for line in legend) + 12)
    height = grid_bottom + 44
    peak = max(c["events"] + c.get("snapshot_rows", 0) for c in cells.values()) or 1
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{min(width, 760)}" '
             f'role="img" aria-labelledby="{chart_id}-title" class="chart chart-matrix" id="{chart_id}">',
             f'<title id="{chart_id}-title">{escape(title)}</title>',
             f'<text x="{label_w}" y="14" font-size="11" fill="#5b6470">{escape(column_axis)} →</text>',
             f'<text x="4" y="{head_h - 8}" font-size="11" fill="#5b6470">{escape(row_axis)} ↓</text>']
    for j, column in enumerate(columns):
        parts.append(f'<text x="{label_w + cell_w * j + cell_w / 2}" y="{head_h - 8}" font-size="12" font-weight="bold" '
                     f'fill="#1b1f24" text-anchor="middle">{escape(column)}</text>')
    for i, row in enumerate(rows):
        y = head_h + cell_h * i
        parts.append(f'<text x="{label_w - 8}" y="{y + cell_h / 2 + 4}" font-size="12" font-weight="bold" '
                     f'fill="#1b1f24" text-anchor="end">{escape(row)}</text>')
        for j, column in enumerate(columns):
            x = label_w + cell_w * j
            c = cells.get((row, column))
            if c is None:
                parts.append(f'<rect x="{x + 1}" y="{y + 1}" width="{cell_w - 2}" height="{cell_h - 2}" fill="#f7f8f9"/>')
                continue
            inside = within(row, column)
            share = math.log1p(c["events"] + c.get("snapshot_rows", 0)) / math.log1p(peak)
            fill = "#d9d9d9" if inside else f"rgba(184,65,44,{0.15 + 0.75 * share:.2f})"
            ink = "#1b1f24" if inside or share < 0.55 else "#ffffff"
            lines = [_count(c["events"], "event"), human_bytes(c["bytes"])]
            if c.get("snapshot_rows"):
                lines.append(_count(c["snapshot_rows"], "snapshot row"))
            tip = f'{row} → {column}: ' + ", ".join(lines)
            parts.append(f'<rect x="{x + 1}" y="{y + 1}" width="{cell_w - 2}" height="{cell_h - 2}" fill="{fill}" '
                         f'class="cell"><title>{escape(tip)}</title></rect>')
            for n, line in enumerate(lines):
                parts.append(f'<text x="{x + cell_w / 2}" y="{y + 18 + 14 * n}" font-size="11" fill="{ink}" '
                             f'text-anchor="middle">{escape(line)}</text>')
    for n, line in enumerate(legend):
        parts.append(f'<text x="4" y="{grid_bottom + 18 + 15 * n}" font-size="11" fill="#1b1f24" '
                     f'class="legend">{escape(line)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def flow_matrix(rows: list[dict[str, Any]]) -> Markup:
    """All events: origin jurisdiction (where data was served) × destination (caller or copy target)."""
    if not rows:
        return Markup('<p class="empty">No flows with a known origin and destination in the window.</p>')
    cells = {(r["origin"], r["destination"]): r for r in rows}
    return _matrix(cells, sorted({r["origin"] for r in rows}), sorted({r["destination"] for r in rows}),
                   chart_id="chart-flow", title="All events: flows from the jurisdiction that served the data (rows) "
                   "to the jurisdiction it went to (columns)", row_axis="served in", column_axis="went to (caller, copy)",
                   within=lambda row, column: row == column,
                   legend=("Grey: within one jurisdiction.", "Red, darker with more events: across a border."))


def class_flow_matrix(rows: list[dict[str, Any]]) -> Markup:
    """Events on classed data: each class (with its home) × the jurisdictions its events reached."""
    if not rows:
        return Markup('<p class="empty">No event on classed data in the window.</p>')
    label = {r["class_name"]: f'{r["class_name"]} ({r["home"]})' for r in rows}
    home = {label[r["class_name"]]: r["home"] for r in rows}
    cells = {(label[r["class_name"]], r["destination"]): r for r in rows}
    return _matrix(cells, sorted(set(label.values())), sorted({r["destination"] for r in rows}),
                   chart_id="chart-class-flow", title="Events on classed data: each data class (rows) by the "
                   "jurisdictions its events reached (columns)", row_axis="data class (home)",
                   column_axis="reached (served in, caller, copy)", within=lambda row, column: home[row] == column,
                   legend=("Grey: the class's home (events that reached no other jurisdiction).",
                           "Red, darker with more events: outside its home, as in the transfers tables."))


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}" + ("" if n == 1 else "s")


def _nice_step(peak: float) -> float:
    raw = peak / 4
    magnitude = 10 ** math.floor(math.log10(raw)) if raw > 0 else 1
    for factor in (1, 2, 2.5, 5, 10):
        if raw <= factor * magnitude:
            return max(1.0, factor * magnitude)
    return max(1.0, 10 * magnitude)
