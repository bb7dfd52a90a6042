-- The distinct blobs one column of a lake table cites, per Parquet file, with how many rows cite each.
-- {column} is a column name chosen by the caller from the file's own schema, never user input.
SELECT filename, {column} AS blob, count(*) AS row_count
FROM read_parquet($1, union_by_name = true, filename = true)
WHERE {column} IS NOT NULL
GROUP BY ALL
ORDER BY filename, blob
