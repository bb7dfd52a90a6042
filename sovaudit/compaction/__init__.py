"""`sovaudit compact`: a table's many small part files rewritten as one file per day (or per size limit),
committed by a ledger entry of its own so that `verify` stays exact.

    from sovaudit.compaction import compact
    result = compact(open_lake("sovaudit-lake"), tables=["cloudtrail"])
    result.tables, result.entry
"""

from sovaudit.compaction.plan import DEFAULT_MAX_FILE_MB, LakeNotIntact
from sovaudit.compaction.run import CompactionResult, TableFigures, compact, compact_locked

__all__ = ["DEFAULT_MAX_FILE_MB", "CompactionResult", "LakeNotIntact", "TableFigures", "compact", "compact_locked"]
