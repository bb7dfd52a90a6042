-- What the rows of $files are, whatever their order: the row count, and the sum and XOR of a hash of each whole
-- row. The compacted file must give the same three values as the files it replaces before anything is committed.
SELECT count(*) AS row_count, sum(hash(t)::HUGEINT) AS hash_sum, bit_xor(hash(t)) AS hash_xor
FROM read_parquet($files, union_by_name = true) AS t
