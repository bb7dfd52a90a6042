"""Check files: discovery by convention and their comment headers.

A check is one `.sql` file whose leading `-- key: value` lines are its metadata (docs/architecture.md,
"Adding a check"): id, title, family, severity, gdpr, requires (sources that must all have events in the
window or have been collected for it, or `any of a, b`: at least one), description, remediation, and optionally `policy` (what the config
must provide), `baseline` (yes when the check compares the window with the look-back period) and `report`
(the Art. 30 report section its findings feed, one of REPORT_SECTIONS) and `reason` (a template over the
result's columns that writes each finding's reason, sovaudit/checks/reasons.py; without it the SQL returns a
`reason` column). A value may continue on following
`--` lines that have no key. read_header reads those lines, build_check judges them.
"""

import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import duckdb

from sovaudit.checks.reasons import TemplateError, template_fields
from sovaudit.errors import ConfigError, ReadOnlyViolation
from sovaudit.readonly import assert_read_only
from sovaudit.resources import resource_dir

FAMILIES = ("cross_region", "egress", "key_use", "retention", "integrity")
SEVERITIES = ("critical", "high", "medium", "low", "info")
POLICY_NEEDS = {
    "data_classes": "no [[data_classes]] are defined in the config",
    "tier1_classes": "no tier-1 [[data_classes]] are defined in the config",
    "classed_resources": "no event in the lake touches a resource matching a [[data_classes]] pattern",
    "classed_keys": "no key in the lake matches a [[data_classes]] keys or resources pattern",
    "classed_topics": "no Kafka topic in the lake matches a [[data_classes]] topics pattern",
    "evidence_period": "no evidence period is declared ([organisation] evidence_period_days)",
    "accounts": "no [[accounts]] are declared in the config: give each AWS account or Azure subscription its id "
                "and the jurisdiction its data stores belong in (and allowed_regions, to allow only some regions)",
}
# The parts of each processing activity's record that list findings of the activity's data classes; a check
# feeds one with `-- report: NAME` (and a `data_class` column naming the class of each finding).
REPORT_SECTIONS = ("read_after_expiry", "key_weakening")
_REQUIRED = ("id", "title", "family", "severity", "gdpr", "requires", "description", "remediation")
_OPTIONAL = ("policy", "baseline", "report", "reason")
_HEADER_LINE = re.compile(r"--\s?(?P<key>[a-z_]+):\s*(?P<value>.*?)\s*$")
_CONTINUATION = re.compile(r"--\s?(?P<value>.*?)\s*$")
_ID = re.compile(r"[A-Z][A-Z0-9]*-[0-9]{3}")


class CheckDefinitionError(ConfigError):
    """A check file that cannot be used; the message names the file and line."""


@dataclass(frozen=True)
class Check:
    id: str
    title: str
    family: str
    severity: str
    gdpr: tuple[str, ...]
    requires: tuple[str, ...]
    description: str
    remediation: str
    sql: str
    path: Path
    policy: tuple[str, ...] = ()
    baseline: bool = False
    report: str | None = None  # one of REPORT_SECTIONS
    builtin: bool = field(default=True, compare=False)
    # True for `requires: any of a, b`: assessed when at least one of the sources has events in the window or
    # was collected for it.
    requires_any: bool = False
    # The `-- reason:` template, rendered per finding from the result's columns (sovaudit/checks/reasons.py).
    reason_template: str | None = None

    @property
    def requires_text(self) -> str:
        """For people: `cloudtrail or azure_resource` for an any-of list, else `cloudtrail, azure_activity`."""
        return (" or " if self.requires_any else ", ").join(self.requires)

    @property
    def severity_rank(self) -> int:
        return SEVERITIES.index(self.severity)


def _split_list(value: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in re.split(r"[;,]", value) if part.strip())


@dataclass(frozen=True)
class RawHeader:
    """A check file's `-- key: value` lines as read, not yet validated: each key's value (continuation lines
    joined) and the line it starts on, and the SQL after the header."""
    path: Path
    values: dict[str, str]
    lines: dict[str, int]
    body: str
    body_start: int

    def invalid(self, key: str, expected: str) -> CheckDefinitionError:
        return CheckDefinitionError(f"{self.path}:{self.lines[key]}: {key}: found {self.values[key]!r}, "
                                    f"expected {expected}")


def read_header(path: Path, text: str) -> RawHeader:
    """Splits a check file into its header's key/value pairs and its SQL. Only the layout is judged here
    (known keys, each once); the values are judged by build_check."""
    known = _REQUIRED + _OPTIONAL
    values: dict[str, str] = {}
    lines: dict[str, int] = {}
    last_key: str | None = None
    all_lines = text.splitlines()
    body_start = len(all_lines) + 1
    for number, line in enumerate(all_lines, start=1):
        stripped = line.strip()
        if not stripped:
            last_key = None
            continue
        if not stripped.startswith("--"):
            body_start = number
            break
        match = _HEADER_LINE.fullmatch(stripped)
        # Inside a value, `-- word: text` with an unknown word is prose (e.g. "note: …"), not a new key.
        if match and (match.group("key") in known or last_key is None):
            key = match.group("key")
            if key not in known:
                raise CheckDefinitionError(
                    f"{path}:{number}: unknown header key {key!r}, expected one of {', '.join(known)}")
            if key in values:
                raise CheckDefinitionError(f"{path}:{number}: header key {key!r} is given twice")
            values[key], lines[key], last_key = match.group("value"), number, key
        elif last_key is not None:
            values[last_key] += " " + _CONTINUATION.fullmatch(stripped).group("value").strip()
        else:
            raise CheckDefinitionError(f"{path}:{number}: expected a header line `-- key: value`, found {stripped!r}")
    body = "\n".join(all_lines[body_start - 1:])
    return RawHeader(path=path, values=values, lines=lines, body=body, body_start=body_start)


