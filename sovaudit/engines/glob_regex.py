"""A GLOB pattern as a regular expression that matches exactly what DuckDB's `x GLOB pattern` matches.

Spark has no GLOB, so the policy tables carry each pattern compiled here and the checks write
`regexp_matches(x, p.regex)` (docs/portable-sql.md). DuckDB's GLOB, measured (tests/test_glob_regex.py holds
it to DuckDB with random patterns): `*` any run of characters, newlines and `/` included; `?` one character;
`[…]` one character of a set of characters and ranges (`a-z`; a `]` first in the set and a `-` last are
literal; a reversed range holds nothing), `[!…]` one character outside it; `\\` makes the next character
literal outside a set and is itself literal inside one; anchored at both ends; a pattern with an unclosed `[`
or a trailing `\\` matches nothing.

The regex keeps to what RE2 (DuckDB), java.util.regex (Spark) and Joni (Trino, Athena) all read the same way:
no flags, no lookarounds. `.` and `$` are not used because their meaning varies with the engine's line
handling (DuckDB's `.` skips a newline, Java's `$` also matches before a final newline), so a character is
`[\\s\\S]`, the end is `\\z`, and every punctuation character is escaped with a backslash.

A regex taken from a column is compiled for every row it meets (DuckDB 2.0: ~40 µs, 100x a GLOB), so the
checks first narrow with LIKE, which compiles nothing: `x LIKE p.like_pattern ESCAPE '!' AND (p.like_exact OR
regexp_matches(x, p.regex))`. The LIKE pattern is the GLOB with `*` as `%` and `?` and each set as `_`: a
superset, the same when the GLOB has no set (`like_exact`, and the regex is not consulted). `!` escapes in it
because a backslash means different things in different engines' string literals.
"""

from dataclasses import dataclass

ANY = r"[\s\S]"
NOTHING = r"[^\s\S]"


def _escape(char: str) -> str:
    return "\\" + char if char.isascii() and not char.isalnum() and char.isprintable() and char != " " else char


def _bracket(pattern: str, start: int) -> tuple[str, int] | None:
    """The set that starts after the `[` at `start - 1` as a regex class, and the index after its `]`; None
    when the set is not closed."""
    i = start
    negate = i < len(pattern) and pattern[i] == "!"
    if negate:
        i += 1
    first = i
    members: list[str] = []
    while i < len(pattern):
        char = pattern[i]
        if char == "]" and i > first:
            if not members:
                return (ANY if negate else NOTHING), i + 1
            return ("[^" if negate else "[") + "".join(members) + "]", i + 1
        if i + 2 < len(pattern) and pattern[i + 1] == "-" and pattern[i + 2] != "]":
            low, high = char, pattern[i + 2]
            if low <= high:
                members.append(_escape(low) + "-" + _escape(high))
            i += 3
        else:
            members.append(_escape(char))
            i += 1
    return None


@dataclass(frozen=True)
class CompiledGlob:
    regex: str
    like_pattern: str
    like_exact: bool


def _like_literal(char: str) -> str:
    return "!" + char if char in "%_!" else char


def compile_glob(pattern: str) -> CompiledGlob:
    regex = glob_to_regex(pattern)
    if regex == NOTHING:
        return CompiledGlob(regex, "%", False)  # the regex says no
    like, exact, i = [], True, 0
    while i < len(pattern):
        char = pattern[i]
        if char == "*":
            like.append("%")
        elif char == "?":
            like.append("_")
        elif char == "[":
            like.append("_")
            exact = False
            i = _bracket(pattern, i + 1)[1]
            continue
        elif char == "\\":
            i += 1
            like.append(_like_literal(pattern[i]))
        else:
            like.append(_like_literal(char))
        i += 1
    return CompiledGlob(regex, "".join(like), exact)


def glob_to_regex(pattern: str) -> str:
    out = ["^"]
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if char == "*":
            while i < len(pattern) and pattern[i] == "*":
                i += 1
            out.append(ANY + "*")
            continue
        if char == "?":
            out.append(ANY)
        elif char == "[":
            found = _bracket(pattern, i + 1)
            if found is None:
                return NOTHING
            cls, i = found
            out.append(cls)
            continue
        elif char == "\\":
            if i + 1 == len(pattern):
                return NOTHING
            i += 1
            out.append(_escape(pattern[i]))
        else:
            out.append(_escape(char))
        i += 1
    out.append(r"\z")
    return "".join(out)
