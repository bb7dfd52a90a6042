"""Compile the portable check dialect (docs/portable-sql.md) for another engine, on sqlglot.

DuckDB runs check and session SQL as written. For Spark (and, written out, Trino and Athena) each statement is
parsed in DuckDB's dialect, rewritten, and generated in the target's:

- macros (`CREATE MACRO checks.f(a) AS …` in the session scripts) are expanded where they are called;
- `getvariable('window_since')` and the other session variables become typed literals;
- `checks.x` and `main.x` become one-part names (`checks_x`, `x`): Spark's temporary views have one part;
- `list(x ORDER BY k)` keeps its order (Spark's collect_list does not) and its NULLs;
- `regexp_replace` backreferences `\\1` become `$1`, and DuckDB's replace-the-first-match is kept only where the
  pattern is anchored (elsewhere it is a CompileError: the engines disagree);
- `CREATE VIEW` becomes a temporary view.
"""

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import sqlglot
from sqlglot import exp
from sqlglot.errors import ErrorLevel

DIALECTS = ("duckdb", "spark", "trino", "athena")
_SCHEMAS = ("checks", "main")
# to_days(n) -> make_dt_interval(n, 0, 0, 0): the position of n among days, hours, minutes, seconds.
_INTERVAL_PARTS = {"to_days": 0, "to_hours": 1, "to_minutes": 2, "to_seconds": 3}
_INTERVAL_UNITS = ("DAY", "HOUR", "MINUTE", "SECOND")


class CompileError(ValueError):
    """SQL that the portable dialect cannot carry to the target engine; the message says what and why."""


@dataclass
class Macro:
    name: str
    params: list[str]
    body: exp.Expression


def flat_name(schema: str | None, name: str) -> str:
    return f"checks_{name}" if schema == "checks" else name


def _literal(value: Any) -> exp.Expression:
    if isinstance(value, datetime):
        text = value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f+00:00")
        return exp.cast(exp.Literal.string(text), exp.DataType.build("TIMESTAMPTZ"))
    if isinstance(value, bool):
        return exp.Boolean(this=value)
    if isinstance(value, int | float):
        return exp.Literal.number(value)
    if value is None:
        return exp.Null()
    if isinstance(value, list | tuple):
        return exp.Array(expressions=[_literal(v) for v in value])
    return exp.Literal.string(str(value))


