-- One compacted file: the rows of $files (a day's part files, in commit order) as they are, every column kept
-- (union_by_name: an older file without a newer column gives NULL there, as the lake's views read it).
-- $target: the staged file, under the compaction's work space.
COPY (SELECT * FROM read_parquet($files, union_by_name = true))
TO $target (FORMAT parquet, COMPRESSION snappy)
