"""The report as a regulator files it: no text leaves the page or its container (the PDF read back with pdfminer,
the HTML measured in Chromium), table headers stay with their rows (WeasyPrint's layout), PDF/A with tags and
metadata, and a cover that says who, what was read and where, once."""

import re
import shutil

import pytest
from pdfminer.high_level import extract_pages
from pdfminer.layout import LTChar
from pypdf import PdfReader

from sovaudit.report.model import PACKAGE_DIR, shown_where
from sovaudit.report.render import layout_pdf, render_html

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
MM = 72 / 25.4  # PDF points per millimetre
PAGE_MARGIN_X = 16 * MM  # report.css: @page margin 22mm 16mm 20mm

# Every element of the page against its container: the nearest ancestor that is a box of its own (an inline
# parent has no width). An element that clips its content on purpose (the shortened blob hashes) is measured by
# its own box, everything else by all it draws (scrollWidth).
FIT_SCRIPT = """() => {
  const container = el => { let p = el.parentElement;
    while (p && ['inline', 'contents'].includes(getComputedStyle(p).display)) p = p.parentElement;
    return p; };
  const bad = []; const tables = [];
  for (const el of document.body.querySelectorAll('*')) {
    if (el.closest('svg') && el.tagName.toLowerCase() !== 'svg') continue;
    const style = getComputedStyle(el);
    if (style.display === 'none') continue;
    const parent = container(el);
    if (!parent) continue;
    const clips = style.overflowX !== 'visible';
    const own = el.getBoundingClientRect().width;
    const width = clips || style.display === 'inline' ? own : Math.max(own, el.scrollWidth);
    if (el.tagName === 'TABLE') tables.push(el.className);
    if (width > parent.clientWidth + 1)
      bad.push(`${el.tagName}.${el.className} ${Math.round(width)} > ${parent.clientWidth} in ${parent.tagName}.${parent.className}: ${(el.textContent || '').trim().slice(0, 60)}`);
  }
  return {bad, tables};
}"""


def _chars(item):
    if isinstance(item, LTChar):
        yield item
    for child in getattr(item, "_objs", None) or []:
        yield from _chars(child)


def test_every_text_run_of_the_pdf_lies_inside_the_page(demo):
    """Inside the page box, and left and right inside the margins: the running header and the page numbers
    sit in the margin boxes above and below the text, never beside it."""
    out, _, _ = demo
    outside, pages, runs = [], 0, 0
    for number, page in enumerate(extract_pages(out / "report.pdf"), 1):
        pages += 1
        x0, y0, x1, y1 = page.bbox
        for ch in _chars(page):
            runs += 1
            if (ch.x0 < x0 + PAGE_MARGIN_X - 1 or ch.x1 > x1 - PAGE_MARGIN_X + 1 or ch.y0 < y0 - 0.5
                    or ch.y1 > y1 + 0.5):
                outside.append((number, ch.get_text(), round(ch.x0), round(ch.x1)))
    assert pages > 10 and runs > 50_000
    assert outside == [], outside[:20]


def test_the_wide_tables_keep_every_column_on_the_page(demo):
    """The sentences the issue found cut off: the undeclared transfer's basis, the Commission decision's
    number, and the Kafka retention table's "Class limit" and "Snapshot" columns."""
    out, _, _ = demo
    text = re.sub(r"\s+", " ", "\n".join(p.extract_text() for p in PdfReader(out / "report.pdf").pages))
    assert "no declared transfer or adequacy decision covers US" in text
    assert "Commission Implementing Decision (EU) 2023/1795" in text
    assert "Class limit" in text and "Snapshot" in text and "365 days" in text


@pytest.mark.parametrize("width", [1280, 800])
def test_no_html_element_is_wider_than_its_container(demo, width):
    from playwright.sync_api import sync_playwright

    out, _, _ = demo
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": width, "height": 900})
        page.goto((out / "report.html").as_uri(), wait_until="load")
        result = page.evaluate(FIT_SCRIPT)
        # The document itself does not scroll sideways.
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        browser.close()
    assert result["bad"] == [], result["bad"][:20]
    assert any("transfers" in t for t in result["tables"]) and any("topic-retention" in t for t in result["tables"])


def _boxes(box):
    yield box
    for child in getattr(box, "children", None) or []:
        yield from _boxes(child)


def test_no_table_header_is_left_at_a_page_bottom_without_its_rows(demo_report):
    """WeasyPrint's own layout: every fragment of a table on a page that has its header has a row of data."""
    document = layout_pdf(demo_report)
    pages_of: dict[int, set[int]] = {}
    orphans = []
    for number, page in enumerate(document.pages, 1):
        for box in _boxes(page._page_box):
            if type(box).__name__ != "TableBox":
                continue
            pages_of.setdefault(id(box.element), set()).add(number)
            header = [g for g in box.children if g.is_header]
            rows = [row for g in box.children if not (g.is_header or g.is_footer) for row in g.children
                    if row.element_tag == "tr"]
            if header and not rows:
                orphans.append(number)
    assert len(pages_of) == render_html(demo_report, printable=True).count("<table") > 50  # every table looked at
    assert any(len(pages) > 1 for pages in pages_of.values())  # tables do run over pages, headers repeated
    assert orphans == []


