"""Whether a path is a lake that a verb can read: the one rule for check, report, scan, sql, tables, verify and
compact.

A lake is a directory holding a ledger.jsonl. Anything else (a path that does not exist, a file, an empty
folder, the report folder) would read as a lake with no data, and every check would be "not assessed" with
exit code 0: a mistyped --lake or a missing CI cache would turn a gate green. Only `pull` creates a lake.
"""

from pathlib import Path

from sovaudit.errors import UsageError

LEDGER_NAME = "ledger.jsonl"
# What a pull lays out before its first commit (see sovaudit.lake): a lake without a ledger holds these.
LAKE_PARTS = ("raw", "tables", "quarantine", "tmp")
_CREATE = "create one with `sovaudit pull`, or name it with --lake, $SOVAUDIT_LAKE or [lake] path"


def require_lake(root: Path, *, unledgered: bool = False) -> None:
    """Raise a one-line UsageError naming `root` and what it is, unless it is a lake. With `unledgered`, a
    directory that holds a lake's parts but no ledger passes too: `verify` reports on it (a first pull killed
    before it committed, or a deleted ledger)."""
    try:
        _check(Path(root), unledgered)
    except OSError as exc:
        raise UsageError(f"{root}: cannot read the lake: {exc.strerror or exc}") from None


def _check(root: Path, unledgered: bool) -> None:
    if not root.exists():
        raise UsageError(f"{root}: no such directory, so no lake here ({_CREATE})")
    if not root.is_dir():
        raise UsageError(f"{root}: a file, not a lake directory ({_CREATE})")
    ledger = root / LEDGER_NAME
    if ledger.is_file():
        return
    if ledger.exists():
        raise UsageError(f"{ledger}: not a file, so {root} is not a lake")
    parts = [name for name in LAKE_PARTS if (root / name).is_dir()]
    if parts:
        if unledgered:
            return
        raise UsageError(f"{root}: a lake with no {LEDGER_NAME} (it holds {', '.join(p + '/' for p in parts)} but no "
                         f"pull has committed to it): nothing in it can be read; `sovaudit verify --lake {root}` "
                         "says why")
    nested = next((root / name for name in ("lake", "sovaudit-lake") if (root / name / LEDGER_NAME).is_file()), None)
    what = "an empty directory" if not any(root.iterdir()) else f"a directory with no {LEDGER_NAME}"
    hint = f"; did you mean {nested}?" if nested else f" ({_CREATE})"
    raise UsageError(f"{root}: {what}, not a lake{hint}")
