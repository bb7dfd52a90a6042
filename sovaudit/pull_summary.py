"""What a pull summary says about the records it quarantined: the first few inputs with a reason each, read back
from the quarantine file the pull committed, so that the summary names what to look at."""

import json
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sovaudit.lake import Lake

SHOWN_INPUTS = 5
# Lines read at most: the file is sorted by input, so the first inputs' counts come first, but one input may
# have set millions of records aside.
MAX_READ = 50_000


def _where(row: dict[str, Any]) -> str:
    where = row.get("origin") or f"blob {str(row.get('blob') or '?')[:12]}"
    if row.get("record_index") is not None:
        return f"{where}, record {row['record_index']}"
    if row.get("byte_offset") is not None:
        return f"{where}, byte {row['byte_offset']}"
    return where


def _first_inputs(lines: Iterator[str], shown: int) -> list[tuple[dict[str, Any], int]]:
    """The first `shown` inputs' first rows, each with its number of rows (of those read)."""
    inputs: list[tuple[dict[str, Any], int]] = []
    for read, line in enumerate(lines, start=1):
        row = json.loads(line)
        if read > MAX_READ or not isinstance(row, dict):
            break
        if inputs and row.get("origin") == inputs[-1][0].get("origin"):
            inputs[-1] = (inputs[-1][0], inputs[-1][1] + 1)
        elif len(inputs) == shown:
            break
        else:
            inputs.append((row, 1))
    return inputs


def quarantined_lines(lake: "Lake | None", quarantine_file: dict[str, Any], total: int,
                      shown: int = SHOWN_INPUTS) -> Iterator[str]:
    """One line per input for the first `shown` inputs (where, the first record's reason, how many more it
    had), then "and N more"; nothing when the file cannot be read (the line before names the file)."""
    if lake is None:
        return
    from sovaudit.fsutil import contained_path

    try:
        with open(contained_path(lake.root, quarantine_file["path"]), encoding="utf-8") as handle:
            inputs = _first_inputs(handle, shown)
    except (OSError, ValueError):
        return
    for row, count in inputs:
        more = f" (+{count - 1:,} more from this input)" if count > 1 else ""
        yield f"{_where(row)}: {row.get('reason') or 'no reason recorded'}{more}"
    rest = total - sum(count for _, count in inputs)
    if rest > 0:
        yield f"and {rest:,} more"
