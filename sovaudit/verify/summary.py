"""Everything the report's "Integrity of evidence" section states, from one call."""

from typing import Any

import duckdb

from sovaudit.lake import Lake
from sovaudit.resources import query_text
from sovaudit.timewindow import iso
from sovaudit.verify.lake_integrity import LakeVerification, verify_lake


def latest_digest_results(lake: Lake) -> dict[str, Any] | None:
    """Counts of the latest `verify --cloudtrail` run recorded in the lake, and its coverage; None if none ran."""
    rows = lake.sql(query_text("verify/digest_coverage.sql")).fetchall()
    if not rows:
        return None
    counts: dict[str, dict[str, int]] = {"digest": {}, "log": {}}
    for _, _, kind, status, files in rows:
        counts.setdefault(kind, {})[status] = files
    in_lake = sum(n for status, n in counts["log"].items() if status != "not_found")
    return {"verify_run": rows[0][0], "verified_at": iso(rows[0][1]), "digest_files": counts["digest"],
            "log_files": counts["log"], "coverage": counts["log"].get("valid", 0) / in_lake if in_lake else None}


def evidence_integrity(lake: Lake, verification: LakeVerification | None = None) -> dict[str, Any]:
    """Ledger head, verification time and result, each check's breaks, and CloudTrail digest coverage
    (the share of the lake's CloudTrail log files covered by a valid digest chain, from the latest
    `verify --cloudtrail` run; None when it never ran). Verifies the lake now unless given a result."""
    verification = verification or verify_lake(lake)
    lake.refresh()
    return {
        "ledger_head": verification.ledger_head,
        "ledger_entries": verification.ledger_entries,
        "verified_at": iso(verification.verified_at),
        "seconds": round(verification.seconds, 3),
        "result": "verified" if verification.ok else "FAILED",
        "ok": verification.ok,
        "checks": [{"check": c.check, "title": c.title, "ok": c.ok, "checked": c.checked, "unit": c.unit,
                    "breaks": [b.as_dict() for b in c.breaks]} for c in verification.checks],
        "cloudtrail_digests": _digest_results_if_readable(lake),
        "id_conflicts": verification.id_conflicts_summary(),
    }


def _digest_results_if_readable(lake: Lake) -> dict[str, Any] | None:
    try:
        return latest_digest_results(lake)
    except duckdb.Error:  # a tampered Parquet file may not even parse; the checks' breaks already say so
        return None
