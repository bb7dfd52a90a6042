"""The parts of an activity's record fed by check metadata: a check whose header says `-- report: SECTION`
puts its findings (of the activity's data classes) into that section, a built-in check or the user's own."""

import copy
import re
from pathlib import Path

import pytest

from sovaudit.checks.runner import CheckSession
from sovaudit.config import load_config
from sovaudit.report.model import build_report
from sovaudit.report.render import render_html

# Not a weakening by itself, but a team may well want refused decrypts of a classed key beside the weakening
# events; the planted scenario has a burst of them by the intern on the loyalty key.
USER_CHECK = """\
-- id: CU-101
-- title: Decrypts of a classed key refused to the summer intern
-- family: key_use
-- severity: low
-- gdpr: Art. 32
-- requires: cloudtrail
-- policy: classed_keys
-- report: key_weakening
-- description: The intern tried to use a data class's key and was refused.
-- remediation: Ask the intern why.
SELECT e.key_id AS resource, e.actor, e.region, NULL AS region_jurisdiction, NULL AS counterpart_jurisdiction, min(e.time) AS first_seen,
       max(e.time) AS last_seen, count(*) AS event_count, 'decrypt refused to the intern' AS reason,
       list(e.event_uid ORDER BY e.time, e.event_uid) AS evidence, kc.class_name AS data_class
FROM events AS e
JOIN key_class AS kc ON kc.key_id = e.key_id
WHERE e.source = 'cloudtrail' AND e.actor LIKE '%summer-intern%' AND e.outcome = 'failure'
GROUP BY e.key_id, e.actor, e.region, kc.class_name
"""


@pytest.fixture(scope="module")
def report_with_user_check(planted_scenario, tmp_path_factory):
    """The report model of the planted lake with a user check from a `[checks] paths` folder, run beside the
    built-in checks that feed the two sections."""
    _, lake, config = planted_scenario
    base = tmp_path_factory.mktemp("user-check")
    (base / "our-checks").mkdir()
    (base / "our-checks" / "cu_101.sql").write_text(USER_CHECK)
    user_config = base / "sovaudit.toml"
    user_config.write_text(Path(config).read_text() + '\n[checks]\npaths = ["our-checks"]\n')
    with CheckSession(lake, load_config(user_config), check_ids=["RT-002", "KU-004", "KU-006", "CU-101"]) as session:
        return build_report(session, session.run())


def _activity(report: dict, name: str) -> dict:
    return next(a for a in report["processing_activities"] if a["name"] == name)


def test_a_user_check_feeds_the_section_its_header_names(report_with_user_check):
    loyalty = _activity(report_with_user_check, "Loyalty programme")
    refused = [f for f in loyalty["key_weakening"] if f["reason"] == "decrypt refused to the intern"]
    assert len(refused) == 1
    assert refused[0]["evidence"] and all(uid.startswith("planted-KU-005-") for uid in refused[0]["evidence"])
    # It sits beside the built-in findings, not instead of them (KU-004's grant to a foreign account).
    assert any("CreateGrant" in f["reason"] for f in loyalty["key_weakening"])
    assert not any(f["reason"] == "decrypt refused to the intern" for f in loyalty["read_after_expiry"])


def test_the_sections_name_their_checks_in_catalogue_order(report_with_user_check):
    assert report_with_user_check["section_checks"] == {"read_after_expiry": ["RT-002"],
                                                        "key_weakening": ["CU-101", "KU-004", "KU-006"]}
    backups = _activity(report_with_user_check, "Backups")
    assert backups["read_after_expiry"][0]["evidence"] == ["planted-RT-002-01", "planted-RT-002-02"]


def _no_finding_sentences(html: str) -> list[str]:
    return [re.sub(r"\s+", " ", s) for s in re.findall(r'<p class="muted">(No (?:object|key) of these classes.*?)</p>',
                                                       html, re.S)]


def test_a_section_without_findings_names_the_checks_that_feed_it(report_with_user_check):
    sentences = _no_finding_sentences(render_html(report_with_user_check))
    assert sentences, "some activity has a section without findings"
    for sentence in sentences:
        assert sentence.endswith(("retention expired (RT-002).", "granted abroad (CU-101, KU-004, KU-006)."))


def test_a_section_no_check_feeds_names_none(report_with_user_check):
    report = copy.deepcopy(report_with_user_check)
    report["section_checks"] = {section: [] for section in report["section_checks"]}
    for activity in report["processing_activities"]:
        activity["read_after_expiry"] = activity["key_weakening"] = []
    sentences = _no_finding_sentences(render_html(report))
    assert sentences and all(s.endswith(("retention expired.", "granted abroad.")) for s in sentences)