def _requires(header: RawHeader) -> tuple[tuple[str, ...], bool]:
    """`a, b` (all of them) or `any of a, b` (at least one): the sources, and whether any one is enough."""
    text = header.values["requires"]
    requires_any = bool(re.match(r"any of(\s|$)", text, flags=re.IGNORECASE))
    requires = _split_list(text[len("any of"):] if requires_any else text)
    if not requires:
        raise header.invalid("requires", "a list of sources, or `any of` and a list of sources")
    return requires, requires_any


@cache
def _parser() -> duckdb.DuckDBPyConnection:
    """One empty connection that only parses check SQL: making one per check cost ~15 ms each."""
    return duckdb.connect(":memory:")


def _select_sql(header: RawHeader) -> str:
    path, body_start = header.path, header.body_start
    sql = header.body.strip().rstrip(";").strip()
    if not sql:
        raise CheckDefinitionError(f"{path}:{body_start}: no SQL after the header")
    parser = _parser()
    try:
        statements = parser.extract_statements(sql)
    except duckdb.Error as exc:
        raise CheckDefinitionError(f"{path}:{body_start}: the SQL does not parse: {str(exc).splitlines()[0]}") from None
    if len(statements) != 1 or statements[0].type != duckdb.StatementType.SELECT:
        raise CheckDefinitionError(f"{path}:{body_start}: a check is exactly one SELECT statement")
    # The checks run on a connection that can write: a COPY or INSERT hidden in a WITH clause parses as a SELECT.
    try:
        assert_read_only(parser, sql)
    except ReadOnlyViolation as exc:
        raise CheckDefinitionError(f"{path}:{body_start}: a check only reads: {exc}") from None
    return sql


def build_check(header: RawHeader, *, builtin: bool = True) -> Check:
    """Validates a read header and its SQL; the first problem is raised with its file and line."""
    path, values = header.path, header.values
    for key in _REQUIRED:
        if not values.get(key):
            raise CheckDefinitionError(f"{path}:1: missing header `-- {key}: …` (needs {', '.join(_REQUIRED)})")
    if not _ID.fullmatch(values["id"]):
        raise header.invalid("id", "an id like XR-001 (capital letters, a dash, three digits)")
    if values["family"] not in FAMILIES:
        raise header.invalid("family", "one of " + ", ".join(FAMILIES))
    if values["severity"] not in SEVERITIES:
        raise header.invalid("severity", "one of " + ", ".join(SEVERITIES))
    policy = _split_list(values.get("policy", ""))
    if any(need not in POLICY_NEEDS for need in policy):
        raise header.invalid("policy", "a list of " + ", ".join(POLICY_NEEDS))
    requires, requires_any = _requires(header)
    baseline = values.get("baseline", "no").lower()
    if baseline not in ("yes", "no"):
        raise header.invalid("baseline", "yes or no")
    report = values.get("report")
    if report is not None and report not in REPORT_SECTIONS:
        raise header.invalid("report", "one of " + ", ".join(REPORT_SECTIONS))
    reason_template = values.get("reason")
    if reason_template is not None:
        try:
            template_fields(reason_template)
        except TemplateError as exc:
            raise CheckDefinitionError(f"{path}:{header.lines['reason']}: reason: {exc}") from None
    sql = _select_sql(header)
    return Check(
        id=values["id"], title=values["title"], family=values["family"], severity=values["severity"],
        gdpr=_split_list(values["gdpr"]), requires=requires, requires_any=requires_any,
        description=values["description"], remediation=values["remediation"], sql=sql, path=path,
        policy=policy, baseline=baseline == "yes", report=report, builtin=builtin,
        reason_template=reason_template,
    )


def parse_check(path: Path, text: str | None = None, *, builtin: bool = True) -> Check:
    text = path.read_text(encoding="utf-8") if text is None else text
    check = build_check(read_header(path, text), builtin=builtin)
    # The built-in checks are held to the portable dialect by tests/test_portable_lint.py while they are being
    # rewritten into it; a user's check must be portable when it loads.
    if not builtin:
        _require_portable(path, text)
    return check


def _require_portable(path: Path, text: str) -> None:
    from sovaudit.engines.lint import lint_sql

    violations = lint_sql(path, text)
    if violations:
        more = f" (and {len(violations) - 1} more: sovaudit checks lint {path})" if len(violations) > 1 else ""
        raise CheckDefinitionError(f"{violations[0]}{more}")


def builtin_check_dir() -> Path:
    return resource_dir("queries") / "checks"


def discover(extra_dirs: list[Path] | None = None) -> list[Check]:
    """Built-in checks, then any in extra_dirs; ids must be unique across all of them."""
    found: dict[str, Check] = {}
    sources = [(builtin_check_dir(), True)] + [(Path(d), False) for d in extra_dirs or []]
    for directory, builtin in sources:
        if not directory.is_dir():
            raise CheckDefinitionError(f"{directory}: check directory not found ([checks] paths)")
        for path in sorted(directory.glob("*.sql")):
            check = parse_check(path, builtin=builtin)
            if check.id in found:
                raise CheckDefinitionError(f"{path}:1: id {check.id} is already used by {found[check.id].path}")
            found[check.id] = check
    return sorted(found.values(), key=lambda c: (FAMILIES.index(c.family), c.id))
