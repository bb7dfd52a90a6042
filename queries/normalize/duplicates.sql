-- Rows of this pull's part files that must not be committed: every occurrence of an event_uid
-- after the first (ordered by blob hash and position, so the choice does not depend on thread
-- timing), and every event_uid the lake already holds.
-- Parameters: $parts (this pull's Parquet files). Table: existing_uids.
SELECT filename, evidence_blob, evidence_index
FROM (
    SELECT filename, event_uid, evidence_blob, evidence_index,
           row_number() OVER (PARTITION BY event_uid ORDER BY evidence_blob, evidence_index) AS occurrence
    FROM read_parquet($parts, filename = true)
)
WHERE occurrence > 1 OR event_uid IN (SELECT event_uid FROM existing_uids)
