-- Rows of this pull's part files that must not be committed (`staged`): every row whose event id the lake
-- already holds (table `stored`), on any date, and every occurrence of an id after the first in this pull (ordered
-- by blob hash and position, so the choice does not depend on thread timing). Each comes with the copy it repeats:
-- the stored one, else the pull's first. sovaudit.ingest.repeats then tells a duplicate from a conflict.
-- Only the rows of repeated ids are ranked: a pull of a million records then costs a grouping, not a sort. The
-- grouping is of the ids' 64-bit hashes (`repeated_hashes`: repeated_hashes.sql, in shares), then of the ids whose
-- hash came twice: holding every id of a 5M-record pull in one hash table cost ~400 MB.
WITH repeated AS (
    SELECT event_uid FROM staged
    WHERE hash(event_uid) IN (SELECT h FROM repeated_hashes)
    GROUP BY event_uid HAVING count(*) > 1
    UNION
    SELECT event_uid FROM stored
),
ranked AS (
    SELECT *, row_number() OVER (PARTITION BY event_uid ORDER BY evidence_blob, evidence_index) AS occurrence
    FROM staged
    WHERE event_uid IN (SELECT event_uid FROM repeated)
),
copies AS (
    SELECT event_uid, evidence_blob, evidence_index, true AS in_lake FROM stored
    UNION ALL
    SELECT event_uid, evidence_blob, evidence_index, false AS in_lake
    FROM ranked
    WHERE occurrence = 1 AND event_uid NOT IN (SELECT event_uid FROM stored)
)
SELECT r.filename, r.event_uid, r.evidence_blob, r.evidence_index,
       c.evidence_blob AS copy_blob, c.evidence_index AS copy_index
FROM ranked AS r
JOIN copies AS c USING (event_uid)
WHERE c.in_lake OR r.occurrence > 1
