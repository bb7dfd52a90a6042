"""The Article 30 evidence report: `sovaudit scan --demo`, the PDF read back, hostile values, a real browser,
truncation at scale, and scan's exit codes."""

import copy
import csv
import json
import re
import shutil
from pathlib import Path

from conftest import REPO, ct_event, run_cli, write_trail_file
from pypdf import PdfReader

from sovaudit.report.render import render_html

SECTIONS = ("Summary", "Records of processing activities", "Where the data was, and where it went", "Findings",
            "Integrity of evidence", "Coverage and method", "Appendix: the checks' SQL")
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


def test_scan_demo_writes_the_report_set(demo):
    out, proc, head = demo
    for name in ("report.html", "report.pdf", "findings.json", "findings.csv", "junit.xml", "findings.sarif",
                 "findings.ocsf.json", "evidence.csv"):
        assert (out / name).stat().st_size > 1000, name
        assert str(out / name) in proc.stdout.replace("\n", "") or name in proc.stdout
    assert head in proc.stdout
    findings = json.loads((out / "findings.json").read_text())
    assert findings["lake"]["ledger_head"] == head


def test_pdf_has_the_sections_the_ledger_head_and_a_planted_finding(demo):
    out, _, head = demo
    reader = PdfReader(out / "report.pdf")
    text = "\n".join(page.extract_text() for page in reader.pages)
    flat = re.sub(r"\s+", " ", text)
    for section in SECTIONS:
        assert section in flat, section
    compact = text.replace("\n", "")  # long ids wrap inside table cells
    assert head in compact
    assert "planted-IN-001-01" in compact
    assert "StopLogging succeeded by arn:aws:iam::111122223333:user/summer-intern" in flat
    assert f"Page 1 of {len(reader.pages)}" in flat
    assert "evidence drawn from audit logs, not a legal opinion" in flat  # the closing line
    assert 10 < len(reader.pages) < 120  # 32 checks, their findings and evidence
    # The table of contents carries page numbers (WeasyPrint's target-counter).
    assert re.search(r"Summary \.{5,} ?\d+", flat)


def test_json_report_has_article_30_records_beside_the_evidence(demo, tmp_path):
    out, _, _ = demo
    proc = run_cli("report", "--format", "json", "--out", str(tmp_path / "r.json"), "--lake", str(out / "lake"),
                   "--config", str(out / "sovaudit.toml"))
    assert proc.returncode == 1, proc.stderr
    doc = json.loads((tmp_path / "r.json").read_text())
    assert {c["id"] for c in doc["checks"]} >= {"XR-001", "IN-003"}
    loyalty = next(a for a in doc["processing_activities"] if a["name"] == "Loyalty programme")
    basis = {t["destination"]: t["status"] for t in loyalty["observed_transfers"]}
    assert basis["UK"] == "declared" and basis["US"] == "undeclared" and basis["CN"] == "undeclared"
    assert {loc["region"] for loc in loyalty["observed_locations"]} >= {"eu-west-1", "eu-central-1", "eu-west-2"}
    assert loyalty["key_weakening"] and "CreateGrant" in loyalty["key_weakening"][0]["reason"]
    us = next(t for t in loyalty["observed_transfers"] if t["destination"] == "US")
    assert "mirrored to Kafka cluster AcmeUsKafkaCluster0001 in us-east-1" in us["how"]
    # Where the callers were, by the rule that placed them; the EC2 reader in eu-west-1 is no transfer.
    assert "accessed from Azure Storage in eastus (US)" in us["how"]
    assert "accessed from an address registered to US" in us["how"] and "EC2" not in us["how"]
    kept = {(t["topic"], t["kept"], t["within_limit"]) for t in loyalty["topic_retention"]}
    assert ("eu.loyalty.clickstream", "kept forever", False) in kept
    assert ("emea.eu.loyalty.transactions", "7.0 days", True) in kept
    backups = next(a for a in doc["processing_activities"] if a["name"] == "Backups")
    assert {d for rule in backups["lifecycle_rules"] for d in rule["expiration_days"]} == {"30", "90"}
    assert backups["read_after_expiry"][0]["evidence"] == ["planted-RT-002-01", "planted-RT-002-02"]
    # The Backups activity's transfers come from the backup plan, the copy job, the snapshot copy and the shares
    # the scenario plants (EG-005, EG-006, EG-007); their EU twins (eu-central-1, the US account) are no transfer.
    flows = {t["destination"]: t for t in backups["observed_transfers"]}
    assert set(flows) == {"US", "other accounts"}
    assert flows["US"]["how"] == "backup copied to us-east-1; served in us-east-1; snapshot copied to us-east-1"
    assert flows["US"]["events"] == 3 and flows["US"]["status"] == "undeclared"
    assert set(flows["US"]["sample_evidence"]) == {"planted-EG-005-01", "planted-EG-005-02", "planted-EG-006-01"}
    assert flows["other accounts"]["how"] == "shared publicly; shared with account 999988887777"
    assert set(flows["other accounts"]["sample_evidence"]) == {"planted-EG-007-01", "planted-EG-007-02"}
    assert doc["integrity"]["ok"] is True and doc["integrity"]["ledger_head"] == doc["lake"]["ledger_head"]
    assert (tmp_path / "evidence.csv").exists() and (tmp_path / "findings.csv").exists()


