-- id: KU-003
-- title: Daily use of a classed key far above its baseline
-- family: key_use
-- severity: medium
-- gdpr: Art. 32; Art. 33
-- requires: any of cloudtrail, azure_resource
-- policy: classed_keys
-- baseline: yes
-- description: Counts successful cryptographic calls (KMS, Key Vault) per classed key per UTC day and compares each day of
--   the window with the key's daily counts in the look-back baseline. A day above mean + anomaly_k standard
--   deviations (the deviation floored at 10% of the mean) is reported; keys with fewer than 3 baseline days
--   are not judged. Bulk decryption is how data leaves an encrypted store.
-- reason: {calls} calls on {day}; the baseline mean is {baseline_mean} a day and the limit (mean + {anomaly_k}σ)
--   is {limit_calls}
-- remediation: Identify the callers behind the spike (the evidence) and whether the volume matches a known
--   job; throttle or revoke the principals that do not.
WITH used AS (
    SELECT e.key_id, e.actor, e.time, e.event_uid, e.region,
           e.time >= getvariable('window_since') AS in_window
    FROM lake_core AS e
    JOIN (SELECT DISTINCT key_id FROM key_class) AS kc ON kc.key_id = e.key_id
    WHERE e.action_class = 'key_use' AND e.outcome = 'success'
      AND e.time >= getvariable('baseline_since') AND e.time < getvariable('window_until')
),
daily AS (
    SELECT key_id, CAST(time AS DATE) AS day, in_window, count(*) AS calls FROM used GROUP BY ALL
),
baseline AS (
    SELECT key_id, avg(calls) AS mean, stddev_pop(calls) AS sd
    FROM daily WHERE NOT in_window GROUP BY key_id HAVING count(*) >= 3
),
spikes AS (
    SELECT d.key_id, d.day, d.calls, b.mean, b.mean + t.anomaly_k * greatest(b.sd, 0.1 * b.mean) AS limit_calls,
           t.anomaly_k
    FROM daily AS d JOIN baseline AS b USING (key_id) CROSS JOIN policy_thresholds AS t
    WHERE d.in_window AND d.calls > b.mean + t.anomaly_k * greatest(b.sd, 0.1 * b.mean)
)
SELECT
    s.key_id AS resource,
    CASE WHEN count(DISTINCT u.actor) = 1 THEN min(u.actor)
         ELSE CAST(count(DISTINCT u.actor) AS VARCHAR) || ' actors' END
        AS actor,
    min(u.region) AS region,
    NULL AS region_jurisdiction,
    CAST(NULL AS VARCHAR) AS counterpart_jurisdiction,
    min(u.time) AS first_seen,
    max(u.time) AS last_seen,
    count(*) AS event_count,
    s.calls,
    s.day,
    round(s.mean, 1) AS baseline_mean,
    s.anomaly_k,
    round(s.limit_calls, 1) AS limit_calls,
    list(u.event_uid ORDER BY u.time, u.event_uid) AS evidence
FROM spikes AS s
JOIN used AS u ON u.key_id = s.key_id AND CAST(u.time AS DATE) = s.day AND u.in_window
GROUP BY s.key_id, s.day, s.calls, s.mean, s.anomaly_k, s.limit_calls