@dataclass
class Compiler:
    """Compiles statements for one engine; macros accumulate as session scripts are compiled."""
    dialect: str
    variables: dict[str, Any] = field(default_factory=dict)
    macros: dict[str, Macro] = field(default_factory=dict)
    # The checks views created so far (flat names), for resolving bare names as DuckDB's checks schema does.
    views: set[str] = field(default_factory=set)
    # Those created as tables, in order: views elsewhere, which an engine may cache to keep a table's cost.
    tables: list[str] = field(default_factory=list)
    _ctes: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        if self.dialect not in DIALECTS:
            raise CompileError(f"unknown dialect {self.dialect!r}, expected one of {', '.join(DIALECTS)}")

    # -- scripts -----------------------------------------------------------------------------------------------
    def script(self, sql: str, params: list[Any] | dict[str, Any] | None = None) -> list[str]:
        """Each statement of a script compiled (macro definitions are kept, not emitted)."""
        out = []
        for tree in self._parse(sql, params):
            compiled = self.statement(tree)
            if compiled is not None:
                out.append(compiled)
        return out

    def query(self, sql: str, params: list[Any] | dict[str, Any] | None = None) -> str:
        """One SELECT compiled."""
        trees = self._parse(sql, params)
        if len(trees) != 1:
            raise CompileError(f"expected one statement, found {len(trees)}")
        return self._generate(self.rewrite(trees[0]))

    def statement(self, tree: exp.Expression) -> str | None:
        if isinstance(tree, exp.Create) and tree.args.get("kind") == "MACRO":
            self._define(tree)
            return None
        if isinstance(tree, exp.Create) and tree.args.get("kind") in ("VIEW", "TABLE"):
            target = tree.this
            name = flat_name(target.db or None, target.name)
            body = self.rewrite(tree.expression)
            self.views.add(name)
            if tree.args.get("kind") == "TABLE":
                self.tables.append(name)
            kind = "TEMPORARY VIEW" if self.dialect == "spark" else "VIEW"
            return f"CREATE OR REPLACE {kind} {name} AS {self._generate(body)}"
        return self._generate(self.rewrite(tree))

    def _parse(self, sql: str, params: list[Any] | dict[str, Any] | None) -> list[exp.Expression]:
        try:
            trees = [t for t in sqlglot.parse(sql, read="duckdb") if t is not None]
        except sqlglot.errors.ParseError as exc:
            raise CompileError(f"does not parse: {str(exc).splitlines()[0]}") from None
        if params:
            values = iter(params) if isinstance(params, list | tuple) else None
            for tree in trees:
                for placeholder in list(tree.find_all(exp.Placeholder)):
                    name = placeholder.name
                    if values is None and name not in params:
                        raise CompileError(f"${name}: no value given for it")
                    placeholder.replace(_literal(params[name] if values is None else next(values)))
        return trees

    def _define(self, tree: exp.Create) -> None:
        udf = tree.this
        target = udf.this
        params = [p.name for p in udf.expressions]
        self.macros[target.name.lower()] = Macro(target.name.lower(), params, tree.expression)

    # -- rewrites ----------------------------------------------------------------------------------------------
    def rewrite(self, tree: exp.Expression) -> exp.Expression:
        tree = tree.copy()
        tree = self._expand_macros(tree)
        self._ctes = {cte.alias_or_name for cte in tree.find_all(exp.CTE)}
        tree = tree.transform(self._variables)
        tree = tree.transform(self._names)
        if self.dialect != "duckdb":
            if self.dialect == "spark":  # Trino's and Athena's array_agg keep ORDER BY and NULLs themselves
                tree = tree.transform(self._ordered_lists)
            tree = tree.transform(self._regexp_replace)
            tree = tree.transform(self._functions)
        return tree

    def _macro_call(self, node: exp.Expression) -> tuple[Macro, list[exp.Expression]] | None:
        if isinstance(node, exp.Dot) and isinstance(node.expression, exp.Anonymous):
            schema = node.this.name if isinstance(node.this, exp.Identifier | exp.Column) else None
            call = node.expression
            if schema in _SCHEMAS and call.name.lower() in self.macros:
                return self.macros[call.name.lower()], list(call.expressions)
        if isinstance(node, exp.Anonymous) and node.name.lower() in self.macros:
            if not isinstance(node.parent, exp.Dot):
                return self.macros[node.name.lower()], list(node.expressions)
        return None

    def _expand_macros(self, tree: exp.Expression) -> exp.Expression:
        for _ in range(50):  # macros calling macros; a cycle is a CompileError
            found = False

            def expand(node: exp.Expression) -> exp.Expression:
                nonlocal found
                call = self._macro_call(node)
                if call is None:
                    return node
                macro, args = call
                if len(args) != len(macro.params):
                    raise CompileError(f"macro {macro.name} takes {len(macro.params)} argument(s), "
                                       f"found {len(args)}")
                found = True
                bound = dict(zip(macro.params, args, strict=True))

                def bind(inner: exp.Expression) -> exp.Expression:
                    if isinstance(inner, exp.Column) and not inner.table and inner.name in bound:
                        return exp.Paren(this=bound[inner.name].copy())
                    return inner

                body = macro.body.copy().transform(bind)
                if isinstance(body, exp.Select | exp.Subquery) and not isinstance(body, exp.Subquery):
                    body = exp.Subquery(this=body)
                return exp.Paren(this=body) if not isinstance(body, exp.Subquery | exp.Paren) else body

            tree = tree.transform(expand)
            if not found:
                return tree
        raise CompileError("macros expand without end (a macro calls itself)")

    def _variables(self, node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Anonymous) and node.name.lower() == "getvariable":
            [arg] = node.expressions
            name = arg.name
            if name not in self.variables:
                raise CompileError(f"getvariable({name!r}): not a session variable")
            return _literal(self.variables[name])
        return node

    def _names(self, node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Table) and node.args.get("db") is not None and node.db in _SCHEMAS:
            flat = exp.Table(this=exp.to_identifier(flat_name(node.db, node.name)), alias=node.args.get("alias"))
            return flat
        # Views in DuckDB's checks schema resolve a bare name there first (checks.cloudtrail, the window's, before
        # main.cloudtrail); a CTE of the statement comes before both.
        if (isinstance(node, exp.Table) and node.args.get("db") is None and isinstance(node.this, exp.Identifier)
                and f"checks_{node.name}" in self.views and node.name not in self._ctes):
            return exp.Table(this=exp.to_identifier(f"checks_{node.name}"), alias=node.args.get("alias"))
        if isinstance(node, exp.Column) and node.args.get("db") is not None and node.db in _SCHEMAS:
            return exp.Column(this=node.this, table=exp.to_identifier(flat_name(node.db, node.table)))
        return node

    def _ordered_lists(self, node: exp.Expression) -> exp.Expression:
        """list(x ORDER BY k…) -> the values of the sorted list of structs (k…, x); list(x) keeps its NULLs.
        A FILTER (WHERE …) stays on the aggregate, inside the sort."""
        where = None
        if isinstance(node, exp.Filter) and isinstance(node.this, exp.ArrayAgg):
            where = node.expression
            node = node.this
        elif not isinstance(node, exp.ArrayAgg) or isinstance(node.parent, exp.Filter):
            return node
        inner = node.this
        keys: list[exp.Expression] = []
        if isinstance(inner, exp.Order):
            for ordered in inner.expressions:
                if ordered.args.get("desc"):
                    raise CompileError("list(… ORDER BY … DESC) is not portable yet: order ascending")
                keys.append(ordered.this)
            inner = inner.this
        distinct = isinstance(inner, exp.Distinct)
        if distinct:
            [inner] = inner.expressions
        fields = [exp.PropertyEQ(this=exp.to_identifier(f"k{i}"), expression=k.copy()) for i, k in enumerate(keys)]
        fields.append(exp.PropertyEQ(this=exp.to_identifier("v"), expression=inner.copy()))
        collected: exp.Expression = exp.Anonymous(this="collect_list", expressions=[exp.Struct(expressions=fields)])
        if where is not None:
            collected = exp.Filter(this=collected, expression=where.copy())
        if keys:
            collected = exp.Anonymous(this="array_sort", expressions=[collected])
        element = exp.to_identifier("s")
        lam = exp.Lambda(this=exp.Dot(this=exp.column("s"), expression=exp.to_identifier("v")),
                         expressions=[element])
        values: exp.Expression = exp.Anonymous(this="transform", expressions=[collected, lam])
        # DISTINCT: each value once, where it first comes in the order (DuckDB sorts by the value itself there).
        return exp.Anonymous(this="array_distinct", expressions=[values]) if distinct else values

    def _regexp_replace(self, node: exp.Expression) -> exp.Expression:
        if not isinstance(node, exp.RegexpReplace):
            return node
        pattern = node.expression
        if node.args.get("single_replace") and not (isinstance(pattern, exp.Literal) and pattern.this.startswith("^")):
            raise CompileError("regexp_replace replaces only the first match in DuckDB and every match elsewhere: "
                               "anchor the pattern with ^, or pass 'g'")
        replacement = node.args.get("replacement")
        if isinstance(replacement, exp.Literal):
            text = replacement.this.replace("$", "\\$")
            for digit in "0123456789":
                text = text.replace("\\" + digit, "$" + digit)
            node = node.copy()
            node.set("replacement", exp.Literal.string(text))
            node.set("single_replace", None)
        return node

    def _functions(self, node: exp.Expression) -> exp.Expression:
        """DuckDB functions with no counterpart of the same name: to_days(n) and to_hours(n) (intervals),
        regexp_full_match (a whole-string match), and regexp_extract with a list of group names (a struct)."""
        if isinstance(node, exp.RegexpExtract) and isinstance(node.args.get("group"), exp.Array):
            names = node.args["group"].expressions
            if not all(isinstance(n, exp.Literal) and n.is_string for n in names):
                raise CompileError("regexp_extract(…, [names]): the group names must be literals")
            fields = [exp.PropertyEQ(this=exp.to_identifier(n.this), expression=exp.RegexpExtract(
                this=node.this.copy(), expression=node.expression.copy(), group=exp.Literal.number(i)))
                for i, n in enumerate(names, start=1)]
            return exp.Struct(expressions=fields)
        if isinstance(node, exp.ToDays):
            return exp.Anonymous(this="make_dt_interval", expressions=[
                node.this.copy(), *(exp.Literal.number(0) for _ in range(3))])
        if isinstance(node, exp.Interval) and not (isinstance(node.this, exp.Literal)):
            unit = node.unit.name.upper() if node.unit is not None else ""
            if unit.rstrip("S") not in _INTERVAL_UNITS:
                raise CompileError(f"INTERVAL (…) {unit}: a computed interval is portable in days, hours, minutes or "
                                   "seconds")
            parts: list[exp.Expression] = [exp.Literal.number(0) for _ in range(4)]
            parts[_INTERVAL_UNITS.index(unit.rstrip("S"))] = node.this.copy()
            return exp.Anonymous(this="make_dt_interval", expressions=parts)
        if isinstance(node, exp.RegexpFullMatch):
            anchored = exp.DPipe(this=exp.DPipe(this=exp.Literal.string("^(?:"), expression=node.expression.copy()),
                                 expression=exp.Literal.string(")$"))
            return exp.RegexpLike(this=node.this.copy(), expression=anchored)
        if not isinstance(node, exp.Anonymous):
            return node
        name = node.name.lower()
        args = [a.copy() for a in node.expressions]
        if name in ("list_bool_or", "list_bool_and") and len(args) == 1:
            x = exp.to_identifier("x")
            lam = exp.Lambda(this=exp.column("x"), expressions=[x])
            return exp.Anonymous(this="exists" if name == "list_bool_or" else "forall", expressions=[args[0], lam])
        if name in ("list_slice", "array_slice") and len(args) == 3:
            begin, end = args[1], args[2]
            if not all(isinstance(a, exp.Literal) and not a.is_string and int(a.this) > 0 for a in (begin, end)):
                raise CompileError(f"{name}(xs, a, b): a and b must be positive integer literals")
            length = exp.Literal.number(int(end.this) - int(begin.this) + 1)
            return exp.Anonymous(this="slice", expressions=[args[0], begin, length])
        if name in _INTERVAL_PARTS and len(args) == 1:
            parts: list[exp.Expression] = [exp.Literal.number(0) for _ in range(4)]
            parts[_INTERVAL_PARTS[name]] = args[0]
            return exp.Anonymous(this="make_dt_interval", expressions=parts)
        return node

    def _generate(self, tree: exp.Expression) -> str:
        write = "trino" if self.dialect == "athena" else self.dialect
        try:
            return tree.sql(dialect=write, unsupported_level=ErrorLevel.RAISE)
        except sqlglot.errors.UnsupportedError as exc:
            raise CompileError(f"{self.dialect} cannot express it: {str(exc).splitlines()[0]}") from None
