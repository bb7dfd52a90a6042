-- The evidence behind findings, one row per event: enough to fetch each record from the archive
-- (evidence_blob + evidence_index). $uids: the event_uids wanted.
SELECT event_uid, source, time, actor, src_ip, src_country, user_agent, region, action, outcome,
       evidence_blob, evidence_index
FROM checks.evidence_records
WHERE event_uid IN (SELECT unnest($uids))
