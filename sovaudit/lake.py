"""The lake on disk, and read-only SQL over it.

Layout under the lake root:
  raw/              evidence archive (content-addressed blobs)
  tables/<t>/date=YYYY-MM-DD/*.parquet
  quarantine/       one JSON-lines file per run that set records aside
  ledger.jsonl      hash-chained record of every pull and compaction; the only list of committed files
  tmp/              work space of a running pull
"""

import os
import shutil
import tempfile
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import Any

import duckdb

from sovaudit.archive import EvidenceArchive
from sovaudit.fsutil import contained_path
from sovaudit.ledger import Ledger, canonical
from sovaudit.live_files import live_files
from sovaudit.readonly import CONNECT_CONFIG, assert_read_only, freeze_tables, lock_down
from sovaudit.schema import COMMON_COLUMN_NAMES, lake_tables


class Lake:
    def __init__(self, root: str | Path):
        self.root = Path(root)
        self.archive = EvidenceArchive(self.root / "raw")
        self.ledger = Ledger(self.root / "ledger.jsonl")
        self.tables_dir = self.root / "tables"
        self.quarantine_dir = self.root / "quarantine"
        self.tmp_dir = self.root / "tmp"
        self._con: duckdb.DuckDBPyConnection | None = None

    def __repr__(self) -> str:
        return f"Lake({str(self.root)!r})"

    def ensure_layout(self) -> None:
        for directory in (self.root, self.archive.root, self.tables_dir, self.quarantine_dir, self.tmp_dir):
            directory.mkdir(parents=True, exist_ok=True)

    # -- what is committed -------------------------------------------------------------------------

    def committed_files(self, entries: Iterable[dict[str, Any]] | None = None) -> dict[str, list[Path]]:
        """Per table, the files that are part of the lake (sovaudit.live_files), in commit order."""
        files: dict[str, list[Path]] = {name: [] for name in lake_tables()}
        for _, written in live_files(entries if entries is not None else self.ledger.entries()):
            files.setdefault(written["table"], []).append(contained_path(self.root, written["path"]))
        return files

    def quarantine_files(self, entries: Iterable[dict[str, Any]] | None = None) -> list[Path]:
        out = []
        for entry in entries if entries is not None else self.ledger.entries():
            if entry.get("quarantine_file"):
                out.append(contained_path(self.root, entry["quarantine_file"]["path"]))
        return out

    def recover(self) -> list[Path]:
        """Remove what a killed pull or compaction left behind: files that are not part of the lake (none committed
        them, or a compaction replaced them). Hold the lock."""
        lines = self.ledger.lines()
        entries = self.ledger.entries(lines)  # refuses a damaged ledger before anything is removed
        self.ledger.repair_torn_tail(lines)
        committed = {p.resolve() for paths in self.committed_files(entries).values() for p in paths}
        committed |= {p.resolve() for p in self.quarantine_files(entries)}
        removed = []
        for directory in (self.tables_dir, self.quarantine_dir):
            if not directory.exists():
                continue
            for path in directory.rglob("*"):
                if path.is_file() and path.resolve() not in committed:
                    path.unlink()
                    removed.append(path)
        if self.tmp_dir.exists():
            shutil.rmtree(self.tmp_dir)
        for partial in self.archive.root.glob("*/.tmp-*") if self.archive.root.exists() else []:
            partial.unlink()
        return removed

    # -- reading -----------------------------------------------------------------------------------

    def connect(self) -> duckdb.DuckDBPyConnection:
        """An in-memory DuckDB connection with one view per lake table, plus `events`, `quarantine`, `ledger`.
        DuckDB reads the files itself and the connection can write: for sovaudit's own SQL (the checks run).
        User SQL goes through `sql()`."""
        con = duckdb.connect(":memory:")
        self._add_views(con, through_arrow=False)
        return con

    def _read_only_connect(self) -> duckdb.DuckDBPyConnection:
        """The same views over data DuckDB does not open itself, on a connection locked down before any
        other SQL runs on it (see sovaudit.readonly)."""
        con = duckdb.connect(":memory:", config=CONNECT_CONFIG)
        self._add_views(con, through_arrow=True)
        lock_down(con)
        return con

    def _add_views(self, con: duckdb.DuckDBPyConnection, through_arrow: bool) -> None:
        con.execute("SET TimeZone = 'UTC'")
        con.execute("SET enable_progress_bar = false")  # it would write into piped query output
        con.execute("SET parquet_metadata_cache = true")  # views and queries re-read the same footers
        entries = self.ledger.entries()
        files = self.committed_files(entries)
        for name, schema in lake_tables().items():
            paths = [str(p) for p in files.get(name, [])]
            if not paths:
                con.execute(schema.ddl)
            elif through_arrow:
                con.register(name, _parquet_dataset(paths, name))
            else:
                relation = con.read_parquet(paths, union_by_name=True)
                missing = [(c, kind) for c, kind in _declared_columns(name) if c not in relation.columns]
                if missing:  # files written before a column was added: it reads as NULL there
                    relation = relation.project(", ".join(
                        ['*', *(f'CAST(NULL AS {kind}) AS "{c}"' for c, kind in missing)]))
                relation.create_view(name)
        con.execute(events_view())
        quarantine = [str(p) for p in self.quarantine_files(entries)]
        if quarantine:
            _as_view(con, "quarantine", con.read_json(quarantine, format="newline_delimited"), through_arrow)
        else:
            con.execute(
                "CREATE TABLE quarantine (run_id VARCHAR, source VARCHAR, origin VARCHAR, blob VARCHAR,"
                " record_index INTEGER, byte_offset BIGINT, reason VARCHAR)"
            )
        if entries:
            _create_ledger_table(con, entries)

    def connection(self) -> duckdb.DuckDBPyConnection:
        """The connection `sql()` uses, for adding views (e.g. the checks schema) to it. It opens no file;
        tables added to it become read-only views at the next `sql()`."""
        return self._connection()

    def _connection(self) -> duckdb.DuckDBPyConnection:
        if self._con is None:
            self._con = self._read_only_connect()
        return self._con

    def refresh(self) -> None:
        if self._con is not None:
            self._con.close()
        self._con = None

    def sql(self, query: str, params: Any = None) -> duckdb.DuckDBPyRelation | None:
        """Run read-only SQL; returns the DuckDB relation of the last statement. Writes are refused, and the
        connection could not carry them out anyway."""
        con = self._read_only()
        assert_read_only(con, query)
        return con.sql(query, params=params)

    def split_statements(self, query: str) -> list[str]:
        """The statements of a script, each checked read-only, so that each result can be shown."""
        con = self._read_only()
        assert_read_only(con, query)
        return [statement.query for statement in con.extract_statements(query)]

    def _read_only(self) -> duckdb.DuckDBPyConnection:
        con = self._connection()
        freeze_tables(con)
        return con

    def files_without_columns(self) -> dict[str, tuple[int, int, list[str]]]:
        """Per table whose files lack some of the columns its schema now declares (files written by an older
        sovaudit; the views read those columns as NULL): (such files, all files, the columns missing, in schema
        order). Reads only the files' footers, of the files that are here (with --lake-uri they may be elsewhere)."""
        from concurrent.futures import ThreadPoolExecutor

        import pyarrow.parquet as pq

        def names(path: Path) -> set[str]:
            return set(pq.read_schema(path).names)

        out = {}
        with ThreadPoolExecutor(max_workers=8) as pool:  # footers: small reads, mostly waiting on the disk
            for table, listed in self.committed_files().items():
                paths = [p for p in listed if p.is_file()]
                if table not in lake_tables() or not paths:
                    continue
                declared = [name for name, _ in _declared_columns(table)]
                missing: set[str] = set()
                older = 0
                for found in pool.map(names, paths):
                    lacking = {name for name in declared if name not in found}
                    older += bool(lacking)
                    missing |= lacking
                if older:
                    out[table] = (older, len(paths), [name for name in declared if name in missing])
        return out

    def table_columns(self) -> dict[str, list[tuple[str, str]]]:
        con = self._connection()
        out = {}
        for name in [*lake_tables(), "events", "quarantine"]:
            out[name] = [(r[0], r[1]) for r in con.execute(f"DESCRIBE {name}").fetchall()]
        return out


