"""CloudTrail's resource mapping table, `queries/normalize/cloudtrail_resources.csv`, compiled into the rows of the
table `ct_resource_rules` (queries/normalize/cloudtrail_rules.sql), which cloudtrail_finish.sql applies.

Each row says how a service's calls name the resource they touch: an event source, an event-name GLOB, and an
ARN template whose `{placeholders}` are the record's parameters (`{secretId}`, `{tableInput.name}`,
`{responseElements.fileSystemId}`), optionally with a filter (`{name|noslash}`), or the event's `{region}`,
`{account}` and `{partition}`; `value_glob`, when given, is a GLOB the last parameter must match. A rule is
compiled here into tokens (literal text, or a reference to a value) and parameter paths, so that the SQL only
fills them in and never parses a template.
"""

import csv
import io
import json
import re
from dataclasses import dataclass
from functools import cache

from sovaudit.resources import resource_dir

MAP_FILE = "normalize/cloudtrail_resources.csv"
COLUMNS = ["event_source", "event_name", "value_glob", "arn_template", "notes"]
# The record fields a placeholder may start from; anything else is a path into requestParameters.
ROOTS = ("requestParameters", "responseElements", "additionalEventData", "serviceEventDetails")
FILTERS = ("lower", "basename", "noslash")
# Token references the SQL resolves from the event itself (positive numbers are parameter values).
EVENT_REFS = {"region": -1, "account": -2, "partition": -3}
_PLACEHOLDER = re.compile(r"\{([^{}|]*)(?:\|([^{}]*))?\}")
_PATH = re.compile(r"[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*")
MAX_DEPTH = 3  # keys in a parameter path after its field: the SQL follows at most this many


class ResourceMapError(ValueError):
    """A row of the mapping table that cannot be used; the message names the file and line."""


@dataclass(frozen=True)
class Rule:
    line: int
    event_source: str
    event_name: str
    value_glob: str | None
    service: str | None  # the template's service: a value that is an ARN of another service builds nothing
    tokens: tuple[tuple[str | None, int], ...]  # (literal, 0) or (None, reference)
    params: tuple[tuple[str, tuple[str, ...], str | None], ...]  # (root, lower-case path, filter)

    def as_row(self) -> dict:
        """The rule as cloudtrail_rules.sql stores it: one row of the table ct_resource_rules."""
        return {"rule": self.line, "event_source": self.event_source, "event_name": self.event_name,
                "value_glob": self.value_glob, "service": self.service, "n_params": len(self.params),
                # A key the record must have for the rule to apply (the last parameter's first key, quoted as
                # JSON writes it), so that the SQL can pass over a rule before it parses any value.
                "need_root": self.params[-1][0] if self.params else None,
                "need_key": f'"{self.params[-1][1][0]}"' if self.params else None,
                "tokens": [{"i": i, "lit": lit, "ref": ref} for i, (lit, ref) in enumerate(self.tokens, start=1)],
                "params": [{"i": i, "root": root, "filter": flt,
                            **{f"key{n}": (path[n - 1] if n <= len(path) else None) for n in range(1, MAX_DEPTH + 1)}}
                           for i, (root, path, flt) in enumerate(self.params, start=1)]}


def parse_template(template: str, where: str) -> tuple[list[tuple[str | None, int]], list[tuple[str, tuple[str, ...], str | None]]]:
    tokens: list[tuple[str | None, int]] = []
    params: list[tuple[str, tuple[str, ...], str | None]] = []
    pos = 0
    for match in _PLACEHOLDER.finditer(template):
        if match.start() > pos:
            tokens.append((template[pos:match.start()], 0))
        name, flt = match.group(1).strip(), match.group(2)
        if name in EVENT_REFS:
            if flt is not None:
                raise ResourceMapError(f"{where}: {{{name}}} takes no filter")
            tokens.append((None, EVENT_REFS[name]))
        else:
            if not _PATH.fullmatch(name):
                raise ResourceMapError(f"{where}: placeholder {{{match.group(0)[1:-1]}}} is not a parameter path")
            if flt is not None and flt not in FILTERS:
                raise ResourceMapError(f"{where}: unknown filter {flt!r} (expected one of {', '.join(FILTERS)})")
            first, _, rest = name.partition(".")
            root, path = (first, rest) if first in ROOTS and rest else ("requestParameters", name)
            keys = tuple(segment.lower() for segment in path.split("."))
            if len(keys) > MAX_DEPTH:
                raise ResourceMapError(f"{where}: {{{name}}} is more than {MAX_DEPTH} keys deep")
            params.append((root, keys, flt))
            tokens.append((None, len(params)))
        pos = match.end()
    if pos < len(template):
        tokens.append((template[pos:], 0))
    if any(lit is not None and ("{" in lit or "}" in lit) for lit, _ in tokens):
        raise ResourceMapError(f"{where}: unbalanced braces in {template!r}")
    if not (template.startswith("arn:") or (len(tokens) == 1 and params)):
        raise ResourceMapError(f"{where}: the template must start with 'arn:' or be one placeholder holding an ARN")
    return tokens, params


def parse_map(text: str, name: str = MAP_FILE) -> list[Rule]:
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if header != COLUMNS:
        raise ResourceMapError(f"{name}: expected the columns {','.join(COLUMNS)}, found {header}")
    rules = []
    for row in reader:
        where = f"{name}:{reader.line_num}"
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(COLUMNS):
            raise ResourceMapError(f"{where}: expected {len(COLUMNS)} columns, found {len(row)}")
        source, event, value_glob, template, _ = (cell.strip() for cell in row)
        if not source or not event or not template:
            raise ResourceMapError(f"{where}: event_source, event_name and arn_template are required")
        tokens, params = parse_template(template, where)
        if value_glob and not params:
            raise ResourceMapError(f"{where}: value_glob needs a parameter to match")
        parts = template.split(":")
        service = (parts[2] if len(parts) > 2 else "") if template.startswith("arn:") else None
        if service is not None and not re.fullmatch(r"[a-z0-9-]+", service):
            raise ResourceMapError(f"{where}: the template's service {service!r} must be written out")
        rules.append(Rule(reader.line_num, source, event, value_glob or None, service, tuple(tokens), tuple(params)))
    return rules


@cache
def resource_rules() -> list[Rule]:
    return parse_map((resource_dir("queries") / MAP_FILE).read_text(encoding="utf-8"))


@cache
def resource_rules_json() -> str:
    """The rules as the JSON text cloudtrail_rules.sql reads with from_json (bound as $rules), in file order."""
    return json.dumps([rule.as_row() for rule in resource_rules()], separators=(",", ":"))