def test_evidence_csv_holds_every_event_behind_every_finding(demo):
    out, _, _ = demo
    rows = list(csv.DictReader((out / "evidence.csv").open()))
    ku3 = [r for r in rows if r["check_id"] == "KU-003"]
    # KMS and Key Vault: every call of the spike day, as the reasons count them; the report shows 50 a finding,
    # the CSV has them all.
    calls = [int(r["reason"].split()[0]) for r in {r["finding"]: r for r in ku3}.values()]
    assert len(calls) == 2 and len(ku3) == sum(calls) > 600
    assert all(re.fullmatch(r"[0-9a-f]{64}", r["evidence_blob"]) and r["evidence_index"].isdigit() for r in ku3)
    findings = json.loads((out / "findings.json").read_text())
    cited = {uid for c in findings["checks"] for f in c["findings"] for uid in f["evidence"]}
    assert cited <= {r["event_uid"] for r in rows}
    # Every cited record, Kafka inventory snapshots and lineage headers included, names its archived bytes.
    assert all(re.fullmatch(r"[0-9a-f]{64}", r["evidence_blob"]) and r["evidence_index"].isdigit() for r in rows)
    assert {r["source"] for r in rows} >= {"kafka_audit", "kafka_topics", "kafka_lineage"}


def test_html_is_one_self_contained_file(demo):
    out, _, _ = demo
    html = (out / "report.html").read_text()
    assert "<script" not in html.lower()
    assert not re.search(r'(?:src|href)\s*=\s*"(?!#)', html), "only in-page links are allowed"
    assert "@import" not in html and "url(" not in html
    assert "<svg" in html and "<style>" in html


def test_hostile_log_values_render_escaped(tmp_path):
    hostile_agent = '<script>alert("ua")</script>'
    hostile_actor = 'arn:aws:iam::111122223333:user/"><img src=x onerror=alert(1)>'
    event = ct_event("evil-1", time="2024-03-05T10:00:00Z", userAgent=hostile_agent, awsRegion="us-east-1",
                     userIdentity={"type": "IAMUser", "accountId": "111122223333", "arn": hostile_actor},
                     requestParameters={"bucketName": "pii-eu", "key": "a.csv", "Host": "pii-eu.s3.amazonaws.com"})
    write_trail_file(tmp_path / "logs" / "t.json.gz", [event])
    lake = tmp_path / "lake"
    assert run_cli("pull", "cloudtrail", "--path", str(tmp_path / "logs"), "--lake", str(lake)).returncode == 0
    config = tmp_path / "sovaudit.toml"
    config.write_text('[organisation]\ncontroller = "Acme <b>Evil</b> & Co"\n[[data_classes]]\nname = "pii"\n'
                      'home = "EU"\ntier = 1\nretention_days = 30\nresources = ["arn:aws:s3:::pii-eu*"]\n')
    proc = run_cli("report", "--format", "html", "--out", str(tmp_path / "r.html"), "--lake", str(lake),
                   "--config", str(config))
    assert proc.returncode == 1, proc.stderr
    html = (tmp_path / "r.html").read_text()
    assert hostile_agent not in html and "<img src=x" not in html and "<b>Evil</b>" not in html
    assert "&lt;script&gt;alert(&#34;ua&#34;)&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "Acme &lt;b&gt;Evil&lt;/b&gt; &amp; Co" in html