def _create_ledger_table(con: duckdb.DuckDBPyConnection, entries: list[dict[str, Any]]) -> None:
    """The `ledger` table, of the entries the Ledger read: never a torn line, nor one appended since the table
    views were made. They pass through a private file because DuckDB infers JSON types only when reading one."""
    with tempfile.TemporaryDirectory(prefix="sovaudit-ledger-") as work:
        path = Path(work) / "ledger.jsonl"
        path.write_bytes(b"".join(canonical(entry) + b"\n" for entry in entries))
        con.read_json(str(path), format="newline_delimited").create("ledger")



@cache
def _declared(name: str) -> tuple[tuple[tuple[str, str], ...], Any]:
    """A table's columns as its schema file declares them: (name, DuckDB type) pairs and the Arrow schema."""
    with duckdb.connect(":memory:") as scratch:
        scratch.execute(lake_tables()[name].ddl)
        columns = tuple((r[0], r[1]) for r in scratch.execute(f"DESCRIBE {name}").fetchall())
        return columns, scratch.table(name).arrow().schema


def events_view() -> str:
    """The `events` view: every table's events in the common columns."""
    common = ", ".join(COMMON_COLUMN_NAMES)
    union = " UNION ALL ".join(f"SELECT {common} FROM {name}"  # noqa: S608 (our names)
                               for name, schema in lake_tables().items() if schema.in_events)
    return f"CREATE VIEW events AS {union}"


def _declared_columns(name: str) -> tuple[tuple[str, str], ...]:
    return _declared(name)[0]


def _parquet_dataset(paths: list[str], table: str) -> Any:
    """The files as one pyarrow dataset, columns unified by name as DuckDB's union_by_name does, and the
    columns the table declares but older files lack read as NULL."""
    import pyarrow as pa
    import pyarrow.dataset as ds  # here: the checks run, which never needs it, does not pay for the import
    import pyarrow.fs

    # Extension types on: a file DuckDB rewrote (duplicates dropped) has JSON columns as JSON, not strings.
    parquet = ds.ParquetFileFormat(default_fragment_scan_options=ds.ParquetFragmentScanOptions(
        arrow_extensions_enabled=True))
    factory = ds.FileSystemDatasetFactory(pyarrow.fs.LocalFileSystem(), paths, parquet)
    schema = factory.inspect(promote_options="permissive", fragments=None)  # every file's columns
    declared = _declared(table)[1]
    missing = [declared.field(c) for c in declared.names if c not in schema.names]
    return factory.finish(pa.schema([*schema, *missing]) if missing else schema)


def _as_view(con: duckdb.DuckDBPyConnection, name: str, relation: duckdb.DuckDBPyRelation,
             through_arrow: bool) -> None:
    if through_arrow:
        con.register(name, relation.to_arrow_table())
    else:
        relation.create_view(name)


def open_lake(path: str | Path | None = None) -> Lake:
    """Open the lake at `path` (default: $SOVAUDIT_LAKE, else ./sovaudit-lake) for reading."""
    return Lake(path or os.environ.get("SOVAUDIT_LAKE") or "./sovaudit-lake")
