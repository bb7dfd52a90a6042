"""Numbers that reconcile and pictures that are readable: each figure says which population it counts and the
same population gives the same number everywhere; inventory snapshot rows are not events; a small series stays
visible, partial days are marked, axes have units, legends overlap nothing; full evidence blob hashes in the HTML."""

import json
import re
import shutil
import xml.etree.ElementTree as ET
from collections import Counter
from datetime import date, datetime, timedelta

import pytest
from conftest import run_cli

from sovaudit.report.charts import MIN_BAR, class_flow_matrix, daily_jurisdictions, flow_matrix

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SVG = "{http://www.w3.org/2000/svg}"


def _transfers(report: dict) -> dict[tuple[str, str], dict]:
    return {(t["class_name"], t["destination"]): t for a in report["processing_activities"]
            for t in a["observed_transfers"]}


def test_the_classed_flow_matrix_and_the_transfers_tables_count_the_same(demo_report):
    """Both count events on classed data, each event once per jurisdiction it reached outside the class's
    home, with snapshot rows apart: every transfers row is its matrix cell, and every matrix cell outside a
    home is a transfers row."""
    transfers = _transfers(demo_report)
    matrix = {(c["class_name"], c["destination"]): c for c in demo_report["charts"]["class_flow_matrix"]}
    abroad = {key: c for key, c in matrix.items() if c["destination"] != c["home"]}
    assert set(abroad) == set(transfers) and len(transfers) >= 3
    for key, row in transfers.items():
        cell = abroad[key]
        assert (row["events"], row["snapshot_rows"], row["bytes"]) == (cell["events"], cell["snapshot_rows"],
                                                                      cell["bytes"]), key
    # The numbers: the UK support centre's 120 events, and the US row's events without the mirror's
    # daily inventory listings, which are counted as what they are.
    uk, us = transfers["customer-pii", "UK"], transfers["customer-pii", "US"]
    assert uk["events"] == 120 and uk["snapshot_rows"] == 0
    assert us["snapshot_rows"] > 0 and "mirrored to Kafka cluster" in us["how"]
    # 24, the loyalty secret read from its replica in us-east-1 (XR-001), and the four records of XR-006: the
    # members table given a replica and the database a secondary cluster in us-east-1, the US export account's
    # geo-redundant copy in West US (its two records, each also served in East US, counted once), and the two
    # records of EG-005's Azure vault whose backups became restorable in West US
    assert us["events"] == 31
    assert "replica in us-east-1" in us["how"] and "replica in westus" in us["how"]


def test_snapshot_rows_are_the_inventory_rows_of_the_mirrored_topic(demo, demo_report):
    """Counted against the lake itself: the US cluster's copy of the loyalty topic, one row per snapshot."""
    out, _, _ = demo
    since, until = (datetime.fromisoformat(demo_report["window"][k].replace("Z", "+00:00")) for k in ("since", "until"))
    proc = run_cli("sql", "--lake", str(out / "lake"), "--config", str(out / "sovaudit.toml"), "--format", "json",
                   "SELECT region, mm2_role, snapshot_time FROM kafka_topics WHERE topic LIKE '%eu.loyalty.%'")
    assert proc.returncode == 0, proc.stderr
    lake: dict[str, Counter] = {}
    for row in json.loads(proc.stdout):
        if since <= datetime.fromisoformat(row["snapshot_time"]) < until:
            counts = lake.setdefault(row["region"], Counter())
            counts["rows"] += 1
            counts["mirrored"] += row["mm2_role"] == "remote_topic"
    assert _transfers(demo_report)["customer-pii", "US"]["snapshot_rows"] == lake["us-east-1"]["mirrored"] > 0
    loyalty = next(a for a in demo_report["processing_activities"] if a["name"] == "Loyalty programme")
    located = {loc["region"]: loc for loc in loyalty["observed_locations"]}
    assert located["us-east-1"]["snapshot_rows"] == lake["us-east-1"]["rows"]
    assert located["eu-west-1"]["snapshot_rows"] == lake["eu-west-1"]["rows"]
    # Not events: us-east-1 served 7 events of the class (the planted reads and the secret read from its
    # replica there), not 7 + 22.
    assert located["us-east-1"]["events"] == 7


def test_a_record_reached_several_ways_is_counted_once_with_its_bytes(demo_report):
    """The UK flow is reads from the UK, copies to eu-west-2 and serving there: the same events, one row each."""
    uk = _transfers(demo_report)["customer-pii", "UK"]
    assert uk["how"].count(";") >= 2
    assert uk["bytes"] == 360_000  # 120 reads of 3 kB, not 3 × that


def test_each_figure_says_which_population_it_counts(demo):
    out, _, _ = demo
    html = (out / "report.html").read_text()
    captions = [re.sub(r"<[^>]+>", "", c) for c in re.findall(r"<figcaption>(.*?)</figcaption>", html, re.S)]
    assert [c[:c.index(" ", 20)] for c in captions] == ["Counts all events of", "Counts events on classed",
                                                        "Counts all events, classed"]
    assert "as the transfers tables of the records above do" in captions[1]
    assert "It is not the classed-data matrix above" in captions[2]
    assert "Snapshot rows</th>" in html and "Events: log events on the class's data" in html


def _days(n: int) -> list[str]:
    return [(date(2026, 9, 1) + timedelta(days=i)).isoformat() for i in range(n)]


def _svg(markup) -> ET.Element:
    return ET.fromstring(str(markup))


