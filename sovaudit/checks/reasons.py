"""A finding's reason, rendered in Python from a check's `-- reason:` template and the facts its SQL returned.

The same text on every engine (DuckDB, Spark, Trino): check SQL returns structured columns (class_name, home,
bytes, first_seen …) and no `format()` call. A template is Python's format syntax over the result's column
names, `{class_name} data (home {home}) went to {counterpart_jurisdiction}`, with an optional format spec
(`{bytes:,}`, `{first_seen:%Y-%m-%d}`). Values are written the way DuckDB prints them, so a reason reads the
same as when it was made by `format()` in SQL: timestamps as `2025-03-01 10:00:00+00`, booleans as `true`,
lists as `[a, b]`. A NULL fact reads `(none)`.

A value from a log is inserted as text and never read as a template, so a resource named `{home}` stays that.
"""

import string
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

NULL_TEXT = "(none)"
_FORMATTER = string.Formatter()


class TemplateError(ValueError):
    """A template that cannot be used: the message says why (the caller adds the file and line)."""


def template_fields(template: str) -> tuple[str, ...]:
    """The column names a template reads, in order of first use; raises TemplateError for a field that is not a
    plain column name (no attributes, indexes or positional fields: a template reads columns, nothing else)."""
    names: list[str] = []
    try:
        parsed = list(_FORMATTER.parse(template))
    except ValueError as exc:
        raise TemplateError(f"the template does not parse: {exc}") from None
    for _, name, spec, conversion in parsed:
        if name is None:
            continue
        if not name.isidentifier():
            raise TemplateError(f"{{{name}}}: a field is a column name (letters, digits, _), found {name!r}")
        if conversion is not None:
            raise TemplateError(f"{{{name}!{conversion}}}: conversions are not supported")
        if "{" in (spec or ""):
            raise TemplateError(f"{{{name}:{spec}}}: nested fields are not supported")
        if name not in names:
            names.append(name)
    if not names:
        raise TemplateError("the template names no column")
    return tuple(names)


def _duckdb_text(value: Any) -> str:
    """A value as DuckDB's format('{}', value) writes it."""
    if value is None:
        return NULL_TEXT
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
            suffix = "+00"
        else:
            suffix = ""
        text = value.strftime("%Y-%m-%d %H:%M:%S")
        if value.microsecond:
            text += f".{value.microsecond:06d}".rstrip("0")
        return text + suffix
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal | float):
        return repr(float(value)) if isinstance(value, float) else str(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_duckdb_text(v) for v in value) + "]"
    return str(value)


def _format_value(value: Any, spec: str) -> str:
    if not spec:
        return _duckdb_text(value)
    if value is None:
        return NULL_TEXT
    if isinstance(value, datetime) and value.tzinfo is not None:
        value = value.astimezone(UTC)
    try:
        return format(value, spec)
    except (ValueError, TypeError):
        return _duckdb_text(value)


def render_reason(template: str, facts: dict[str, Any]) -> str:
    """The reason for one finding; a field the result lacks is a KeyError naming it."""
    parts: list[str] = []
    for literal, name, spec, _ in _FORMATTER.parse(template):
        parts.append(literal)
        if name is None:
            continue
        if name not in facts:
            raise KeyError(name)
        parts.append(_format_value(facts[name], spec or ""))
    return "".join(parts)
