"""Charts as inline SVG, drawn at render time: no JavaScript, so they print in the PDF as on screen."""

import math
from collections import defaultdict
from datetime import date
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


def daily_jurisdictions(rows: list[dict[str, Any]], width: int = 760, height: int = 260) -> Markup:
    """Stacked bars: events per UTC day, split by the jurisdiction of the region that served them."""
    if not rows:
        return Markup('<p class="empty">No events in the window.</p>')
    per_day: dict[str, dict[str, int]] = defaultdict(dict)
    totals: dict[str, int] = defaultdict(int)
    for r in rows:
        day = r["day"] if isinstance(r["day"], str) else date.isoformat(r["day"])
        per_day[day][r["jurisdiction"]] = r["events"]
        totals[r["jurisdiction"]] += r["events"]
    order = sorted(totals, key=lambda j: (-totals[j], j))
    days = sorted(per_day)
    left, right, top, bottom = 56, 12, 14, 46
    plot_w, plot_h = width - left - right, height - top - bottom
    peak = max(sum(v.values()) for v in per_day.values()) or 1
    step = _nice_step(peak)
    y_max = step * math.ceil(peak / step)
    bar_w = plot_w / len(days)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="100%" role="img" '
             f'aria-labelledby="chart-daily-title" class="chart">',
             '<title id="chart-daily-title">Events per day by jurisdiction of the serving region</title>']
    for tick in range(0, int(y_max) + 1, int(step)):
        y = top + plot_h - plot_h * tick / y_max
        parts.append(f'<line x1="{left}" y1="{y:.1f}" x2="{width - right}" y2="{y:.1f}" stroke="#e4e7eb" stroke-width="1"/>'
                     f'<text x="{left - 6}" y="{y + 4:.1f}" font-size="10" fill="#5b6470" text-anchor="end">{tick:,}</text>')
    for i, day in enumerate(days):
        x = left + i * bar_w
        y = top + plot_h
        for jurisdiction in order:
            n = per_day[day].get(jurisdiction, 0)
            if not n:
                continue
            h = plot_h * n / y_max
            y -= h
            parts.append(f'<rect x="{x + 0.5:.1f}" y="{y:.1f}" width="{max(bar_w - 1, 0.5):.1f}" height="{h:.1f}" '
                         f'fill="{colour_of(jurisdiction, order)}"><title>{escape(day)} {escape(jurisdiction)}: '
                         f'{n:,} events</title></rect>')
        if len(days) <= 16 or i % math.ceil(len(days) / 10) == 0:
            parts.append(f'<text x="{x + bar_w / 2:.1f}" y="{top + plot_h + 16}" font-size="10" fill="#5b6470" '
                         f'text-anchor="middle">{escape(day[5:])}</text>')
    legend_x = left
    for jurisdiction in order:
        parts.append(f'<rect x="{legend_x}" y="{height - 18}" width="10" height="10" '
                     f'fill="{colour_of(jurisdiction, order)}"/><text x="{legend_x + 14}" y="{height - 9}" '
                     f'font-size="11" fill="#1b1f24">{escape(jurisdiction)} ({totals[jurisdiction]:,})</text>')
        legend_x += 24 + 8 * len(f"{jurisdiction} ({totals[jurisdiction]:,})")
    parts.append("</svg>")
    return Markup("".join(parts))


def flow_matrix(rows: list[dict[str, Any]], cell: int = 92) -> Markup:
    """Origin jurisdiction (where data was served) × destination (caller or copy target): events and bytes."""
    if not rows:
        return Markup('<p class="empty">No flows with a known origin and destination in the window.</p>')
    origins = sorted({r["origin"] for r in rows})
    destinations = sorted({r["destination"] for r in rows})
    values = {(r["origin"], r["destination"]): r for r in rows}
    peak = max(r["events"] for r in rows) or 1
    label_w, head_h = 70, 40
    width, height = label_w + cell * len(destinations) + 10, head_h + 44 * len(origins) + 8
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{min(width, 760)}" '
             f'role="img" aria-labelledby="chart-flow-title" class="chart">',
             '<title id="chart-flow-title">Flows from the jurisdiction that served the data (rows) to the '
             'jurisdiction it went to (columns)</title>',
             f'<text x="{label_w}" y="12" font-size="11" fill="#5b6470">to →</text>',
             f'<text x="4" y="{head_h - 6}" font-size="11" fill="#5b6470">from ↓</text>']
    for j, dest in enumerate(destinations):
        parts.append(f'<text x="{label_w + cell * j + cell / 2}" y="{head_h - 8}" font-size="12" font-weight="bold" fill="#1b1f24" '
                     f'text-anchor="middle">{escape(dest)}</text>')
    for i, origin in enumerate(origins):
        y = head_h + 44 * i
        parts.append(f'<text x="{label_w - 8}" y="{y + 26}" font-size="12" font-weight="bold" fill="#1b1f24" text-anchor="end">{escape(origin)}</text>')
        for j, dest in enumerate(destinations):
            x = label_w + cell * j
            r = values.get((origin, dest))
            if r is None:
                parts.append(f'<rect x="{x + 1}" y="{y + 1}" width="{cell - 2}" height="42" fill="#f7f8f9"/>')
                continue
            share = math.log1p(r["events"]) / math.log1p(peak)
            fill = "#d9d9d9" if origin == dest else f"rgba(184,65,44,{0.15 + 0.75 * share:.2f})"
            ink = "#1b1f24" if origin == dest or share < 0.55 else "#ffffff"
            parts.append(f'<rect x="{x + 1}" y="{y + 1}" width="{cell - 2}" height="42" fill="{fill}">'
                         f'<title>{escape(origin)} → {escape(dest)}: {r["events"]:,} events, '
                         f'{escape(human_bytes(r["bytes"]))}</title></rect>'
                         f'<text x="{x + cell / 2}" y="{y + 19}" font-size="11" fill="{ink}" text-anchor="middle">'
                         f'{r["events"]:,} ev</text><text x="{x + cell / 2}" y="{y + 34}" font-size="11" fill="{ink}" '
                         f'text-anchor="middle">{escape(human_bytes(r["bytes"]))}</text>')
    parts.append(f'<text x="4" y="{height - 6}" font-size="11" fill="#1b1f24">Grey: within one jurisdiction. Red, darker with '
                 'more events: across jurisdictions.</text></svg>')
    return Markup("".join(parts))


def _nice_step(peak: float) -> float:
    raw = peak / 4
    magnitude = 10 ** math.floor(math.log10(raw)) if raw > 0 else 1
    for factor in (1, 2, 2.5, 5, 10):
        if raw <= factor * magnitude:
            return max(1.0, factor * magnitude)
    return max(1.0, 10 * magnitude)
