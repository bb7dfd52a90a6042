"""GLOB patterns compiled to regular expressions (sovaudit/engines/glob_regex.py) match exactly what DuckDB's
GLOB matches: the policy tables carry the regex, and the checks match with regexp_matches (docs/portable-sql.md)."""

import re

import duckdb
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from sovaudit.config import parse_config
from sovaudit.engines.glob_regex import NOTHING, compile_glob, glob_to_regex
from sovaudit.policy import load_policy

# GLOB's own characters, regex metacharacters, line breaks (DuckDB's `.` skips them, Java's `$` stops before
# one), non-ASCII and `/`, in a small alphabet so that random patterns hit sets, ranges and escapes often.
ALPHABET = list("ab-]![\\*?^z.$(|{+&/ ") + ["\n", "\r", "é", "ü", "\x00"]


@pytest.fixture(scope="module")
def con():
    with duckdb.connect() as connection:
        yield connection


def _agree(con, value: str, pattern: str) -> None:
    """The regex alone, and the form the checks write (LIKE first, the regex only when LIKE is not exact)."""
    c = compile_glob(pattern)
    glob, matched, checks_form = con.execute(
        "SELECT $value GLOB $pattern, regexp_matches($value, $regex),"
        " $value LIKE $like ESCAPE '!' AND ($exact OR regexp_matches($value, $regex))",
        {"value": value, "pattern": pattern, "regex": c.regex, "like": c.like_pattern, "exact": c.like_exact},
    ).fetchone()
    assert matched is glob and checks_form is glob, (value, pattern, c)


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(pattern=st.text(alphabet=ALPHABET, max_size=8), value=st.text(alphabet=ALPHABET, max_size=6))
def test_random_patterns_match_as_duckdb_glob_does(con, pattern, value):
    _agree(con, value, pattern)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(pattern=st.text(alphabet=ALPHABET, max_size=8), data=st.data())
def test_strings_the_regex_matches_the_glob_matches(con, pattern, data):
    """Random strings mostly fail to match; these are drawn from the regex (read by Python's `re`, whose end
    of text is `\\Z`), so that they match it, and DuckDB's GLOB must agree."""
    regex = glob_to_regex(pattern)
    assume(regex != NOTHING)
    value = data.draw(st.from_regex(regex[:-2] + "\\Z", fullmatch=True).filter(lambda s: len(s) < 12))
    _agree(con, value, pattern)


@pytest.mark.parametrize(("pattern", "value", "matches"), [
    ("arn:aws:s3:::loyalty-*", "arn:aws:s3:::loyalty-db/2024/01/x.csv", True),   # `*` crosses `/`
    ("arn:aws:s3:::loyalty-*", "arn:aws:s3:::loyalty-db\nforged", True),          # and newlines
    ("arn:aws:s3:::loyalty-db", "arn:aws:s3:::loyalty-db\n", False),              # anchored at the very end
    ("arn:aws:s3:::loyalty-db", "xarn:aws:s3:::loyalty-db", False),
    ("eu.loyalty.*", "euXloyalty.transactions", False),                           # `.` is literal
    ("orders-[0-9][!a-z]", "orders-7Q", True),
    ("orders-[0-9][!a-z]", "orders-7q", False),
    ("key/[]x]", "key/]", True),                                                  # `]` first is literal
    ("a[bc", "a[bc", False),                                                      # an unclosed set: nothing
    ("a\\*", "a*", True),
    ("a\\*", "ab", False),
    ("(a|b)+{2}", "(a|b)+{2}", True),
])
def test_known_cases(con, pattern, value, matches):
    assert con.execute("SELECT ? GLOB ?", [value, pattern]).fetchone()[0] is matches
    assert con.execute("SELECT regexp_matches(?, ?)", [value, glob_to_regex(pattern)]).fetchone()[0] is matches
    _agree(con, value, pattern)


@pytest.mark.parametrize(("pattern", "like", "exact"), [
    ("arn:aws:s3:::loyalty-*", "arn:aws:s3:::loyalty-%", True),
    ("eu_loyalty.?%!", "eu!_loyalty._!%!!", True),
    ("a\\*b[0-9]", "a*b_", False),
    ("a[bc", "%", False),                       # matches nothing: the regex says so
])
def test_the_like_prefilter(pattern, like, exact):
    compiled = compile_glob(pattern)
    assert (compiled.like_pattern, compiled.like_exact) == (like, exact)


def test_the_regex_keeps_to_the_portable_subset():
    """No flags, no lookarounds, no `.` or `$`, whose meaning depends on the engine's line handling."""
    for pattern in ("arn:aws:s3:::pii-*", "a?b[!c-e]\\[", "x[]a-]y", "(.)$^"):
        regex = glob_to_regex(pattern)
        assert regex.startswith("^") and regex.endswith("\\z")
        unescaped = re.sub(r"\\.", "", regex)
        assert not re.search(r"\(\?|[.$|(){}+?]", unescaped), regex


def test_the_policy_tables_carry_each_pattern_compiled():
    config = parse_config("""
[[data_classes]]
name = "loyalty"
home = "eu"
tier = 1
retention_days = 30
resources = ["arn:aws:s3:::loyalty-*"]
keys = ["arn:aws:kms:eu-west-1:1:key/[!x]*"]
topics = ["eu.loyalty.?"]
[resource_regions]
"arn:aws:s3:::dr-*" = "us-east-1"
""")
    with duckdb.connect() as con:
        load_policy(con, config)
        rows = con.execute("SELECT kind, pattern, regex, like_pattern, like_exact FROM policy_class_patterns "
                           "ORDER BY kind").fetchall()
        regions = con.execute("SELECT pattern, regex, like_pattern, like_exact, region "
                              "FROM policy_resource_regions").fetchall()
    assert rows == [(kind, p, *_columns(p)) for kind, p in [
        ("key", "arn:aws:kms:eu-west-1:1:key/[!x]*"), ("resource", "arn:aws:s3:::loyalty-*"),
        ("topic", "eu.loyalty.?")]]
    assert rows[1][2:] == (r"^arn\:aws\:s3\:\:\:loyalty\-[\s\S]*\z", "arn:aws:s3:::loyalty-%", True)
    assert rows[0][4] is False  # a set: LIKE only narrows, the regex decides
    assert regions == [("arn:aws:s3:::dr-*", *_columns("arn:aws:s3:::dr-*"), "us-east-1")]


def _columns(pattern: str) -> tuple:
    compiled = compile_glob(pattern)
    return compiled.regex, compiled.like_pattern, compiled.like_exact
