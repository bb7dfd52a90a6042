"""A flush's rows by day: every row once, under its own day (NULL too), in the order the rows came, without a copy."""

import datetime as dt

import pyarrow as pa

from sovaudit.ingest.partitions import rows_by_day


def _day(n: int) -> dt.date:
    return dt.date(2024, 1, n)


def test_each_day_gets_its_rows_in_order_and_a_missing_date_is_a_day_of_its_own():
    table = pa.table({"date": pa.array([_day(1), _day(1), _day(2), None, _day(1), None, _day(3)], pa.date32()),
                      "x": list(range(7))})
    got = {day: rows["x"].to_pylist() for day, rows in rows_by_day(table)}
    assert got == {_day(1): [0, 1, 4], _day(2): [2], None: [3, 5], _day(3): [6]}


def test_rows_in_several_chunks_and_an_empty_table():
    table = pa.table({"date": pa.array([_day(5)] * 3 + [_day(6)] * 2, pa.date32()), "x": list(range(5))})
    chunked = pa.concat_tables([table.slice(0, 2), table.slice(2)])
    assert [(day, rows["x"].to_pylist()) for day, rows in rows_by_day(chunked)] == [(_day(5), [0, 1, 2]),
                                                                                    (_day(6), [3, 4])]
    assert list(rows_by_day(table.slice(0, 0))) == []


def test_a_day_of_consecutive_rows_is_a_slice_of_the_same_buffers():
    strings = pa.array(["a" * 100] * 4)
    table = pa.table({"date": pa.array([_day(1), _day(1), _day(2), _day(2)], pa.date32()), "s": strings})
    (_, first), (_, second) = rows_by_day(table)
    assert first["s"].chunks[0].buffers()[2].address == strings.buffers()[2].address
    assert second["s"].chunks[0].buffers()[2].address == strings.buffers()[2].address
