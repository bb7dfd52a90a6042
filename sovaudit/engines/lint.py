"""The portable-dialect lint: every construct docs/portable-sql.md excludes, found in a check's or a session
script's SQL, as `file:line: <construct>: <why>; write <alternative>`.

The rules are data (portable_rules.toml, one per row of the document's table); this module only matches them.
Function calls and operators are found in sqlglot's tokens, which carry their line and keep the name as
written (sqlglot parses `len(x)` and `length(x)` to the same node); the constructs that only the parse tree
shows (a cast to JSON, `UNION BY NAME`, `* EXCLUDE`) are found there, with the line of the node or, when sqlglot
gives it none, of the construct's nearest occurrence in the text.
"""

import re
import tomllib
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import Any

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError, TokenError
from sqlglot.tokens import Token, TokenType

_NAME_TOKENS = {TokenType.VAR, TokenType.IDENTIFIER}


@dataclass(frozen=True)
class Rule:
    excluded: str  # the document's cell: what is excluded
    why: str
    write: str
    functions: tuple[str, ...] = ()
    operators: tuple[str, ...] = ()
    nodes: tuple[dict[str, str], ...] = ()

    def calls(self, name: str) -> bool:
        name = name.lower()
        return any(name.startswith(f[:-1]) if f.endswith("*") else name == f for f in self.functions)


@dataclass(frozen=True)
class Violation:
    path: str
    line: int
    construct: str
    rule: Rule

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.construct}: {self.rule.why}; write {self.rule.write}"

    def as_dict(self) -> dict[str, Any]:
        return {"path": self.path, "line": self.line, "construct": self.construct, "why": self.rule.why,
                "write": self.rule.write}


@cache
def rules() -> tuple[Rule, ...]:
    data = tomllib.loads((files("sovaudit.engines") / "portable_rules.toml").read_text(encoding="utf-8"))
    return tuple(Rule(excluded=r["excluded"], why=r["why"], write=r["write"],
                      functions=tuple(f.lower() for f in r.get("functions", ())),
                      operators=tuple(_words(o) for o in r.get("operators", ())),
                      nodes=tuple(r.get("nodes", ()))) for r in data["rule"])


def _words(text: str) -> str:
    return " ".join(text.upper().split())


