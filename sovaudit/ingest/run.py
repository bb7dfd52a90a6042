"""One pull into the lake: normalize blobs into in-memory Arrow batches, flush them to Parquet part
files as they fill, then commit the parts and a ledger entry.

Crash safety: nothing under tables/ or quarantine/ counts until the ledger entry naming it is
appended, and the next pull removes anything a killed run left (Lake.recover).
"""

import hashlib
import itertools
import os
import shutil
import threading
import uuid
from collections import Counter, defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from sovaudit import __version__
from sovaudit.errors import SourceError
from sovaudit.failpoints import hit
from sovaudit.fsutil import fsync_dir
from sovaudit.geoip import CallerLocator, data_vintage
from sovaudit.ingest.batch_rows import lake_schema, normalized_rows, with_evidence_blob
from sovaudit.ingest.blobs import FailedInput, RawBlob
from sovaudit.ingest.partitions import rows_by_day
from sovaudit.ingest.prepared import BlobPreparer, TableBatch, TableSlice
from sovaudit.ingest.quarantine_rows import QuarantineRows
from sovaudit.ingest.records import SetAside
from sovaudit.ingest.repeats import RecordReader, Repeat, conflicts
from sovaudit.ip_ranges.files import IpRanges, load_ip_ranges
from sovaudit.lake import Lake
from sovaudit.ledger import Ledger
from sovaudit.resources import query_text, resource_dir
from sovaudit.schema import lake_tables
from sovaudit.timewindow import iso

FLUSH_ROWS = 50_000  # per worker: bounds memory (peak RSS ~740 MB at 50,000, ~1 GB at 100,000) while keeping part files large
EXTRACTED_ROWS = 50_000  # extracted rows (of all tables) normalized at once: a big blob's rows flush as they come
# The same bounds in bytes, for bigger rows: set so that 50,000 rows of ~1.7 KB extracted and ~2.1 KB normalized stay
# under both, where rows of 4.2 and 3.3 KB in two tables, 50,000 of each per worker, made 1.4 GB (benchmarks/README.md).
EXTRACTED_BYTES = 96 << 20
FLUSH_BYTES = 112 << 20
HASHES_AT_ONCE = 1_000_000  # event-id hashes grouped at once at commit: bounds the grouping's memory
REPEATS_AT_ONCE = 50_000  # rows whose event id came again, judged together: bounds memory on a re-pulled export
# How every normalize query reads a record's time and judges it against the pull's start ($pull_started).
TIME_MACROS = "normalize/time_macros.sql"
# A table's optional second step, over a flush's rows at once rather than per blob (see IngestRun._finish).
FINISH_SQL = "normalize/{table}_finish.sql"
# A table's normalize SQL over the native extractor's batch (sovaudit.ingest.extract), for preparers that extract.
BATCH_SQL = "normalize/{table}_batch.sql"


# What CallerLocator says of an address, in CallerPlace's order.
CALLER_PLACE_COLUMNS = ("src_country", "src_cloud", "src_cloud_region", "src_cloud_service")


def new_run_id() -> str:
    return f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:8]}"


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


class _Stage:
    """One worker thread's cursor and the Arrow batches (per table) it normalized since its last flush.

    Arrow batches rather than a DuckDB table: fetching a result as Arrow is ~1.6x faster here than
    INSERT into a staging table, and the flush reads them back without a copy.
    """

    def __init__(self, db: duckdb.DuckDBPyConnection):
        self.cursor = db.cursor()
        self.cursor.execute("SET TimeZone = 'UTC'")
        self.batches: defaultdict[str, list[pa.Table]] = defaultdict(list)
        # Extracted batches not yet normalized, per table: several blobs' records go through one statement, whose
        # planning (~16 ms for the biggest) would otherwise cost as much as a 5,000-record blob's rows.
        self.pending: defaultdict[str, list[pa.RecordBatch]] = defaultdict(list)
        self.pending_rows: Counter[str] = Counter()
        self.pending_bytes = 0
        self.rows = 0
        self.bytes = 0

    def full(self) -> bool:
        return self.rows >= FLUSH_ROWS or self.bytes >= FLUSH_BYTES


