"""A table's rows from the native extractor's batch: the columns the field spec names after a lake column, taken as
the extractor built them, beside the columns the table's batch SQL (queries/normalize/<table>_batch.sql) derives.

Copying a record's big members (request parameters, identities, responses: most of its bytes) into DuckDB and back
out again cost more than the SQL's expressions over them; a column the spec already gives is not the SQL's to copy.
The SQL returns every other lake column, `_problem`, and `_position`, which holds its rows to the batch's (a batch
SQL that returns every column needs no `_position`).
"""

import pyarrow as pa
import pyarrow.compute as pc


class BatchSqlError(RuntimeError):
    """The batch SQL and the field spec do not fit together: a column neither gives, or rows that do not line up."""


def with_evidence_blob(batch: pa.RecordBatch, digest: str) -> pa.RecordBatch:
    """The batch with its blob's SHA-256 as `evidence_blob`, so that one statement can normalize several blobs."""
    return batch.append_column("evidence_blob", pa.repeat(pa.scalar(digest, pa.string()), batch.num_rows))


def lake_schema(cursor, table: str) -> pa.Schema:
    """The Arrow schema DuckDB gives the lake table's rows (its DDL created on `cursor`)."""
    return cursor.sql(f"SELECT * FROM {table} LIMIT 0").to_arrow_table().schema  # noqa: S608 (a lake table name)


def _as(column: pa.Array | pa.ChunkedArray, field: pa.Field) -> pa.Array | pa.ChunkedArray:
    if isinstance(column.type, pa.ExtensionType):  # the extractor's JSON: its text, as DuckDB's JSON reads
        column = column.storage if isinstance(column, pa.Array) else pa.chunked_array(
            [chunk.storage for chunk in column.chunks], column.type.storage_type)
    return column if column.type == field.type else column.cast(field.type)


def normalized_rows(cursor, sql: str, params: dict, batch: pa.RecordBatch, schema: pa.Schema,
                    table: str) -> pa.Table:
    """The lake rows of `batch` (registered as `extracted` while the SQL runs), in `schema`'s order, then
    `_problem`."""
    cursor.register("extracted", batch)
    try:
        derived = cursor.sql(sql, params=params).to_arrow_table()
    finally:
        cursor.unregister("extracted")
    fields = [*schema, pa.field("_problem", pa.string())]
    taken = [field.name for field in fields if field.name not in derived.column_names]
    missing = [name for name in taken if name not in batch.schema.names]
    if missing:
        raise BatchSqlError(f"{table}: column {missing[0]!r} is neither in {table}.fields.toml nor returned by "
                            f"{table}_batch.sql")
    if taken and ("_position" not in derived.column_names or derived.num_rows != batch.num_rows or (
            derived.num_rows and not pc.all(pc.equal(derived["_position"], batch.column("_position"))).as_py())):
        raise BatchSqlError(f"{table}_batch.sql: its rows are not the batch's, one for one, in order, with their "
                            "_position")
    columns = [_as(derived[f.name], f) if f.name in derived.column_names else _as(batch.column(f.name), f)
               for f in fields]
    return pa.Table.from_arrays(columns, schema=pa.schema(fields))
