"""Check files: headers, discovery, user checks, `sovaudit checks list|show`, and the README's table."""

import json
import re
from pathlib import Path

import pytest
from conftest import REPO, run_cli

from sovaudit.checks.catalogue import FAMILIES, CheckDefinitionError, discover, parse_check
from sovaudit.checks.console import catalogue_markdown
from sovaudit.sources import SOURCES

GOOD_HEADER = """\
-- id: CU-001
-- title: Reads by the summer intern
-- family: integrity
-- severity: low
-- gdpr: Art. 32
-- requires: cloudtrail
-- description: Anything the intern read.
--   Continued on a second line.
-- remediation: Talk to the intern.
"""
GOOD_SQL = """SELECT resource, actor, region, NULL AS region_jurisdiction, NULL AS counterpart_jurisdiction, min(time) AS first_seen, max(time) AS last_seen,
       count(*) AS event_count, 'the intern read it' AS reason, list(event_uid ORDER BY time) AS evidence
FROM events WHERE actor LIKE '%summer-intern%' AND action_class = 'read' GROUP BY ALL
"""


def write_check(directory: Path, text: str, name: str = "cu_001.sql") -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text(text)
    return path


def test_builtin_catalogue_covers_every_family_with_complete_headers():
    checks = discover()
    assert len(checks) >= 16
    assert {c.family for c in checks} == set(FAMILIES)
    assert len({c.id for c in checks}) == len(checks)
    sources = {table for source in SOURCES.values() for table in source.tables}
    for c in checks:
        assert c.description and c.remediation and c.gdpr and c.requires and set(c.requires) <= sources
        assert all(g.startswith("Art. ") for g in c.gdpr), c.gdpr
    # Every family judges Azure too.
    for family in FAMILIES:
        assert any({"azure_activity", "azure_resource"} & set(c.requires) for c in checks if c.family == family), family


def test_requires_any_of(tmp_path):
    check = parse_check(write_check(tmp_path, GOOD_HEADER.replace("-- requires: cloudtrail",
                                                                  "-- requires: any of cloudtrail, azure_resource")
                                    + GOOD_SQL))
    assert check.requires == ("cloudtrail", "azure_resource") and check.requires_any
    assert check.requires_text == "cloudtrail or azure_resource"
    plain = parse_check(write_check(tmp_path, GOOD_HEADER + GOOD_SQL, "cu_002.sql"))
    assert plain.requires == ("cloudtrail",) and not plain.requires_any
    with pytest.raises(CheckDefinitionError, match=r":6: requires: found 'any of', expected"):
        parse_check(write_check(tmp_path, GOOD_HEADER.replace("-- requires: cloudtrail", "-- requires: any of ")
                                + GOOD_SQL, "cu_003.sql"))


def test_a_good_header_parses_with_continuation_lines(tmp_path):
    check = parse_check(write_check(tmp_path, GOOD_HEADER + GOOD_SQL))
    assert (check.id, check.family, check.severity, check.gdpr) == ("CU-001", "integrity", "low", ("Art. 32",))
    assert check.description == "Anything the intern read. Continued on a second line."
    assert check.sql.startswith("SELECT resource")


@pytest.mark.parametrize(("edit", "message"), [
    (lambda t: t.replace("-- severity: low", "-- severity: urgent"),
     ":4: severity: found 'urgent', expected one of critical, high, medium, low, info"),
    (lambda t: t.replace("-- family: integrity", "-- family: sovereignty"), ":3: family: found 'sovereignty'"),
    (lambda t: t.replace("-- title: Reads by the summer intern\n", ""), ":1: missing header `-- title: …`"),
    (lambda t: t.replace("-- id: CU-001", "-- id: cu1"), ":1: id: found 'cu1', expected an id like XR-001"),
    (lambda t: "-- colour: blue\n" + t, ":1: unknown header key 'colour'"),
    (lambda t: t.replace("-- gdpr: Art. 32", "-- gdpr: Art. 32\n-- gdpr: Art. 5"), ":6: header key 'gdpr' is given twice"),
    (lambda t: t + "; DELETE FROM events", "a check is exactly one SELECT statement"),  # noqa: S608
    (lambda t: t.replace("SELECT resource", "SELEKT resource"), "the SQL does not parse"),
    (lambda t: t.split("SELECT")[0], "no SQL after the header"),
    (lambda t: t.replace("-- remediation:", "-- report: key_weaknesses\n-- remediation:"),
     ":9: report: found 'key_weaknesses', expected one of read_after_expiry, key_weakening"),
])
def test_a_malformed_check_is_rejected_with_its_file_and_line(tmp_path, edit, message):
    path = write_check(tmp_path, edit(GOOD_HEADER + GOOD_SQL))
    with pytest.raises(CheckDefinitionError) as raised:
        parse_check(path)
    text = str(raised.value)
    assert text.startswith(f"{path}:"), text
    assert (str(path) + message if message.startswith(":") else message) in text, text