class IngestRun:
    """One pull: `source_record` is what the ledger says about the source (Source.ledger_record), `preparer`
    how a blob becomes records of its tables."""

    def __init__(self, lake: Lake, source_record: dict[str, Any], preparer: BlobPreparer,
                 window: tuple[datetime | None, datetime | None] = (None, None), memory_limit: str = "768MB",
                 ip_ranges: IpRanges | None = None):
        self.lake = lake
        self.source_record = source_record
        self.preparer = preparer
        self.tables = self.preparer.tables
        self.window = window
        self.run_id = new_run_id()
        self.started_at = datetime.now(UTC)
        self.work = lake.tmp_dir / self.run_id
        self.parts_dir = self.work / "parts"
        self.parts_dir.mkdir(parents=True)
        self.db = duckdb.connect(":memory:")
        self.db.execute("SET TimeZone = 'UTC'")
        self.db.execute("SET memory_limit = ?", [memory_limit])
        self.db.execute("SET temp_directory = ?", [str(self.work / "spill")])
        for setup in (TIME_MACROS, *self.preparer.setup_queries):
            # Macros and tables the normalize SQL uses, seen by every cursor.
            name, params = (setup, None) if isinstance(setup, str) else setup
            self.db.execute(query_text(name), params)
        self.json_columns: dict[str, list[str]] = {}
        self.normalize_sql: dict[str, str] = {}
        self.finish_sql: dict[str, str] = {}
        self.batch_sql: dict[str, str] = {}
        self.lake_schemas: dict[str, pa.Schema] = {}
        for table in self.tables:
            self.db.execute(lake_tables()[table].ddl)
            self.json_columns[table] = [row[0] for row in self.db.execute(f"DESCRIBE {table}").fetchall()
                                        if row[1] == "JSON"]
            self.normalize_sql[table] = query_text(f"normalize/{table}.sql")
            if (resource_dir("queries") / BATCH_SQL.format(table=table)).is_file():
                self.batch_sql[table] = query_text(BATCH_SQL.format(table=table))
                self.lake_schemas[table] = lake_schema(self.db, table)
            if (resource_dir("queries") / FINISH_SQL.format(table=table)).is_file():
                self.finish_sql[table] = query_text(FINISH_SQL.format(table=table))
        self._lock = threading.Lock()
        self._local = threading.local()
        self._stages: list[_Stage] = []
        self._flushes = 0
        self.counts: Counter[str] = Counter()
        self.inputs: list[tuple[int, dict[str, Any]]] = []  # (order the source yielded it, input)
        self.failures: list[dict[str, Any]] = []
        self.quarantine = QuarantineRows(self.work / "quarantine.jsonl")
        self.origins: dict[str, str] = {}
        self.callers = CallerLocator(ip_ranges or load_ip_ranges())
        if any(lake_tables()[table].in_events for table in self.tables):
            self.callers.ranges.warm()
        self.ingested_blobs = {
            i["blob"] for e in lake.ledger.entries() if set(Ledger.tables_of(e)) & set(self.tables)
            for i in e.get("inputs", []) if i.get("status") == "ingested"
        }

    # -- staging -----------------------------------------------------------------------------------

    def _stage(self) -> _Stage:
        stage = getattr(self._local, "stage", None)
        if stage is None:
            with self._lock:
                stage = _Stage(self.db)
                self._stages.append(stage)
            self._local.stage = stage
        return stage

    def _claim(self, blob: RawBlob, digest: str) -> bool:
        with self._lock:
            if digest in self.ingested_blobs:
                self.counts["blobs_skipped"] += 1
                self.inputs.append((blob.order, {**blob.origin, "blob": digest, "bytes": len(blob.data),
                                                 "status": "skipped"}))
                return False
            self.ingested_blobs.add(digest)
            self.origins[digest] = blob.label
            return True

    def add_failure(self, failed: FailedInput) -> None:
        with self._lock:
            self.counts["inputs_failed"] += 1
            self.failures.append({**failed.origin, "label": failed.label, "error": failed.error})

    def add_blob(self, blob: RawBlob) -> int:
        """Archive and stage one blob; thread-safe. Returns the number of records read from it."""
        digest, _ = self.lake.archive.put(blob.data)
        hit("after-archive")
        if blob.kind != "log":
            with self._lock:
                self.counts[f"{blob.kind}_blobs"] += 1
                self.inputs.append((blob.order, {**blob.origin, "blob": digest, "bytes": len(blob.data),
                                                 "status": blob.kind}))
            return 0
        if not self._claim(blob, digest):
            return 0
        stage = self._stage()
        work = self.work / f"blob-{digest}"
        prepared = self.preparer.fast(blob.data, work)
        if prepared.batches:
            read, staged = prepared.records_read, 0
            for piece in prepared.batches:
                self._insert_extracted(stage, piece, digest)
        else:
            read = self._insert(stage, prepared.slices[0], digest, fast=True) if prepared.slices else None
            staged = read or 0
        if read is None and prepared.payload is not None:
            prepared = self.preparer.careful(prepared.payload, work)
            for piece in prepared.slices:
                try:
                    rows = self._insert(stage, piece, digest) or 0
                except duckdb.OutOfMemoryException as exc:
                    # Not the records' fault: the pull stops here as partial (exit 3) rather than blame them.
                    raise SourceError(f"{blob.label}: DuckDB ran out of memory normalizing it "
                                      f"({str(exc).splitlines()[0]})") from None
                except duckdb.Error as exc:
                    rows = 0
                    reason = f"DuckDB could not read the record: {str(exc).splitlines()[0]}"
                    prepared.set_aside += [SetAside(reason, position) for position in piece.positions or []]
                piece.array_path.unlink(missing_ok=True)
                # A big blob comes in several slices: their rows go to Parquet as they pile up, not all at the end.
                stage.rows += rows
                if stage.full():
                    self._flush(stage)
        for piece in prepared.slices:
            piece.array_path.unlink(missing_ok=True)
        if read is None:
            read = prepared.records_read or 0
        stage.rows += staged
        with self._lock:
            self.counts["read"] += read
            self.counts["blobs"] += 1
            self.counts["bytes"] += len(blob.data)
            for item in prepared.set_aside:
                self._quarantine(blob.label, digest, item.record_index, item.byte_offset, item.reason)
            self.inputs.append((blob.order, {**blob.origin, "blob": digest, "bytes": len(blob.data),
                                             "records": read, "status": "ingested"}))
        if stage.full():
            self._flush(stage)
        return read

    def _quarantine(self, origin: str | None, blob: str, index: int | None, offset: int | None, reason: str) -> None:
        self.quarantine.add({"run_id": self.run_id, "source": self.source_record["name"], "origin": origin,
                             "blob": blob, "record_index": index, "byte_offset": offset, "reason": reason})

    def _insert_extracted(self, stage: _Stage, piece: TableBatch, digest: str) -> None:
        """Queue an extracted batch, with its blob as `evidence_blob`, for the table's batch SQL; run the SQL once
        EXTRACTED_ROWS or EXTRACTED_BYTES are queued, and flush as rows pile up."""
        batch = with_evidence_blob(piece.batch, digest)
        row_bytes = batch.nbytes / max(batch.num_rows, 1)
        for start in range(0, batch.num_rows, EXTRACTED_ROWS):
            part = batch.slice(start, EXTRACTED_ROWS)
            stage.pending[piece.table].append(part)
            stage.pending_rows[piece.table] += part.num_rows
            stage.pending_bytes += int(part.num_rows * row_bytes)
            # Every table's rows count: two tables, each under the limit, held twice the rows.
            if stage.pending_rows.total() >= EXTRACTED_ROWS or stage.pending_bytes >= EXTRACTED_BYTES:
                self._normalize_all_pending(stage)
                if stage.full():
                    self._flush(stage)

    def _normalize_all_pending(self, stage: _Stage) -> None:
        for table in list(stage.pending):
            self._normalize_pending(stage, table)
        stage.pending_bytes = 0

    def _normalize_pending(self, stage: _Stage, table: str) -> None:
        batches, stage.pending[table], stage.pending_rows[table] = stage.pending[table], [], 0
        if not batches:
            return
        try:
            stage.rows += self._normalize_extracted(stage, table, pa.Table.from_batches(batches))
        except duckdb.OutOfMemoryException as exc:
            # Not the records' fault: the pull stops here as partial (exit 3) rather than blame them.
            raise SourceError(f"DuckDB ran out of memory normalizing {sum(b.num_rows for b in batches):,} records "
                              f"of {table} ({str(exc).splitlines()[0]})") from None

    def _normalize_extracted(self, stage: _Stage, table: str, batch: pa.Table) -> int:
        """The batch's rows into the stage. Should DuckDB refuse a part of it (its JSON reader is not the
        extractor's), the part is halved until the refused records are alone, and each is set aside by itself."""
        params = {"run": self.run_id, "pull_started": self.started_at, **self.preparer.sql_params(table)}
        try:
            rows = normalized_rows(stage.cursor, self.batch_sql[table], params, batch, self.lake_schemas[table], table)
        except duckdb.OutOfMemoryException:
            raise  # not the records' fault: _normalize_pending stops the pull as partial
        except duckdb.Error as exc:
            if batch.num_rows == 1:
                blob = batch.column("evidence_blob")[0].as_py()
                with self._lock:
                    self._quarantine(self.origins.get(blob), blob, batch.column("_position")[0].as_py(),
                                     batch.column("_offset")[0].as_py(),
                                     f"DuckDB could not read the record: {str(exc).splitlines()[0]}")
                return 0
            half = batch.num_rows // 2
            return sum(self._normalize_extracted(stage, table, part) for part in (batch.slice(0, half),
                                                                                   batch.slice(half)))
        stage.batches[table].append(rows)
        stage.bytes += rows.nbytes
        return rows.num_rows

    def _insert(self, stage: _Stage, piece: TableSlice, digest: str, fast: bool = False) -> int | None:
        """Run the table's normalize SQL into the stage; None when DuckDB refused the fast slice."""
        if piece.positions is not None and not piece.positions:
            return 0
        params = {"path": str(piece.array_path), "index_map": piece.positions, "blob": digest, "run": self.run_id,
                  "pull_started": self.started_at}
        params.update(self.preparer.sql_params(piece.table))
        try:
            batch = stage.cursor.sql(self.normalize_sql[piece.table], params=params).to_arrow_table()
        except duckdb.Error:
            if not fast:
                raise
            return None
        stage.batches[piece.table].append(batch)
        stage.bytes += batch.nbytes
        return batch.num_rows

    def _with_caller_places(self, good: pa.Table) -> pa.Table:
        """src_country and src_cloud* from src_ip: facts about the address, looked up once per distinct
        address (CallerLocator keeps them for the pull)."""
        ips = good["src_ip"]
        distinct = pc.unique(ips).drop_null()
        places = self.callers.locate(distinct.to_pylist())
        positions = pc.index_in(ips, value_set=distinct)
        for column, values in zip(CALLER_PLACE_COLUMNS, zip(*places, strict=True) if places else
                                  [()] * len(CALLER_PLACE_COLUMNS), strict=True):
            good = good.set_column(good.schema.get_field_index(column), column,
                                   pc.take(pa.array(values, pa.string()), positions))
        return good

    def _flush(self, stage: _Stage) -> None:
        """Write a stage's good rows to part files (one per table and date), set its problem rows aside, empty it."""
        self._normalize_all_pending(stage)
        batches, stage.batches, stage.rows, stage.bytes = stage.batches, defaultdict(list), 0, 0
        for name, tables in batches.items():
            if tables:
                self._flush_table(name, self._finish(stage, name, pa.concat_tables(tables)))

    def _finish(self, stage: _Stage, name: str, table: pa.Table) -> pa.Table:
        """Run the table's finish SQL over the staged rows (the view `batch`, with each row's position `_row`). It
        returns `_row` and new values of some columns for the rows it changes, which replace the old values. Once
        per flush instead of per blob: its plan, made once, costs more than a small blob's rows."""
        sql = self.finish_sql.get(name)
        if sql is None or not table.num_rows:
            return table
        batch = table.append_column("_row", pa.array(range(table.num_rows), pa.int64()))
        stage.cursor.register("batch", batch)
        try:
            changed = stage.cursor.sql(sql).to_arrow_table().sort_by("_row")
        finally:
            stage.cursor.unregister("batch")
        if not changed.num_rows:
            return table
        if len(pc.unique(changed["_row"])) != changed.num_rows:
            raise RuntimeError(f"internal error: {FINISH_SQL.format(table=name)} returned a row twice")
        # Row i takes its value from the changed rows (after the old values) when it is one of them.
        positions = batch["_row"].combine_chunks()
        mask = pc.is_in(positions, value_set=changed["_row"])
        rank = pc.subtract(pc.cumulative_sum(pc.cast(mask, pa.int64())), 1)
        take = pc.if_else(mask, pc.add(rank, table.num_rows), positions)
        for column in changed.column_names[1:]:
            field = table.schema.field(column)
            both = pa.chunked_array([*table[column].chunks, *changed[column].cast(field.type).chunks], type=field.type)
            table = table.set_column(table.schema.get_field_index(column), field, both.take(take))
        return table

    def _flush_table(self, name: str, table: pa.Table) -> None:
        problems: list[dict[str, Any]] = []
        good = table
        if table["_problem"].null_count < table.num_rows:
            problem = pc.is_valid(table["_problem"])
            problems = table.filter(problem).select(["evidence_blob", "evidence_index", "_problem"]).to_pylist()
            good = table.filter(pc.invert(problem))
        good = good.drop_columns(["_problem"])
        if "src_country" in good.schema.names:  # tables outside `events` (e.g. inventories) have no caller
            good = self._with_caller_places(good)
        for column in self.json_columns[name]:
            index = good.schema.get_field_index(column)
            good = good.set_column(index, pa.field(column, pa.json_()), pa.chunked_array(
                [pa.ExtensionArray.from_storage(pa.json_(), chunk) for chunk in good[column].chunks],
                type=pa.json_()))
        with self._lock:
            self._flushes += 1
            flush_number = self._flushes
        for day, rows in rows_by_day(good):
            # A record that carries no time at all (a documentation fragment) is kept, in its own partition.
            out_dir = self.parts_dir / name / f"date={day.isoformat() if day else 'none'}"
            out_dir.mkdir(parents=True, exist_ok=True)
            pq.write_table(rows, out_dir / f"{self.run_id}_{flush_number}.parquet", compression="snappy")
        with self._lock:
            self.counts["staged_good"] += good.num_rows
            for row in problems:
                self._quarantine(self.origins.get(row["evidence_blob"]), row["evidence_blob"],
                                 row["evidence_index"], None, row["_problem"])

    # -- commit ------------------------------------------------------------------------------------

    def _parts(self) -> list[Path]:
        return sorted(self.parts_dir.rglob("*.parquet"))

    def _settle_repeats(self, table: str, parts: list[Path]) -> int:
        """Remove the rows whose event id the lake (on any date) or this pull already holds: a duplicate when its
        record is the copy's, else a conflict, quarantined with a reason naming the copy. Returns the conflicts."""
        (self.db.read_parquet([str(p) for p in parts], filename=True)
         .project("filename, event_uid, evidence_blob, evidence_index").create_view("staged", replace=True))
        self.db.execute("CREATE OR REPLACE TEMP TABLE pull_hashes AS SELECT hash(event_uid) AS h FROM staged")
        self.db.execute("CREATE OR REPLACE TEMP TABLE repeated_hashes (h UBIGINT)")
        rows = self.db.execute("SELECT count(*) FROM pull_hashes").fetchone()[0]
        shares = max(1, -(-rows // HASHES_AT_ONCE))
        for share in range(shares):
            self.db.execute("INSERT INTO repeated_hashes " + query_text("normalize/repeated_hashes.sql"),
                            {"shares": shares, "share": share})
        self.db.execute("CREATE OR REPLACE TEMP TABLE stored (event_uid VARCHAR, evidence_blob VARCHAR, "
                        "evidence_index INTEGER)")
        committed = [str(p) for p in self.lake.committed_files().get(table, [])]
        if committed:
            self.db.execute("INSERT INTO stored " + query_text("normalize/stored_copies.sql"), {"files": committed})
        self.db.execute("CREATE OR REPLACE TEMP TABLE drops AS " + query_text("normalize/duplicates.sql"))
        reader = RecordReader(self.lake.archive, self.preparer, table, self.db, self.work)
        found: list[Repeat] = []
        for offset in itertools.count(0, REPEATS_AT_ONCE):
            rows = self.db.execute("SELECT event_uid, evidence_blob, evidence_index, copy_blob, copy_index FROM drops "
                                   "ORDER BY evidence_blob, evidence_index LIMIT $n OFFSET $offset",
                                   {"n": REPEATS_AT_ONCE, "offset": offset}).fetchall()
            if not rows:
                break
            found += conflicts([Repeat(*row) for row in rows], reader)
        with self._lock:
            for repeat in found:
                self._quarantine(self.origins.get(repeat.blob), repeat.blob, repeat.index, None, repeat.reason())
        for (filename,) in self.db.execute("SELECT DISTINCT filename FROM drops").fetchall():
            rewritten = Path(filename).with_suffix(".rewrite")
            self.db.execute(
                "COPY (SELECT * FROM read_parquet($part) AS part WHERE NOT EXISTS (SELECT 1 FROM drops "
                "WHERE drops.filename = $part AND drops.evidence_blob = part.evidence_blob "
                "AND drops.evidence_index = part.evidence_index)) TO $rewritten "
                "(FORMAT parquet, COMPRESSION snappy)",
                {"part": filename, "rewritten": str(rewritten)})
            os.replace(rewritten, filename)
        return len(found)

    def _commit_parts(self) -> list[dict[str, Any]]:
        written = []
        for part in self._parts():
            rows = pq.read_metadata(part).num_rows
            if rows == 0:
                continue
            table = part.parent.parent.name
            target_dir = self.lake.tables_dir / table / part.parent.name
            target_dir.mkdir(parents=True, exist_ok=True)
            target = target_dir / part.name
            with open(part, "rb") as handle:
                os.fsync(handle.fileno())
            os.replace(part, target)
            fsync_dir(target_dir)
            hit("after-first-parquet")
            written.append({"table": table, "path": str(target.relative_to(self.lake.root)),
                            "sha256": _file_sha256(target), "rows": rows})
        return written

    def _write_quarantine(self) -> dict[str, Any] | None:
        if not self.quarantine:
            return None
        target = self.lake.quarantine_dir / f"{self.run_id}.jsonl"
        sha256 = self.quarantine.write(target)
        return {"path": str(target.relative_to(self.lake.root)), "sha256": sha256, "rows": len(self.quarantine)}

    def commit(self) -> dict[str, Any]:
        for stage in self._stages:
            self._flush(stage)
        hit("before-commit")
        parts = self._parts()
        conflicted = 0
        for table in self.tables:
            table_parts = [p for p in parts if p.parent.parent.name == table]
            if table_parts:
                conflicted += self._settle_repeats(table, table_parts)
        files = self._commit_parts()
        self.counts["stored"] = sum(f["rows"] for f in files)
        self.counts["quarantined"] = len(self.quarantine)
        # A conflict was staged as a good row and is now quarantined: counted there, not as a duplicate.
        self.counts["duplicate"] = self.counts["staged_good"] - self.counts["stored"] - conflicted
        quarantine_file = self._write_quarantine()
        counts = {k: self.counts[k] for k in ("read", "stored", "duplicate", "quarantined")}
        if counts["read"] != counts["stored"] + counts["duplicate"] + counts["quarantined"]:
            raise RuntimeError(f"internal error: counts do not add up: {counts}")
        entry = {
            "run_id": self.run_id,
            "tool_version": __version__,
            "source": self.source_record,
            # "table" for a single-table source, as ledgers written before multi-table sources have it.
            **({"table": self.tables[0]} if len(self.tables) == 1 else {}),
            "tables": list(self.tables),
            "started_at": iso(self.started_at),
            "finished_at": iso(datetime.now(UTC)),
            "window": {"since": iso(self.window[0]), "until": iso(self.window[1])},
            "counts": counts,
            "blobs": {k: self.counts[k] for k in ("blobs", "blobs_skipped", "digest_blobs", "inputs_failed", "bytes")},
            "inputs": [i for _, i in sorted(self.inputs, key=lambda pair: pair[0])],
            "failures": self.failures,
            "files": files,
            "quarantine_file": quarantine_file,
            "geoip": data_vintage(),
            "ip_ranges": self.callers.ranges.about(),
        }
        hit("before-ledger")
        entry = self.lake.ledger.append(entry)
        self.close()
        return entry

    def close(self) -> None:
        self.quarantine.close()
        for stage in self._stages:
            stage.cursor.close()
        self.db.close()
        shutil.rmtree(self.work, ignore_errors=True)
