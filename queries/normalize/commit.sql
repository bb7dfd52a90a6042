-- The rows a pull commits: staged rows without a problem, first occurrence of each event_uid in
-- this pull, minus event_uids already in the lake, with src_country looked up offline.
-- Tables bound by sovaudit.ingest.run: stage, ip_country, existing_uids.
SELECT stage.* EXCLUDE (_problem, _blob_seq, src_country), ip_country.country AS src_country
FROM stage
LEFT JOIN ip_country ON stage.src_ip = ip_country.ip
WHERE stage._problem IS NULL
  AND stage.event_uid NOT IN (SELECT event_uid FROM existing_uids)
QUALIFY row_number() OVER (PARTITION BY stage.event_uid ORDER BY stage._blob_seq, stage.evidence_index) = 1
