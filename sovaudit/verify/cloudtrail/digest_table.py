"""Write CloudTrail verdicts into the lake as the `cloudtrail_digest` table, committed by a ledger entry
exactly like a pull's Parquet files (so the lake's views, and `verify` itself, see them)."""

import os
import uuid
from datetime import UTC, datetime
from typing import Any

import duckdb
import pyarrow as pa

from sovaudit import __version__
from sovaudit.fsutil import fsync_dir, storage_errors
from sovaudit.lake import Lake
from sovaudit.lock import lake_lock
from sovaudit.schema import lake_tables
from sovaudit.timewindow import iso
from sovaudit.verify.cloudtrail.validation import DigestValidation
from sovaudit.verify.hashing import file_sha256

TABLE = "cloudtrail_digest"


def new_run_id() -> str:
    return f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:8]}"


def commit_verdicts(lake: Lake, validation: DigestValidation, verified_at: datetime, *,
                    lock_timeout: float = 60.0) -> dict[str, Any] | None:
    """Append the verdicts as one Parquet file and one ledger entry; None when there is nothing to record."""
    if not validation.verdicts:
        return None
    run_id = new_run_id()
    with storage_errors("the lake", lake.root), lake_lock(lake.root, timeout=lock_timeout):
        lake.ensure_layout()
        lake.recover()
        lake.tmp_dir.mkdir(exist_ok=True)  # recover() clears the work space of killed pulls
        head = lake.ledger.head()
        rows = [{**v.as_dict(), "verify_run": run_id, "verified_at": verified_at, "ledger_head": head,
                 "date": verified_at.date()} for v in validation.verdicts]
        target_dir = lake.tables_dir / TABLE / f"date={verified_at.date().isoformat()}"
        target_dir.mkdir(parents=True, exist_ok=True)
        staged = lake.tmp_dir / f"{run_id}.parquet"
        con = duckdb.connect(":memory:")
        try:
            con.execute("SET TimeZone = 'UTC'")
            con.execute(lake_tables()[TABLE].ddl)
            con.register("verdicts", pa.Table.from_pylist(rows))
            con.execute(f"INSERT INTO {TABLE} BY NAME SELECT * FROM verdicts")  # noqa: S608 (a constant)
            con.execute(f"COPY {TABLE} TO ? (FORMAT parquet, COMPRESSION snappy)", [str(staged)])  # noqa: S608 (a constant)
        finally:
            con.close()
        with open(staged, "rb") as handle:
            os.fsync(handle.fileno())
        target = target_dir / f"{run_id}.parquet"
        os.replace(staged, target)
        fsync_dir(target_dir)
        counts = {"read": len(rows), "stored": len(rows), "duplicate": 0, "quarantined": 0}
        entry = lake.ledger.append({
            "run_id": run_id,
            "tool_version": __version__,
            "source": {"name": "verify", "type": "cloudtrail_digest"},
            "table": TABLE,
            "started_at": iso(verified_at),
            "finished_at": iso(datetime.now(verified_at.tzinfo)),
            "window": {"since": None, "until": None},
            "counts": counts,
            "blobs": {"blobs": 0, "blobs_skipped": 0, "digest_blobs": 0, "inputs_failed": 0, "bytes": 0},
            "inputs": [],
            "failures": [],
            "files": [{"table": TABLE, "path": str(target.relative_to(lake.root)), "sha256": file_sha256(target),
                       "rows": len(rows)}],
            "quarantine_file": None,
            "verified": {"ledger_head": head, "digest_files": validation.counts("digest"),
                         "log_files": validation.counts("log"), "coverage": validation.coverage},
        })
    lake.refresh()
    return entry
