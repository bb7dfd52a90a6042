-- id: EG-003
-- title: Daily bytes out of a data class far above its baseline
-- family: egress
-- severity: medium
-- gdpr: Art. 32; Art. 33
-- requires: any of cloudtrail, azure_resource
-- policy: classed_resources
-- baseline: yes
-- description: For each data class, the bytes sent from its resources per UTC day in the window are compared
--   with the days of the look-back baseline ([thresholds] baseline_days before the window). A day above
--   mean + anomaly_k standard deviations is reported. The deviation is floored at 10% of the mean so that
--   a flat baseline does not turn every small rise into a finding; classes with fewer than 3 baseline
--   days are not judged.
-- reason: {data_class} sent {bytes:,} bytes on {day}; the baseline mean is {baseline_mean:,} bytes a day and the
--   limit (mean + {anomaly_k}σ) is {limit_bytes:,}
-- remediation: Find out which actors and objects account for the spike (the evidence lists the transfers)
--   and whether it was an authorised export, a backup, or exfiltration.
WITH classed AS (
    SELECT rc.class_name, e.time, e.bytes_out, e.event_uid, e.actor, e.region, e.resource,
           e.time >= getvariable('window_since') AS in_window
    FROM lake_core AS e
    JOIN resource_class AS rc ON rc.resource = e.resource
    WHERE e.time >= getvariable('baseline_since') AND e.time < getvariable('window_until')
),
daily AS (
    SELECT class_name, CAST(time AS DATE) AS day, in_window, coalesce(sum(bytes_out), 0) AS bytes
    FROM classed GROUP BY ALL
),
baseline AS (
    SELECT class_name, avg(bytes) AS mean, stddev_pop(bytes) AS sd, count(*) AS days
    FROM daily WHERE NOT in_window GROUP BY class_name HAVING count(*) >= 3
),
spikes AS (
    SELECT d.class_name, d.day, d.bytes, b.mean,
           b.mean + t.anomaly_k * greatest(b.sd, 0.1 * b.mean) AS limit_bytes, t.anomaly_k
    FROM daily AS d
    JOIN baseline AS b USING (class_name)
    CROSS JOIN policy_thresholds AS t
    WHERE d.in_window AND d.bytes > b.mean + t.anomaly_k * greatest(b.sd, 0.1 * b.mean)
)
SELECT
    CASE WHEN count(DISTINCT checks.resource_root(c.resource)) = 1 THEN min(checks.resource_root(c.resource))
         ELSE min(checks.resource_root(c.resource)) || ' and '
              || CAST(count(DISTINCT checks.resource_root(c.resource)) - 1 AS VARCHAR) || ' more' END AS resource,
    CASE WHEN count(DISTINCT c.actor) = 1 THEN min(c.actor)
         ELSE CAST(count(DISTINCT c.actor) AS VARCHAR) || ' actors' END AS actor,
    min(c.region) AS region,
    NULL AS region_jurisdiction,
    CAST(NULL AS VARCHAR) AS counterpart_jurisdiction,
    min(c.time) AS first_seen,
    max(c.time) AS last_seen,
    count(*) AS event_count,
    list(c.event_uid ORDER BY c.time, c.event_uid) FILTER (WHERE c.bytes_out > 0) AS evidence,
    s.class_name AS data_class,
    s.bytes,
    s.day,
    CAST(round(s.mean) AS BIGINT) AS baseline_mean,
    s.anomaly_k,
    CAST(round(s.limit_bytes) AS BIGINT) AS limit_bytes
FROM spikes AS s
JOIN classed AS c ON c.class_name = s.class_name AND CAST(c.time AS DATE) = s.day AND c.in_window
GROUP BY s.class_name, s.day, s.bytes, s.mean, s.anomaly_k, s.limit_bytes