def test_the_report_key_names_the_section_a_check_feeds(tmp_path):
    fed = parse_check(write_check(tmp_path, GOOD_HEADER.replace("-- remediation:", "-- report: key_weakening\n"
                                                                "-- remediation:") + GOOD_SQL))
    assert fed.report == "key_weakening"
    assert fed.remediation == "Talk to the intern."
    assert parse_check(write_check(tmp_path, GOOD_HEADER + GOOD_SQL, "cu_002.sql")).report is None
    assert {c.id: c.report for c in discover() if c.report} == {
        "RT-002": "read_after_expiry", "KU-004": "key_weakening", "KU-006": "key_weakening"}


def test_user_checks_from_config_paths_are_listed_and_run(tmp_path, planted_scenario):
    _, lake, config = planted_scenario
    write_check(tmp_path / "our-checks", GOOD_HEADER + GOOD_SQL)
    user_config = tmp_path / "sovaudit.toml"
    user_config.write_text(Path(config).read_text() + '\n[checks]\npaths = ["our-checks"]\n')
    listed = run_cli("checks", "list", "--format", "json", "--config", str(user_config))
    assert listed.returncode == 0, listed.stderr
    listing = {c["id"]: c for c in json.loads(listed.stdout)}
    entry = listing["CU-001"]
    assert entry["builtin"] is False and entry["report"] is None
    assert listing["KU-006"]["report"] == "key_weakening"
    proc = run_cli("check", "--check", "CU-001", "--format", "json", "--lake", str(lake.root),
                   "--config", str(user_config))
    result = json.loads(proc.stdout)["checks"][0]
    assert result["status"] == "FAIL"
    assert proc.returncode == 0  # a low finding is under the default --fail-on high
    cited = {uid for f in result["findings"] for uid in f["evidence"]}
    assert "planted-RT-002-02" in cited


def test_a_user_check_may_not_reuse_a_builtin_id(tmp_path):
    write_check(tmp_path / "dupe", (GOOD_HEADER + GOOD_SQL).replace("CU-001", "XR-001"))
    with pytest.raises(CheckDefinitionError, match="id XR-001 is already used by"):
        discover([tmp_path / "dupe"])


def test_a_missing_check_directory_is_a_config_error(tmp_path):
    config = tmp_path / "sovaudit.toml"
    config.write_text('[checks]\npaths = ["nowhere"]\n')
    proc = run_cli("checks", "list", "--config", str(config))
    assert proc.returncode == 2
    assert "nowhere: check directory not found" in proc.stderr


def test_a_check_whose_sql_fails_is_named_and_exits_2(tmp_path, planted_scenario):
    _, lake, config = planted_scenario
    write_check(tmp_path / "broken", (GOOD_HEADER + GOOD_SQL).replace("FROM events", "FROM no_such_table"))
    broken_config = tmp_path / "sovaudit.toml"
    broken_config.write_text(Path(config).read_text() + '\n[checks]\npaths = ["broken"]\n')
    proc = run_cli("check", "--format", "json", "--lake", str(lake.root), "--config", str(broken_config))
    assert proc.returncode == 2
    assert "CU-001" in proc.stderr and "no_such_table" in proc.stderr
    statuses = {c["id"]: c["status"] for c in json.loads(proc.stdout)["checks"]}
    assert statuses["CU-001"] == "NOT_ASSESSED" and statuses["IN-001"] == "FAIL"


def test_checks_show_prints_metadata_and_sql():
    proc = run_cli("checks", "show", "in-001")
    assert proc.returncode == 0
    for text in ("IN-001", "critical", "StopLogging", "remediation", "SELECT"):
        assert text in proc.stdout
    assert run_cli("checks", "show", "XX-999").returncode == 2
    assert "key_weakening" in run_cli("checks", "show", "KU-004").stdout


def test_checks_list_table_names_every_check():
    proc = run_cli("checks", "list")
    assert proc.returncode == 0
    for check in discover():
        assert check.id in proc.stdout


@pytest.mark.parametrize("verb", [("check",), ("checks", "list"), ("checks", "show")])
def test_help_has_an_example(verb):
    proc = run_cli(*verb, "--help")
    assert proc.returncode == 0 and "Example" in proc.stdout


def test_readme_documents_every_check():
    """The README's table is `sovaudit checks list --format markdown`; regenerate it when a check changes."""
    readme = (REPO / "README.md").read_text()
    block = re.search(r"<!-- checks:start -->\n(.*?)<!-- checks:end -->", readme, re.S)
    assert block, "README.md lacks the <!-- checks:start --> … <!-- checks:end --> block"
    assert block.group(1) == catalogue_markdown(discover()), \
        "README check table is stale: paste `sovaudit checks list --format markdown` between the markers"
