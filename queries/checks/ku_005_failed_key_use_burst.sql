-- id: KU-005
-- title: A burst of failed key-use calls
-- family: key_use
-- severity: high
-- gdpr: Art. 32; Art. 33
-- requires: any of cloudtrail, azure_resource
-- description: A principal made at least [thresholds] key_failure_burst failed cryptographic calls
--   (KMS: AccessDenied, disabled or pending-deletion keys, invalid ciphertext; Key Vault: Forbidden,
--   Unauthorized and other HTTP errors) on one key within one hour. This is
--   what probing for decryptable data, or a broken workload after a key change, looks like. Every key is
--   watched, classed or not.
-- reason: {event_count} failed key-use calls within the hour from {burst_hour:%Y-%m-%d %H:00 UTC} ({error_codes}),
--   at least {key_failure_burst} is a burst
-- remediation: Identify the caller and what it tried to decrypt; if unexpected, revoke its credentials.
--   If it is a workload, fix its permissions before it retries into an outage.
SELECT
    e.key_id AS resource,
    checks.principal(e.actor) AS actor,
    e.region,
    any_value(r.jurisdiction) AS region_jurisdiction,
    CAST(NULL AS VARCHAR) AS counterpart_jurisdiction,
    min(e.time) AS first_seen,
    max(e.time) AS last_seen,
    count(*) AS event_count,
    date_trunc('hour', min(e.time)) AS burst_hour,
    array_to_string(list_sort(list_distinct(list(e.error_code))), ', ') AS error_codes,
    any_value(t.key_failure_burst) AS key_failure_burst,
    list(e.event_uid ORDER BY e.time, e.event_uid) AS evidence
FROM events_geo AS e
CROSS JOIN policy_thresholds AS t
LEFT JOIN policy_regions AS r ON r.region = checks.region_key(e.region)
WHERE e.action_class = 'key_use' AND e.outcome = 'failure' AND e.key_id IS NOT NULL
GROUP BY e.key_id, checks.principal(e.actor), e.region, date_trunc('hour', e.time)
HAVING count(*) >= any_value(t.key_failure_burst)
