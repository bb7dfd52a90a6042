"""Read-only SQL: a DuckDB connection that cannot write, and a statement check in front of it.

The connection is what holds. After `lock_down`, DuckDB opens no file at all, so COPY … TO, EXPORT
DATABASE, ATTACH, INSTALL, LOAD, persistent secrets and the file readers fail however a statement is
dressed up (EXPLAIN ANALYZE, a COPY inside WITH, query(), json_execute_serialized_sql); its settings are
locked, so nothing can switch that back or point profiling or logging at a file; and `freeze_tables`
leaves no base table for an INSERT, UPDATE or DELETE hidden in a WITH clause to change. The lake's
Parquet files reach DuckDB as Arrow datasets, read by pyarrow, for that reason.

DuckDB's allowed_paths and allowed_directories are not used: they allow writes too, and
COPY … TO 'an allowed file' (USE_TMP_FILE false) overwrites it.

`assert_read_only` is the second line: only SELECT, and EXPLAIN of a SELECT, with one clear message.
"""

import json
from typing import Any

import duckdb

from sovaudit.errors import ReadOnlyViolation

# Set when the connection is made. No extension is installed or loaded behind a query's back; and a table
# frozen into Arrow keeps its DuckDB types (JSON stays JSON, as pyarrow reads it from the lake's files).
CONNECT_CONFIG = {"autoinstall_known_extensions": False, "autoload_known_extensions": False,
                  "allow_community_extensions": False, "arrow_lossless_conversion": True}

_ANALYZE = {"ANALYZE", "ANALYSE"}
# json_serialize_sql's query nodes that only read; anything else (an INSERT, UPDATE, DELETE or COPY inside
# a WITH clause, or a node type DuckDB adds later) is refused.
_READ_NODES = {"SELECT_NODE", "SET_OPERATION_NODE", "RECURSIVE_CTE_NODE", "CTE_NODE"}


def lock_down(con: duckdb.DuckDBPyConnection) -> None:
    """From here on the connection opens no file and its settings cannot change. One way: DuckDB
    cannot turn external access back on."""
    con.execute("SET enable_external_access = false")
    con.execute("SET lock_configuration = true")


def freeze_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Replace each base table by a view of an Arrow copy of its rows: a view cannot be written to."""
    for database, schema, name in con.execute(
            "SELECT database_name, schema_name, table_name FROM duckdb_tables()").fetchall():
        table = ".".join(_quoted(part) for part in (database, schema, name))
        rows = con.sql(f"FROM {table}").to_arrow_table()  # noqa: S608 (names from DuckDB's catalog)
        private = f"_rows_{database}_{schema}_{name}"
        con.execute(f"DROP TABLE {table}")
        con.register(private, rows)
        con.execute(f"CREATE VIEW {table} AS FROM {_quoted(private)}")  # noqa: S608


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def assert_read_only(con: duckdb.DuckDBPyConnection, query: str) -> None:
    """Refuse, with one line, anything but SELECT and EXPLAIN of a SELECT."""
    for statement in _statements(con, query):
        if statement.type == duckdb.StatementType.EXPLAIN:
            _assert_select(con, _explained(statement.query), "EXPLAIN of a {kind} statement")
        else:
            _assert_select(con, statement.query, "a {kind} statement")


def _statements(con: duckdb.DuckDBPyConnection, query: str) -> list[Any]:
    try:
        return con.extract_statements(query)
    except duckdb.Error as exc:
        raise ReadOnlyViolation(f"SQL error: {str(exc).splitlines()[0]}") from None


def _refuse(what: str) -> ReadOnlyViolation:
    return ReadOnlyViolation(f"the lake is read-only: {what} is not allowed here (only SELECT, and EXPLAIN "
                             "of a SELECT)")


def _assert_select(con: duckdb.DuckDBPyConnection, query: str, what: str) -> None:
    statements = _statements(con, query)
    if len(statements) != 1 or statements[0].type != duckdb.StatementType.SELECT:
        kind = statements[0].type.name if statements else "empty"
        raise _refuse(what.format(kind=kind))
    tree = json.loads(con.execute("SELECT json_serialize_sql(?::VARCHAR)", [query]).fetchall()[0][0])
    if tree.get("error"):
        raise _refuse(f"a query DuckDB cannot show to be a plain SELECT ({tree.get('error_message')})")
    writes = sorted(_node_types(tree) - _READ_NODES)
    if writes:
        kind = writes[0].removesuffix("_NODE").removesuffix("_QUERY")
        raise _refuse(f"a {kind} inside a query")


def _node_types(tree: Any) -> set[str]:
    if isinstance(tree, dict):
        found = {tree["type"]} if str(tree.get("type", "")).endswith("_NODE") else set()
        return found.union(*(_node_types(value) for value in tree.values()))
    if isinstance(tree, list):
        return set().union(*(_node_types(value) for value in tree))
    return set()


def _explained(query: str) -> str:
    """The statement an EXPLAIN shows. EXPLAIN ANALYZE runs it, so it is refused whatever it runs."""
    tokens = duckdb.tokenize(query)
    ends = [position for position, _ in tokens[1:]] + [len(query)]
    words = [(position, query[position:end].strip().upper())
             for (position, kind), end in zip(tokens, ends, strict=True) if kind != duckdb.token_type.comment]
    depth = 0
    for position, word in words[1:]:  # words[0] is EXPLAIN
        if word in _ANALYZE:
            raise ReadOnlyViolation("the lake is read-only: EXPLAIN ANALYZE runs its statement, so it is not "
                                    "allowed here (EXPLAIN without ANALYZE shows the plan)")
        if word == "(" and (depth or position == words[1][0]):
            depth += 1
        elif word == ")" and depth:
            depth -= 1
        elif not depth:
            return query[position:]
    return query[words[1][0]:] if len(words) > 1 else ""  # EXPLAIN (SELECT …): the parentheses were the query
