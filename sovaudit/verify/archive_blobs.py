"""Every archived blob still hashes to its name, and every blob the ledger names is in the archive."""

import re
from pathlib import Path

from sovaudit.archive import EvidenceArchive
from sovaudit.verify.hashing import hash_files
from sovaudit.verify.ledger_chain import LedgerLine
from sovaudit.verify.outcome import CheckOutcome

CHECK = "archive_blobs"
_HEX64 = re.compile(r"^[0-9a-f]{64}$")


def _blob_files(root: Path) -> list[Path]:
    if not root.exists():
        return []
    return sorted(p for sub in root.iterdir() if sub.is_dir() for p in sub.iterdir()
                  if p.is_file() and not p.name.startswith("."))


def _where(lake_root: Path, path: Path) -> str:
    return str(path.relative_to(lake_root)) if path.is_relative_to(lake_root) else str(path)


def check_archive(archive: EvidenceArchive, lake_root: Path, lines: list[LedgerLine]) -> CheckOutcome:
    outcome = CheckOutcome(CHECK, "Archived blobs re-hashed against their SHA-256 names", unit="blobs")
    files = _blob_files(archive.root)
    intact = []
    for path, result in hash_files(files).items():
        outcome.checked += 1
        where = _where(lake_root, path)
        if not _HEX64.match(path.name) or path.parent.name != path.name[:2]:
            outcome.broken(where, "a file in the archive that is not named by its SHA-256 in the archive's layout",
                           f"raw/{path.name[:2]}/<64 hex digits>", where)
        elif isinstance(result, OSError):
            outcome.broken(where, f"the blob cannot be read: {result.strerror}")
        elif result != path.name:
            outcome.broken(where, "the blob's bytes no longer hash to its name: it was changed after it was archived",
                           path.name, result)
        else:
            intact.append(where)
    present = {p.name for p in files}
    named = set()
    for line in lines:
        for item in line.entry.get("inputs") or []:
            blob = item.get("blob") if isinstance(item, dict) else None
            named.add(blob)
            if blob and blob not in present:
                origin = item.get("key") or item.get("path") or item.get("label") or "an input"
                outcome.broken(line.label, f"names blob {blob[:16]}… ({origin}), which the archive does not hold",
                               f"raw/{blob[:2]}/{blob}", "no such file")
    _note_unnamed(outcome, [where for where in intact if Path(where).name not in named])
    return outcome


def _note_unnamed(outcome: CheckOutcome, unnamed: list[str]) -> None:
    if unnamed:
        outcome.notes.append(f"{len(unnamed)} blob(s) under raw/ are named by no ledger entry (left by an "
                             "interrupted pull, by a removed ledger entry, or put there by hand): "
                             + ", ".join(sorted(unnamed)[:5]) + (" …" if len(unnamed) > 5 else ""))