def test_the_report_opens_in_headless_chromium_offline(demo, tmp_path):
    from playwright.sync_api import sync_playwright

    out, _, _ = demo
    console_errors, requests, dialogs = [], [], []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1200, "height": 1600})
        page.on("console", lambda m: console_errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: console_errors.append(str(e)))
        page.on("request", lambda r: requests.append(r.url))
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.goto((out / "report.html").as_uri(), wait_until="load")
        assert page.title().startswith("Record of processing activities")
        assert page.locator("h2").count() >= len(SECTIONS) + 1
        assert page.locator("svg.chart").count() == 3
        page.screenshot(path=str(tmp_path / "first-page.png"))
        browser.close()
    assert console_errors == [] and dialogs == []
    assert requests == [(out / "report.html").as_uri()], requests
    assert (tmp_path / "first-page.png").stat().st_size > 20_000


def test_readme_shows_the_reference_first_page():
    """docs/report-first-page.png is the PDF's first page (an A4 page, portrait), and the README says so."""
    image = (REPO / "docs" / "report-first-page.png").read_bytes()
    assert image[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = int.from_bytes(image[16:20], "big"), int.from_bytes(image[20:24], "big")
    assert abs(height / width - 297 / 210) < 0.01 and width >= 700
    readme = (REPO / "README.md").read_text()
    assert "first page of the demo's `report.pdf`" in readme
    assert "docs/report-first-page.png" in readme


def test_ten_thousand_findings_do_not_make_ten_thousand_pages(demo_report, tmp_path):
    from sovaudit.report.render import render_pdf

    big = copy.deepcopy(demo_report)
    check = next(c for c in big["checks"] if c["id"] == "KU-003")
    check["findings"] = [copy.deepcopy(check["findings"][0]) for _ in range(10_000)]
    html = render_html(big, printable=True)
    assert "9,985 more finding(s) of KU-003 in findings.csv" in html
    assert "more evidence row(s) in evidence.csv" in html
    render_pdf(big, tmp_path / "big.pdf")
    assert len(PdfReader(tmp_path / "big.pdf").pages) < 100


def _scan_with_sources(tmp_path, logs: Path, policy: str, azure: Path | None = None,
                       kafka: Path | None = None) -> tuple[int, str]:
    from sovaudit.demo.scenario import AZURE_LOCATIONS

    config = tmp_path / "sovaudit.toml"
    sources = f'\n[[sources]]\nname = "trail"\ntype = "cloudtrail"\npath = "{logs}"\n'
    if azure:
        locations = ", ".join(f"{json.dumps(k)} = {json.dumps(v)}" for k, v in AZURE_LOCATIONS.items())
        sources += f'\n[[sources]]\nname = "azure"\ntype = "azure"\npath = "{azure}"\nlocations = {{ {locations} }}\n'
    if kafka:
        sources += (f'\n[[sources]]\nname = "kafka-audit"\ntype = "kafka-audit"\npath = "{kafka / "audit"}"\n'
                    'region = "eu-west-1"\n'
                    f'\n[[sources]]\nname = "kafka-eu"\ntype = "kafka-inventory"\npath = "{kafka / "inventory-eu"}"\n'
                    'region = "eu-west-1"\n'
                    f'\n[[sources]]\nname = "kafka-us"\ntype = "kafka-inventory"\npath = "{kafka / "inventory-us"}"\n'
                    'region = "us-east-1"\n'
                    f'\n[[sources]]\nname = "lineage"\ntype = "kafka-lineage"\npath = "{kafka / "lineage"}"\n'
                    'region = "eu-west-1"\n')
    config.write_text(policy + sources)
    proc = run_cli("scan", "--config", str(config), "--lake", str(tmp_path / "lake"), "--out", str(tmp_path / "out"))
    return proc.returncode, proc.stdout + proc.stderr


def test_scan_exits_0_on_a_clean_lake(tmp_path):
    """Every configured source is pulled, Kafka's included, and every check judged: none fails or is skipped."""
    from sovaudit.demo.scenario import POLICY, build, write_azure, write_cloudtrail, write_kafka

    scenario = build(planted=False)
    write_cloudtrail(scenario, tmp_path / "logs")
    write_azure(scenario, tmp_path / "azure")
    write_kafka(scenario, tmp_path / "kafka")
    code, output = _scan_with_sources(tmp_path, tmp_path / "logs", POLICY, azure=tmp_path / "azure",
                                      kafka=tmp_path / "kafka")
    assert code == 0, output[-3000:]
    assert (tmp_path / "out" / "report.pdf").exists()
    junit = (tmp_path / "out" / "junit.xml").read_text()
    assert "<failure" not in junit and "<skipped" not in junit
    findings = json.loads((tmp_path / "out" / "findings.json").read_text())
    coverage = {c["source"]: c["events"] for c in findings["coverage"]}
    assert coverage["kafka_audit"] > 1000 and coverage["kafka_topics"] > 300 and coverage["kafka_lineage"] > 100
    assert {c["id"]: c["status"] for c in findings["checks"]}["EG-004"] == "PASS"


def test_scan_exits_3_on_partial_evidence(tmp_path):
    """A truncated log file: the pull quarantines it, and the scan says the evidence is partial."""
    from sovaudit.demo.scenario import POLICY, build, write_cloudtrail

    write_cloudtrail(build(planted=False), tmp_path / "logs")
    (tmp_path / "logs" / "cut.json.gz").write_bytes(
        (next((tmp_path / "logs").rglob("*.json.gz"))).read_bytes()[:300])
    code, output = _scan_with_sources(tmp_path, tmp_path / "logs", POLICY)
    assert code == 3, output[-3000:]
    assert "partial evidence" in output and "quarantined" in output
    html = (tmp_path / "out" / "report.html").read_text()
    assert "Partial evidence:" in html


def test_scan_without_anything_to_scan_is_a_usage_error(tmp_path):
    proc = run_cli("scan", "--lake", str(tmp_path / "lake"), "--out", str(tmp_path / "out"), cwd=tmp_path)
    assert proc.returncode == 2 and "nothing to scan" in proc.stderr


def test_the_shipped_demo_logs_are_what_the_generator_writes(tmp_path):
    """sovaudit/demo/data is generated by `python -m sovaudit.demo.scenario`; regenerate it when the
    scenario changes (compared decompressed: gzip bytes can differ between zlib versions)."""
    import gzip

    from sovaudit.demo.bundle import demo_logs_dir
    from sovaudit.demo.scenario import build, write_azure, write_cloudtrail, write_kafka

    scenario = build(planted=True)
    written = sorted(write_cloudtrail(scenario, tmp_path) + write_azure(scenario, tmp_path / "azure", gz=True)
                     + write_kafka(scenario, tmp_path / "kafka", gz=True))
    shipped = sorted(demo_logs_dir().rglob("*.gz"))
    assert any("insights-logs-auditevent" in str(p) for p in shipped)
    assert {p.parent.name for p in shipped if "kafka" in p.parts} == {"audit", "inventory-eu", "inventory-us", "lineage"}
    assert [p.relative_to(tmp_path) for p in written] == [p.relative_to(demo_logs_dir()) for p in shipped]
    for fresh, bundled in zip(written, shipped, strict=True):
        assert gzip.decompress(fresh.read_bytes()) == gzip.decompress(bundled.read_bytes()), bundled


def test_the_report_states_a_broken_chain_of_custody(demo, tmp_path):
    """Issue 7's section: a lake whose archive was altered after the pull is reported as FAILED."""
    out, _, _ = demo
    lake = tmp_path / "lake"
    shutil.copytree(out / "lake", lake)
    blob = next(p for p in (lake / "raw").rglob("*") if p.is_file())
    blob.chmod(0o644)
    data = bytearray(blob.read_bytes())
    data[len(data) // 2] ^= 0x01
    blob.write_bytes(bytes(data))
    proc = run_cli("report", "--format", "json", "--out", str(tmp_path / "r.json"), "--lake", str(lake),
                   "--config", str(out / "sovaudit.toml"))
    doc = json.loads((tmp_path / "r.json").read_text())
    assert proc.returncode == 1
    assert doc["integrity"]["ok"] is False
    broken = [c for c in doc["integrity"]["checks"] if not c["ok"]]
    assert broken and blob.name in json.dumps(broken)
    html = render_html(doc)
    assert "FAILED verification" in html


def test_the_html_is_structured_for_assistive_technology(demo):
    """Semantic structure: a language, one h1, sections under h2, every table captioned, header cells scoped."""
    out, _, _ = demo
    html = (out / "report.html").read_text()
    assert '<html lang="en">' in html
    assert html.count("<h1") == 1 and html.count("<h2") >= len(SECTIONS)
    assert html.count("<table") == html.count("<caption")
    header_cells = re.findall(r"<th\b[^>]*>", html)
    assert header_cells and all("scope=" in th for th in header_cells)
    assert html.count('role="img"') == html.count("<svg") == 3



def test_the_demo_shows_an_accepted_finding_and_an_expired_acceptance(demo):
    """The demo policy accepts the backup spike of 2026-09-12 (EG-003) until 2027-09-30 and had accepted the
    contractor's first use of the loyalty key (KU-002) until 2026-09-30."""
    out, proc, _ = demo
    findings = json.loads((out / "findings.json").read_text())
    states = {s["check"]: s for s in findings["suppressions"]}
    eg3 = next(c for c in findings["checks"] if c["id"] == "EG-003")
    backups = next(f for f in eg3["findings"] if f["resource"] == "arn:aws:s3:::acme-backups-eu")
    # EG-003 has an Azure finding besides: the check stays FAIL either way.
    assert eg3["status"] == "FAIL" and len(eg3["findings"]) == 2
    html = (out / "report.html").read_text()
    accepted = html[html.index('<section id="accepted"'):html.index('<section id="integrity"')]
    if states["EG-003"]["state"] == "active":  # until 2027-09-30
        assert backups["status"] == "ACCEPTED" and states["EG-003"]["findings"] == [backups["finding_id"]]
        assert f'id="accepted-{backups["finding_id"]}"' in accepted and "Quarterly full backup" in accepted
    else:
        assert backups["status"] == "FAIL" and "valid through 2027-09-30" in accepted
    ku2 = next(c for c in findings["checks"] if c["id"] == "KU-002")
    contractor = next(f for f in ku2["findings"] if f["actor"].endswith("assumed-role/external-contractor"))
    assert contractor["status"] == "FAIL" and states["KU-002"]["state"] == "expired"
    assert states["KU-002"]["findings"] == [contractor["finding_id"]]
    assert f"expired: valid through 2026-09-30; finding {contractor['finding_id']} is FAIL again" in accepted
    assert f"finding {contractor['finding_id']} is FAIL again" in proc.stderr.replace("\n", "")


def test_html_backups_record_shows_the_backup_and_snapshot_transfers(demo):
    """The Art. 30 record of the Backups activity lists the copies beside the S3 ones, each marked undeclared."""
    out, _, _ = demo
    html = (out / "report.html").read_text()
    backups = html[html.index('<article id="activity-2"'):]
    backups = backups[:backups.index("</article>")]
    assert '<h3 id="activity-2-title">Backups</h3>' in backups
    assert "backup copied to us-east-1; served in us-east-1; snapshot copied to us-east-1" in backups
    assert "shared publicly; shared with account 999988887777" in backups
    assert backups.count('class="transfer-undeclared"') == 2
