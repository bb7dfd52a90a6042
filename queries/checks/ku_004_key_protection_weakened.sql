-- id: KU-004
-- title: Protection of a classed key weakened
-- family: key_use
-- severity: critical
-- gdpr: Art. 32
-- requires: cloudtrail
-- policy: classed_keys
-- report: key_weakening
-- description: A data class's key was scheduled for deletion, disabled, had rotation turned off, had its key
--   policy replaced, or was granted to a principal of another account. Deleting or disabling a key makes the
--   data unreadable (an availability breach); policies and grants widen who can decrypt it.
-- reason: {action} key (class {data_class}): {changes}
-- remediation: Cancel the deletion (CancelKeyDeletion) or re-enable the key, review the new key policy,
--   retire foreign grants, and confirm each change with its owner.
WITH changes AS (
    SELECT ct.event_uid, ct.time, checks.principal(ct.actor) AS actor, ct.region, ct.key_id, ct.action,
           ct.grantee_principal AS grantee,
           regexp_extract(ct.key_id, '^arn:aws[a-z-]*:kms:[a-z0-9-]+:([0-9]{12}):', 1) AS key_account,
           ct.pending_window_in_days AS pending_days
    FROM cloudtrail_changes AS ct
    WHERE ct.event_name IN ('ScheduleKeyDeletion', 'DisableKey', 'DisableKeyRotation', 'PutKeyPolicy', 'CreateGrant')
      AND ct.outcome = 'success' AND ct.key_id IS NOT NULL
),
weakening AS (
    SELECT *,
           CASE action
               WHEN 'ScheduleKeyDeletion' THEN 'deletion scheduled' || coalesce(' in ' || pending_days || ' days', '')
               WHEN 'DisableKey' THEN 'key disabled'
               WHEN 'DisableKeyRotation' THEN 'automatic rotation turned off'
               WHEN 'PutKeyPolicy' THEN 'key policy replaced'
               WHEN 'CreateGrant' THEN 'grant to ' || grantee || ' of another account'
           END AS what
    FROM changes
    WHERE action <> 'CreateGrant'
       OR (grantee IS NOT NULL AND key_account <> ''
           AND regexp_extract(grantee, '([0-9]{12})', 1) NOT IN ('', key_account))
)
SELECT
    w.key_id AS resource,
    w.actor AS actor,
    w.region,
    r.jurisdiction AS region_jurisdiction,
    CAST(NULL AS VARCHAR) AS counterpart_jurisdiction,
    min(w.time) AS first_seen,
    max(w.time) AS last_seen,
    count(*) AS event_count,
    w.action,
    array_to_string(list_sort(list_distinct(list(w.what))), '; ') AS changes,
    list(w.event_uid ORDER BY w.time, w.event_uid) AS evidence,
    kc.class_name AS data_class
FROM weakening AS w
JOIN key_class AS kc ON kc.key_id = w.key_id
LEFT JOIN policy_regions AS r ON r.region = checks.region_key(w.region)
GROUP BY w.key_id, w.actor, w.region, r.jurisdiction, w.action, kc.class_name
