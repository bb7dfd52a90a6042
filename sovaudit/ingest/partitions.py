"""A flush's rows split by their `date` partition without copying them: rows come blob by blob, and a blob's records
are mostly of one day, so each day is a few runs of consecutive rows, which are slices of the table. Filtering by
day instead copied every row of a flush that spans several days."""

from collections.abc import Iterator
from datetime import date

import pyarrow as pa
import pyarrow.compute as pc

_NO_DATE = -1  # a date32 value no record has: the stand-in for a NULL date while runs are found


def rows_by_day(table: pa.Table) -> Iterator[tuple[date | None, pa.Table]]:
    """(day, its rows) for each day in the table's `date` column, in order of first appearance; NULL is a day too."""
    if not table.num_rows:
        return
    days = pc.fill_null(table["date"].combine_chunks().cast(pa.int32()), _NO_DATE)
    starts = [0, *pc.add(pc.indices_nonzero(pc.not_equal(days[1:], days[:-1])), 1).to_pylist(), table.num_rows]
    runs: dict[int, list[tuple[int, int]]] = {}
    for start, end in zip(starts, starts[1:], strict=False):
        runs.setdefault(days[start].as_py(), []).append((start, end - start))
    for day, slices in runs.items():
        rows = table.slice(*slices[0]) if len(slices) == 1 else pa.concat_tables([table.slice(*s) for s in slices])
        yield (None if day == _NO_DATE else table["date"][slices[0][0]].as_py()), rows
