-- id: IN-003
-- title: Hours missing from an otherwise continuous CloudTrail record
-- family: integrity
-- severity: medium
-- gdpr: Art. 30; Art. 5(2)
-- requires: cloudtrail
-- description: For each account and region whose CloudTrail events cover at least [thresholds]
--   coverage_min_share of the hours from the first to the last hour of CloudTrail data in the window, every
--   run of hours with no event at all is reported. A silent hour in a busy account means logging stopped,
--   delivery failed, or the logs were not pulled.
-- remediation: Check the trail's status and delivery for those hours (GetTrailStatus, the S3 bucket),
--   pull the missing logs, or record why the account was quiet.
WITH span AS (
    SELECT date_trunc('hour', min(time)) AS first_hour, date_trunc('hour', max(time)) AS last_hour
    FROM core_events WHERE source = 'cloudtrail'
),
hours AS (
    SELECT unnest(generate_series(first_hour, last_hour, INTERVAL 1 HOUR)) AS hour FROM span
),
active AS (
    SELECT account, region, date_trunc('hour', time) AS hour, count(*) AS n,
           arg_min(event_uid, time) AS first_uid, arg_max(event_uid, time) AS last_uid
    FROM core_events WHERE source = 'cloudtrail' AND account IS NOT NULL AND region IS NOT NULL
    GROUP BY ALL
),
busy AS (
    SELECT account, region
    FROM active
    GROUP BY account, region
    HAVING count(*) >= (SELECT coverage_min_share FROM policy_thresholds) * (SELECT count(*) FROM hours)
       AND (SELECT count(*) FROM hours) >= 24
),
grid AS (
    SELECT b.account, b.region, h.hour, a.n
    FROM busy AS b CROSS JOIN hours AS h
    LEFT JOIN active AS a ON a.account = b.account AND a.region = b.region AND a.hour = h.hour
),
runs AS (
    SELECT *, h_index - row_number() OVER (PARTITION BY account, region ORDER BY hour) AS run_id
    FROM (SELECT *, epoch(hour) // 3600 AS h_index FROM grid) WHERE n IS NULL
),
gaps AS (
    SELECT account, region, min(hour) AS gap_start, max(hour) + INTERVAL 1 HOUR AS gap_end, count(*) AS hours_missing
    FROM runs GROUP BY account, region, run_id
)
SELECT
    g.account || '/' || g.region AS resource,
    NULL AS actor,
    g.region,
    any_value(p.jurisdiction) AS jurisdiction,
    g.gap_start AS first_seen,
    g.gap_end AS last_seen,
    0 AS event_count,
    format('no CloudTrail events for {} hour(s) from {} to {} in account {} region {}, which has events in {}% of the hours',
           g.hours_missing, strftime(g.gap_start, '%Y-%m-%d %H:00'), strftime(g.gap_end, '%Y-%m-%d %H:00 UTC'),
           g.account, g.region,
           round(100.0 * (SELECT count(*) FROM active AS a WHERE a.account = g.account AND a.region = g.region)
                 / (SELECT count(*) FROM hours))) AS reason,
    [x FOR x IN [
        (SELECT arg_max(a.last_uid, a.hour) FROM active AS a
         WHERE a.account = g.account AND a.region = g.region AND a.hour < g.gap_start),
        (SELECT arg_min(a.first_uid, a.hour) FROM active AS a
         WHERE a.account = g.account AND a.region = g.region AND a.hour >= g.gap_end)] IF x IS NOT NULL] AS evidence,
    g.hours_missing
FROM gaps AS g
LEFT JOIN policy_regions AS p ON p.region = checks.region_key(g.region)
GROUP BY ALL