def test_the_pdf_is_pdf_a_and_tagged_with_its_metadata(demo):
    out, _, head = demo
    reader = PdfReader(out / "report.pdf")
    root = reader.trailer["/Root"]
    xmp = root["/Metadata"].get_object().get_data().decode()
    assert 'pdfaid:part="3"' in xmp and 'pdfaid:conformance="B"' in xmp
    assert bool(root["/MarkInfo"]["/Marked"]) and "/StructTreeRoot" in root and root["/Lang"] == "en"
    info = reader.metadata
    assert info["/Title"].startswith("Record of processing activities with log evidence (GDPR Art. 30)")
    assert info["/Author"] == "Acme Retail B.V."  # the controller
    assert info["/Subject"].startswith("Records of processing activities (GDPR Art. 30) of Acme Retail B.V.")
    assert re.fullmatch(r"D:\d{14}Z", info["/CreationDate"])
    assert head in info["/Keywords"] and info["/LedgerHead"] == head
    # XMP and the information dictionary agree, as PDF/A asks.
    assert head in xmp and "Acme Retail B.V." in xmp


def test_the_running_header_is_read_once_per_page_and_not_on_the_cover(demo):
    """No hidden copy of the running header on the cover: its text is extracted in reading order."""
    out, _, _ = demo
    pages = PdfReader(out / "report.pdf").pages
    cover, contents = pages[0].extract_text(), pages[1].extract_text()
    assert "Art. 30 evidence report" not in cover
    assert cover.startswith("GDPR ARTICLE 30 · RECORDS OF PROCESSING ACTIVITIES WITH LOG EVIDENCE\nAcme Retail B.V.\n")
    assert contents.count("Acme Retail B.V. · Art. 30 evidence report · ") == 1
    assert "Report facts" not in cover  # a caption hidden on screen prints nothing


def test_the_cover_names_the_controller_its_sources_and_regions_once(demo):
    out, _, _ = demo
    html = (out / "report.html").read_text()
    cover = html[html.index('<section class="cover"'):html.index("</section>")]
    assert '<h1 id="cover-title">Acme Retail B.V.</h1>' in cover
    assert "Keizersgracht 1, 1015 CJ Amsterdam, the Netherlands" in cover  # the address, beside the name
    # Sources: each by name with what it read, as a reader can place it (not an install path).
    shown = re.sub(r' title="[^"]*"', "", cover)  # the full path is there on hover
    assert "site-packages" not in shown and not re.search(r">/\w", shown)
    for name, where in (("acme-demo-trail", "sovaudit/demo/data/AWSLogs"),
                        ("acme-kafka-us-inventory", "sovaudit/demo/data/kafka/inventory-us")):
        assert re.search(rf"<strong>{name}</strong>.*?<div class=\"where\" title=\"[^\"]+\">{where}</div>", cover)
    regions = re.search(r'<th scope="row">Regions</th><td>(.*?)</td>', cover, re.S).group(1)
    groups = dict(re.findall(r'<span class="label">([^<]+):</span> ([^<]+)</div>', regions))
    assert groups == {"CloudTrail": "eu-central-1, eu-west-1, eu-west-2, us-east-1",
                      "Azure Monitor": "eastus, northeurope, westeurope", "Kafka": "eu-west-1, us-east-1"}


def test_source_paths_are_shown_where_a_reader_can_place_them(tmp_path):
    config_dir = tmp_path / "audit"
    assert shown_where(str(PACKAGE_DIR / "demo" / "data" / "azure"), None) == "sovaudit/demo/data/azure"
    assert shown_where(str(config_dir / "logs" / "trail"), config_dir) == "logs/trail"
    assert shown_where("/srv/exports/cloudtrail/*.json.gz", config_dir) == "/srv/exports/cloudtrail/*.json.gz"
    assert shown_where("example-org-cloudtrail", config_dir) == "example-org-cloudtrail"  # a bucket
    assert shown_where("https://examplelogs.blob.core.windows.net", None) == "https://examplelogs.blob.core.windows.net"
    assert shown_where(None, None) is None


def test_an_organisation_without_an_address_keeps_its_name_as_the_title(demo_report):
    import copy

    report = copy.deepcopy(demo_report)
    report["organisation"]["address"] = None
    html = render_html(report)
    assert '<h1 id="cover-title">Acme Retail B.V.</h1>' in html and "Keizersgracht" not in html