def _line_of(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


def _called_name(tokens: list[Token], i: int) -> tuple[str, int]:
    """The name token i is the last part of, `name` or `schema.name`, and the index of its first token: a rule
    names a schema's function with its schema (`checks.caller_place`), so `checks.format(a)` is not `format()`."""
    if i >= 2 and tokens[i - 1].token_type == TokenType.DOT and tokens[i - 2].token_type in _NAME_TOKENS:
        return f"{tokens[i - 2].text}.{tokens[i].text}", i - 2
    if i and tokens[i - 1].token_type == TokenType.DOT:
        return f".{tokens[i].text}", i
    return tokens[i].text, i


def _token_violations(path: str, tokens: list[Token]) -> list[Violation]:
    found = []
    for i, token in enumerate(tokens):
        after = tokens[i + 1] if i + 1 < len(tokens) else None
        name, start = _called_name(tokens, i)
        # `CREATE MACRO checks.f(a)` defines f: only its calls are judged
        is_call = (after is not None and after.token_type == TokenType.L_PAREN
                   and (token.token_type in _NAME_TOKENS or token.text.isidentifier())
                   and not (start and tokens[start - 1].token_type == TokenType.FUNCTION))
        for rule in rules():
            if is_call and rule.calls(name):
                found.append(Violation(path, token.line, f"{name.lower()}()", rule))
            elif token.token_type not in (TokenType.STRING, *_NAME_TOKENS) and _words(token.text) in rule.operators:
                found.append(Violation(path, token.line, _words(token.text), rule))
    return found


def _children(node: exp.Expression) -> list[exp.Expression]:
    """A node's direct children, an ORDER BY inside the call seen through: `string_agg(DISTINCT x, ', ' ORDER BY x)`
    parses as GroupConcat(Order(Distinct(x)))."""
    return [c.this if isinstance(c, exp.Order) and c.this is not None else c for c in node.iter_expressions()]


def _node_matches(node: exp.Expression, spec: dict[str, str]) -> bool:
    if type(node).__name__ != spec["class"]:
        return False
    if "arg" in spec and not node.args.get(spec["arg"]):
        return False
    if "child" in spec and not any(type(c).__name__ == spec["child"] for c in _children(node)):
        return False
    if "type" in spec:
        wanted = exp.DataType.Type[spec["type"]]
        to = node.args.get("to")
        return to is not None and any(t.this == wanted for t in to.find_all(exp.DataType))
    return True


def _masked(text: str, tokens: list[Token]) -> str:
    """The text with everything but its SQL tokens (comments, string contents) blanked, newlines kept."""
    keep = bytearray(len(text))
    for token in tokens:
        if token.token_type != TokenType.STRING:
            keep[token.start:token.end + 1] = b"\x01" * (token.end + 1 - token.start)
    return "".join(c if keep[i] or c == "\n" else " " for i, c in enumerate(text))


def _span(node: exp.Expression) -> tuple[int, int] | None:
    """Where a node's text lies, from the descendants sqlglot placed."""
    placed = [(n.meta["start"], n.meta["end"]) for n in node.walk() if "start" in n.meta]
    return (min(s for s, _ in placed), max(e for _, e in placed)) if placed else None


def _node_line(node: exp.Expression, spec: dict[str, str], masked: str, after: int) -> int:
    """The node's own line, else that of the construct's occurrence outside its children's text (`UNION BY NAME`
    lies between its two sides) nearest the node's text; with nothing placed, the first after `after`."""
    if node.meta.get("line"):
        return node.meta["line"]
    occurrences = [m.start() for m in re.finditer(spec["locate"], masked)]
    span = _span(node)
    if span and occurrences:
        children = [s for s in map(_span, node.iter_expressions()) if s]
        outside = [o for o in occurrences if not any(s <= o <= e for s, e in children)] or occurrences
        return _line_of(masked, min(outside, key=lambda o: max(span[0] - o, o - span[1], 0)))
    later = [o for o in occurrences if o >= after] or occurrences
    return _line_of(masked, later[0]) if later else 1


def _tree_violations(path: str, text: str, tokens: list[Token], trees: list[exp.Expression]) -> list[Violation]:
    masked = _masked(text, tokens)
    line_starts = [0] + [m.end() for m in re.finditer("\n", masked)]
    found: list[Violation] = []
    for tree in trees:
        for node in tree.walk():
            for rule in rules():
                for spec in rule.nodes:
                    if _node_matches(node, spec):
                        after = line_starts[found[-1].line - 1] if found else 0
                        found.append(Violation(path, _node_line(node, spec, masked, after), spec["construct"],
                                               rule))
    return found


def lint_sql(path: str | Path, text: str) -> list[Violation]:
    """Every excluded construct in `text` (a whole file: lines count from its first), in line order."""
    path = str(path)
    try:
        tokens = sqlglot.tokenize(text, read="duckdb")
        trees = [t for t in sqlglot.parse(text, read="duckdb") if t is not None]
    except (ParseError, TokenError) as exc:
        return [_unparsed(path, exc)]
    found = _token_violations(path, tokens) + _tree_violations(path, text, tokens, trees)
    unique = {(v.line, v.construct, v.rule.excluded): v for v in found}
    return sorted(unique.values(), key=lambda v: (v.line, v.construct))


_UNPARSED = Rule(excluded="SQL sqlglot cannot parse", why="it cannot be compiled for another engine",
                 write="the portable subset (docs/portable-sql.md)")


def _unparsed(path: str, exc: Exception) -> Violation:
    errors = getattr(exc, "errors", None) or [{}]
    line = errors[0].get("line") or 1
    message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return Violation(path, line, f"SQL sqlglot cannot parse ({message})", _UNPARSED)


def lint_file(path: Path) -> list[Violation]:
    return lint_sql(path, path.read_text(encoding="utf-8"))


def default_paths(extra_dirs: list[Path]) -> list[Path]:
    """What `sovaudit checks lint` reads without arguments: the built-in checks, the session scripts in the
    order they load, the report's queries (they run on the check engine too), and the check files in the
    config's [checks] paths."""
    from sovaudit.checks.catalogue import builtin_check_dir
    from sovaudit.checks.session import SESSION_SCRIPTS

    session_dir = builtin_check_dir().parent / "session"
    report_dir = builtin_check_dir().parent / "report"
    return (sorted(builtin_check_dir().glob("*.sql")) + [session_dir / s for s in SESSION_SCRIPTS]
            + sorted(report_dir.glob("*.sql")) + [p for d in extra_dirs for p in sorted(Path(d).glob("*.sql"))])


def expand(paths: list[Path]) -> list[Path]:
    """Files as given, and the `.sql` files of each directory given."""
    return [p for path in paths for p in (sorted(path.glob("*.sql")) if path.is_dir() else [path])]
