"""One pull into the lake: stage rows in DuckDB, then commit Parquet files and a ledger entry.

Crash safety: nothing under tables/ or quarantine/ counts until the ledger entry naming it is
appended, and the next pull removes anything a killed run left (Lake.recover).
"""

import hashlib
import json
import os
import shutil
import threading
import uuid
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

from sovaudit import __version__
from sovaudit.failpoints import hit
from sovaudit.fsutil import fsync_dir, write_atomic
from sovaudit.geoip import countries, data_vintage
from sovaudit.ingest.blobs import FailedInput, RawBlob
from sovaudit.ingest.cloudtrail_blob import PreparedBlob, prepare_careful, prepare_fast
from sovaudit.ingest.records import SetAside
from sovaudit.lake import Lake
from sovaudit.resources import query_text
from sovaudit.schema import lake_tables
from sovaudit.timewindow import iso


def new_run_id() -> str:
    return f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:8]}"


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


class IngestRun:
    def __init__(self, lake: Lake, source: dict[str, Any], table: str = "cloudtrail",
                 window: tuple[datetime | None, datetime | None] = (None, None), memory_limit: str = "1GB"):
        self.lake = lake
        self.source = source
        self.table = table
        self.window = window
        self.run_id = new_run_id()
        self.started_at = datetime.now(UTC)
        self.work = lake.tmp_dir / self.run_id
        self.work.mkdir(parents=True)
        self.db = duckdb.connect(str(self.work / "stage.duckdb"))
        self.db.execute("SET TimeZone = 'UTC'")
        self.db.execute("SET memory_limit = ?", [memory_limit])
        self.db.execute("SET temp_directory = ?", [str(self.work / "spill")])
        self.db.execute(lake_tables()[table].ddl.replace(f"CREATE TABLE {table}", "CREATE TABLE stage", 1))
        self.db.execute("ALTER TABLE stage ADD COLUMN _problem VARCHAR")
        self.db.execute("ALTER TABLE stage ADD COLUMN _blob_seq INTEGER")
        self.normalize_sql = query_text(f"normalize/{table}.sql")
        self.insert_sql = "INSERT INTO stage BY NAME " + self.normalize_sql
        self._lock = threading.Lock()
        self._seq = 0
        self._thread_cursors = threading.local()
        self.counts: Counter[str] = Counter()
        self.inputs: list[dict[str, Any]] = []
        self.failures: list[dict[str, Any]] = []
        self.quarantine: list[dict[str, Any]] = []
        self.origins: dict[int, str] = {}
        self.ingested_blobs = {
            i["blob"] for e in lake.ledger.entries() if e.get("table") == table
            for i in e.get("inputs", []) if i.get("status") == "ingested"
        }

    # -- staging -----------------------------------------------------------------------------------

    def _cursor(self) -> duckdb.DuckDBPyConnection:
        cursor = getattr(self._thread_cursors, "cursor", None)
        if cursor is None:
            cursor = self.db.cursor()
            cursor.execute("SET TimeZone = 'UTC'")
            self._thread_cursors.cursor = cursor
        return cursor

    def _claim(self, blob: RawBlob, digest: str) -> int | None:
        with self._lock:
            if digest in self.ingested_blobs:
                self.counts["blobs_skipped"] += 1
                self.inputs.append({**blob.origin, "blob": digest, "bytes": len(blob.data), "status": "skipped"})
                return None
            self.ingested_blobs.add(digest)
            self._seq += 1
            self.origins[self._seq] = blob.label
            return self._seq

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
                self.inputs.append({**blob.origin, "blob": digest, "bytes": len(blob.data), "status": blob.kind})
            return 0
        seq = self._claim(blob, digest)
        if seq is None:
            return 0
        array_path = self.work / f"blob-{seq}.json"
        prepared = prepare_fast(blob.data, array_path)
        read = None
        if prepared.array_path is not None:
            read = self._stage(prepared, digest, seq)
        if read is None and prepared.payload is not None:
            prepared = prepare_careful(prepared.payload, array_path)
            try:
                self._stage(prepared, digest, seq)
            except duckdb.Error as exc:
                reason = f"DuckDB could not read the record: {str(exc).splitlines()[0]}"
                prepared.set_aside += [SetAside(reason, position) for position in prepared.positions or []]
        array_path.unlink(missing_ok=True)
        if read is None:
            read = prepared.records_read or 0
        with self._lock:
            self.counts["read"] += read
            self.counts["blobs"] += 1
            self.counts["bytes"] += len(blob.data)
            for item in prepared.set_aside:
                self.quarantine.append({
                    "run_id": self.run_id, "source": self.source["name"], "origin": blob.label,
                    "blob": digest, "record_index": item.record_index, "byte_offset": item.byte_offset,
                    "reason": item.reason,
                })
            self.inputs.append({**blob.origin, "blob": digest, "bytes": len(blob.data), "records": read,
                                "status": "ingested"})
        return read

    def _stage(self, prepared: PreparedBlob, digest: str, seq: int) -> int | None:
        """Run the normalize SQL into `stage`; None when DuckDB refused the fast slice."""
        if prepared.array_path is None:
            return prepared.records_read
        params = {"path": str(prepared.array_path), "index_map": prepared.positions, "blob": digest,
                  "run": self.run_id, "blob_seq": seq}
        cursor = self._cursor()
        try:
            cursor.execute(self.insert_sql, params)
        except duckdb.Error:
            if prepared.positions is not None or prepared.records_read is not None:
                raise
            return None
        return cursor.fetchone()[0]

    # -- commit ------------------------------------------------------------------------------------

    def _existing_uids(self) -> None:
        dates = {str(r[0]) for r in self.db.execute("SELECT DISTINCT date FROM stage WHERE date IS NOT NULL").fetchall()}
        files = [str(p) for p in self.lake.committed_files().get(self.table, [])
                 if p.parent.name.removeprefix("date=") in dates]
        if files:
            self.db.execute("CREATE TEMP TABLE existing_uids AS SELECT event_uid FROM read_parquet(?)", [files])
        else:
            self.db.execute("CREATE TEMP TABLE existing_uids (event_uid VARCHAR)")

    def _ip_countries(self) -> None:
        ips = [r[0] for r in self.db.execute("SELECT DISTINCT src_ip FROM stage WHERE src_ip IS NOT NULL").fetchall()]
        self.db.execute("CREATE TEMP TABLE ip_country (ip VARCHAR, country VARCHAR)")
        if ips:
            self.db.executemany("INSERT INTO ip_country VALUES (?, ?)", list(zip(ips, countries(ips), strict=True)))

    def _problem_rows(self) -> None:
        rows = self.db.execute(
            "SELECT evidence_blob, evidence_index, _problem, _blob_seq FROM stage WHERE _problem IS NOT NULL "
            "ORDER BY _blob_seq, evidence_index"
        ).fetchall()
        for blob, index, reason, seq in rows:
            self.quarantine.append({
                "run_id": self.run_id, "source": self.source["name"], "origin": self.origins.get(seq),
                "blob": blob, "record_index": index, "byte_offset": None, "reason": reason,
            })

    def _write_parquet(self) -> list[dict[str, Any]]:
        out_dir = self.work / "out"
        hit("before-commit")
        self.db.execute("CREATE TEMP TABLE to_commit AS " + query_text("normalize/commit.sql"))
        stored = self.db.execute("SELECT count(*) FROM to_commit").fetchone()[0]
        self.counts["stored"] = stored
        if not stored:
            return []
        self.db.execute(
            f"COPY (SELECT * FROM to_commit ORDER BY time) TO '{out_dir}' "  # noqa: S608 (our own temp path)
            f"(FORMAT parquet, COMPRESSION zstd, PARTITION_BY (date), WRITE_PARTITION_COLUMNS true, "
            f"FILENAME_PATTERN '{self.run_id}_{{i}}', ROW_GROUP_SIZE 122880)"
        )
        written = []
        for produced in sorted(out_dir.rglob("*.parquet")):
            target_dir = self.lake.tables_dir / self.table / produced.parent.name
            target_dir.mkdir(parents=True, exist_ok=True)
            target = target_dir / produced.name
            rows = self.db.execute("SELECT count(*) FROM read_parquet(?)", [str(produced)]).fetchone()[0]
            with open(produced, "rb") as handle:
                os.fsync(handle.fileno())
            os.replace(produced, target)
            fsync_dir(target_dir)
            hit("after-first-parquet")
            written.append({"table": self.table, "path": str(target.relative_to(self.lake.root)),
                            "sha256": _file_sha256(target), "rows": rows})
        return written

    def _write_quarantine(self) -> dict[str, Any] | None:
        if not self.quarantine:
            return None
        target = self.lake.quarantine_dir / f"{self.run_id}.jsonl"
        data = b"".join(json.dumps(q, ensure_ascii=True).encode() + b"\n" for q in self.quarantine)
        write_atomic(target, data)
        return {"path": str(target.relative_to(self.lake.root)), "sha256": hashlib.sha256(data).hexdigest(),
                "rows": len(self.quarantine)}

    def commit(self) -> dict[str, Any]:
        self._problem_rows()
        self._existing_uids()
        self._ip_countries()
        files = self._write_parquet()
        staged_good = self.db.execute("SELECT count(*) FROM stage WHERE _problem IS NULL").fetchone()[0]
        self.counts["quarantined"] = len(self.quarantine)
        self.counts["duplicate"] = staged_good - self.counts["stored"]
        quarantine_file = self._write_quarantine()
        counts = {k: self.counts[k] for k in ("read", "stored", "duplicate", "quarantined")}
        assert counts["read"] == counts["stored"] + counts["duplicate"] + counts["quarantined"], counts
        entry = {
            "run_id": self.run_id,
            "tool_version": __version__,
            "source": self.source,
            "table": self.table,
            "started_at": iso(self.started_at),
            "finished_at": iso(datetime.now(UTC)),
            "window": {"since": iso(self.window[0]), "until": iso(self.window[1])},
            "counts": counts,
            "blobs": {k: self.counts[k] for k in ("blobs", "blobs_skipped", "digest_blobs", "inputs_failed", "bytes")},
            "inputs": self.inputs,
            "failures": self.failures,
            "files": files,
            "quarantine_file": quarantine_file,
            "geoip": data_vintage(),
        }
        hit("before-ledger")
        entry = self.lake.ledger.append(entry)
        self.close()
        return entry

    def close(self) -> None:
        self.db.close()
        shutil.rmtree(self.work, ignore_errors=True)