def test_a_small_series_stays_visible_on_its_own_scale():
    rows = [{"day": d, "jurisdiction": "EU", "events": 400} for d in _days(30)]
    rows += [{"day": d, "jurisdiction": "UK", "events": 1} for d in _days(30)]
    rows += [{"day": _days(30)[3], "jurisdiction": "EU", "events": 9000}]  # a peak that dwarfs the rest
    svg = _svg(daily_jurisdictions(rows, "2026-09-01T00:00:00Z", "2026-10-01T00:00:00Z"))
    panels = {g.get("data-jurisdiction"): g for g in svg.iter(f"{SVG}g")}
    assert set(panels) == {"EU", "UK"}
    for jurisdiction, panel in panels.items():
        bars = [float(r.get("height")) for r in panel.iter(f"{SVG}rect")]
        assert len(bars) == 30 and min(bars) >= MIN_BAR, jurisdiction
    uk_axis = [t.text for t in panels["UK"].iter(f"{SVG}text")]
    assert "1/day" in uk_axis and "30 events" in uk_axis  # its own scale, with its unit
    texts = [t.text for t in svg.iter(f"{SVG}text")]
    assert "UTC day (month-day)" in texts and any("Events per day" in (t or "") for t in texts)


def test_days_the_window_covers_only_in_part_are_marked():
    rows = [{"day": d, "jurisdiction": "EU", "events": 300} for d in _days(31)]
    svg = _svg(daily_jurisdictions(rows, "2026-09-01T23:45:50Z", "2026-10-01T23:45:50Z"))
    bars = list(svg.iter(f"{SVG}rect"))[:31]
    partial = [b for b in bars if "partial" in (b.get("class") or "")]
    assert {b.find(f"{SVG}title").text[:10] for b in partial} == {"2026-09-01", "2026-10-01"}
    assert all(b.get("fill-opacity") == "0.4" for b in partial)
    assert not any(b.get("fill-opacity") for b in bars if b not in partial)
    assert any("not a drop in activity" in (t.text or "") for t in svg.iter(f"{SVG}text"))
    # A window of whole UTC days has no partial day.
    whole = _svg(daily_jurisdictions(rows, "2026-09-01T00:00:00Z", "2026-10-02T00:00:00Z"))
    assert not any("partial" in (r.get("class") or "") for r in whole.iter(f"{SVG}rect"))


@pytest.mark.parametrize("chart", ["all", "classed"])
def test_a_matrix_legend_lies_below_its_last_row(chart):
    if chart == "all":
        svg = _svg(flow_matrix([{"origin": o, "destination": d, "events": 5, "bytes": 10}
                                for o in ("EU", "UK", "US") for d in ("EU", "US")]))
    else:
        svg = _svg(class_flow_matrix([{"class_name": c, "home": "EU", "destination": d, "events": 5,
                                       "snapshot_rows": 2, "bytes": 10} for c in ("a", "b") for d in ("EU", "US")]))
    cells = [r for r in svg.iter(f"{SVG}rect")]
    bottom = max(float(r.get("y")) + float(r.get("height")) for r in cells)
    legend = [t for t in svg.iter(f"{SVG}text") if t.get("class") == "legend"]
    assert len(legend) == 2
    assert min(float(t.get("y")) - 11 for t in legend) >= bottom  # the text's top (11 px type) under the grid
    assert max(float(t.get("y")) for t in legend) <= float(svg.get("viewBox").split()[3])


def test_charts_in_chromium_overlap_nothing_and_show_the_uk(demo):
    """As drawn: no legend line crosses a cell of its matrix, and each of the UK's days is a bar of at least
    the minimum height on screen."""
    from playwright.sync_api import sync_playwright

    out, _, _ = demo
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 800, "height": 900})
        page.goto((out / "report.html").as_uri(), wait_until="load")
        overlaps = page.evaluate("""() => {
          const hits = [];
          for (const svg of document.querySelectorAll('svg.chart-matrix')) {
            const cells = [...svg.querySelectorAll('rect')].map(r => r.getBoundingClientRect());
            for (const t of svg.querySelectorAll('text.legend')) {
              const b = t.getBoundingClientRect();
              for (const c of cells)
                if (b.left < c.right && c.left < b.right && b.top < c.bottom && c.top < b.bottom) hits.push(t.textContent);
            }
          }
          return hits;
        }""")
        uk = page.evaluate("""() => [...document.querySelectorAll('svg.chart-daily g[data-jurisdiction="UK"] rect')]
                                 .map(r => r.getBoundingClientRect().height)""")
        browser.close()
    assert overlaps == []
    assert len(uk) >= 28 and min(uk) >= 1.5


def test_evidence_rows_carry_the_full_blob_hash_shortened_on_screen(demo):
    from playwright.sync_api import sync_playwright

    out, _, _ = demo
    html = (out / "report.html").read_text()
    blobs = re.findall(r'<span class="blob" title="([0-9a-f]{64})">([0-9a-f]{64})</span>', html)
    assert len(blobs) > 50 and all(title == text for title, text in blobs)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto((out / "report.html").as_uri(), wait_until="load")
        blob = page.locator("span.blob").first
        blob.scroll_into_view_if_needed()
        shown = blob.evaluate("b => ({shown: b.getBoundingClientRect().width, full: b.scrollWidth})")
        copied = blob.evaluate("""b => { const range = document.createRange(); range.selectNodeContents(b);
                                         const s = window.getSelection(); s.removeAllRanges(); s.addRange(range);
                                         return s.toString(); }""")
        hover = blob.get_attribute("title")
        browser.close()
    assert shown["shown"] < shown["full"] / 2  # shortened visually…
    assert re.fullmatch(r"[0-9a-f]{64}", copied) and copied == hover  # …whole when copied or hovered
