-- Every event behind every finding of one check, in finding order then time order. `evidence_cited` is
-- registered from Python: one row per cited event (finding: its number in the report and findings.csv,
-- finding_id, resource, reason, event_uid, n: its place in the finding's evidence list); $check_id labels
-- the rows.
SELECT $check_id AS check_id, c.finding_id, c.finding, c.resource, c.reason, c.event_uid, e.source, e.time,
       e.actor, e.src_ip, e.src_country, e.user_agent, e.region, e.action, e.outcome, e.evidence_blob,
       e.evidence_index
FROM evidence_cited AS c
LEFT JOIN checks.evidence_records AS e ON e.event_uid = c.event_uid
ORDER BY c.finding, c.n
