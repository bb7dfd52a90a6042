-- Every event behind every finding of one check, in finding order then time order. `checks.finding_view`
-- is replaced by the check's view; $check_id labels the rows.
WITH findings AS (
    SELECT row_number() OVER (ORDER BY first_seen, resource, reason) AS finding, resource, reason, evidence
    FROM checks.finding_view
),
cited AS (
    SELECT finding, resource, reason, unnest(evidence) AS event_uid, unnest(generate_series(1, len(evidence))) AS n
    FROM findings
)
SELECT $check_id AS check_id, c.finding, c.resource, c.reason, c.event_uid, e.source, e.time, e.actor, e.src_ip,
       e.src_country, e.user_agent, e.region, e.action, e.outcome, e.evidence_blob, e.evidence_index
FROM cited AS c
LEFT JOIN checks.evidence_records AS e ON e.event_uid = c.event_uid
ORDER BY c.finding, c.n
