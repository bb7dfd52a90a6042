-- The lake's copy of each event id this pull holds again (`staged`): the one committed first, since a lake
-- written before ids were unique across dates may hold more than one. Every date of the table is read, but only
-- these columns, and only the rows whose id's hash the pull holds (by hash: a set of the pull's ids themselves cost
-- ~400 MB at 5M records; an id that only shares a hash matches no staged row in duplicates.sql, and so drops
-- nothing). Reads `pull_hashes` (the hash of each staged row's id). Parameters: $files (the table's committed
-- Parquet files).
SELECT DISTINCT ON (event_uid) event_uid, evidence_blob, evidence_index
FROM read_parquet($files)
WHERE hash(event_uid) IN (SELECT h FROM pull_hashes)
ORDER BY event_uid, ingest_run, evidence_blob, evidence_index
