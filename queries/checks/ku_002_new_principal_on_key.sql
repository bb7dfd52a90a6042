-- id: KU-002
-- title: A principal used a classed key for the first time
-- family: key_use
-- severity: medium
-- gdpr: Art. 32
-- requires: any of cloudtrail, azure_resource
-- policy: classed_keys
-- baseline: yes
-- description: A principal successfully used a data class's key (a KMS key, or a Key Vault key: KeyDecrypt,
--   KeyUnwrap, KeySign …) in the window but never in the look-back baseline, while the key itself was in use during the baseline. Keys with no baseline use are not
--   judged, since every caller would look new.
-- reason: {actor} first used this {data_class} key on {first_seen:%Y-%m-%d} ({event_count} call(s) in the window:
--   {actions}); it had not used it in the baseline
-- remediation: Confirm the new principal is meant to decrypt this class's data; if not, remove it from the
--   key policy and grants (Key Vault: its access policy or role assignment) and review what it decrypted.
WITH used AS (
    SELECT e.key_id, checks.principal(e.actor) AS actor, e.time, e.event_uid, e.region, e.action,
           e.time >= getvariable('window_since') AS in_window
    FROM lake_core AS e
    JOIN key_class AS kc ON kc.key_id = e.key_id
    WHERE e.action_class = 'key_use' AND e.outcome = 'success' AND e.actor IS NOT NULL
      AND e.time >= getvariable('baseline_since') AND e.time < getvariable('window_until')
),
baseline_keys AS (SELECT DISTINCT key_id FROM used WHERE NOT in_window),
baseline_pairs AS (SELECT DISTINCT key_id, actor FROM used WHERE NOT in_window)
SELECT
    u.key_id AS resource,
    u.actor,
    min(u.region) AS region,
    NULL AS region_jurisdiction,
    CAST(NULL AS VARCHAR) AS counterpart_jurisdiction,
    min(u.time) AS first_seen,
    max(u.time) AS last_seen,
    count(*) AS event_count,
    array_to_string(list_sort(list_distinct(list(u.action))), ', ') AS actions,
    list(u.event_uid ORDER BY u.time, u.event_uid) AS evidence,
    min(kc.class_name) AS data_class
FROM used AS u
JOIN baseline_keys USING (key_id)
JOIN key_class AS kc ON kc.key_id = u.key_id
WHERE u.in_window
  AND NOT EXISTS (SELECT 1 FROM baseline_pairs AS b WHERE b.key_id = u.key_id AND b.actor = u.actor)
GROUP BY u.key_id, u.actor
