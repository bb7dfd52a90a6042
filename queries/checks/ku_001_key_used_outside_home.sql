-- id: KU-001
-- title: A classed encryption key used through a region outside the class's home
-- family: key_use
-- severity: high
-- gdpr: Art. 32; Art. 44
-- requires: cloudtrail
-- policy: classed_keys
-- description: A key of a data class was used (Decrypt, GenerateDataKey*, ReEncrypt*, Encrypt and other
--   cryptographic calls) through a region whose jurisdiction is not the class's home or one of its allowed
--   transfers. A multi-region replica key (mrk-) is classed like the key it replicates, so decrypting with
--   a replica abroad is reported.
-- remediation: Remove replicas of the key outside the home jurisdiction, restrict kms:Decrypt by
--   aws:RequestedRegion, or declare the transfer.
SELECT
    e.key_id AS resource,
    checks.principal(e.actor) AS actor,
    e.region,
    e.jurisdiction,
    min(e.time) AS first_seen,
    max(e.time) AS last_seen,
    count(*) AS event_count,
    format('key of {} (home {}) used {} time(s) through {} ({}){}: {}',
           kc.class_name, kc.home, count(*), e.region, e.jurisdiction,
           CASE WHEN contains(e.key_id, ':key/mrk-') THEN ', a multi-region key' ELSE '' END,
           string_agg(DISTINCT e.action, ', ' ORDER BY e.action)) AS reason,
    list(e.event_uid ORDER BY e.time, e.event_uid) AS evidence,
    kc.class_name AS data_class
FROM events_geo AS e
JOIN key_class AS kc ON kc.key_id = e.key_id
WHERE e.action_class = 'key_use'
  AND e.outcome = 'success'
  AND e.jurisdiction IS NOT NULL
  AND e.jurisdiction <> kc.home
  AND NOT checks.transfer_allowed(kc.class_name, e.jurisdiction)
GROUP BY kc.class_name, kc.home, e.key_id, checks.principal(e.actor), e.region, e.jurisdiction
