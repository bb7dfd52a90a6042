-- id: IN-003
-- title: Hours missing from an otherwise continuous audit record
-- family: integrity
-- severity: medium
-- gdpr: Art. 30; Art. 5(2)
-- requires: any of cloudtrail, azure_resource, azure_activity
-- description: For each source (CloudTrail, Azure resource logs, the Azure activity log), account (AWS
--   account, Azure subscription) and region whose events cover at least [thresholds] coverage_min_share of
--   the hours from the first to the last hour of that source's data in the window, every run of hours with
--   no event at all is reported (the partial hours at the window's edges are not judged). A silent hour in a busy account means logging stopped, delivery or a
--   diagnostic setting failed, or the logs were not pulled. Sparse records (an activity log with a few
--   changes a day) are not busy enough to be judged.
-- remediation: Check the trail's status and delivery (GetTrailStatus, the S3 bucket) or the resource's
--   diagnostic settings and export container for those hours, pull the missing logs, or record why the
--   account was quiet.
WITH audited AS (
    SELECT source, account, region, time, event_uid FROM events_geo
    WHERE source IN ('cloudtrail', 'azure_resource', 'azure_activity')
),
-- The first and last hours are cut by the window's edges, so only the whole hours between them are judged.
span AS (
    SELECT source, date_trunc('hour', min(time)) + INTERVAL 1 HOUR AS first_hour,
           date_trunc('hour', max(time)) - INTERVAL 1 HOUR AS last_hour
    FROM audited GROUP BY source
),
hours AS (
    SELECT source, unnest(generate_series(first_hour, last_hour, INTERVAL 1 HOUR)) AS hour FROM span
),
hour_counts AS (
    SELECT source, count(*) AS n FROM hours GROUP BY source
),
active AS (
    SELECT source, account, region, date_trunc('hour', time) AS hour, count(*) AS n,
           arg_min(event_uid, time) AS first_uid, arg_max(event_uid, time) AS last_uid
    FROM audited JOIN span USING (source)
    WHERE account IS NOT NULL AND region IS NOT NULL AND time >= first_hour AND time < last_hour + INTERVAL 1 HOUR
    GROUP BY ALL
),
busy AS (
    SELECT a.source, a.account, a.region, count(*) AS active_hours, any_value(h.n) AS span_hours
    FROM active AS a JOIN hour_counts AS h USING (source)
    GROUP BY a.source, a.account, a.region
    HAVING count(*) >= (SELECT coverage_min_share FROM policy_thresholds) * any_value(h.n)
       AND any_value(h.n) >= 24
),
grid AS (
    SELECT b.source, b.account, b.region, h.hour, a.n
    FROM busy AS b JOIN hours AS h USING (source)
    LEFT JOIN active AS a ON a.source = b.source AND a.account = b.account AND a.region = b.region
                         AND a.hour = h.hour
),
runs AS (
    SELECT *, h_index - row_number() OVER (PARTITION BY source, account, region ORDER BY hour) AS run_id
    FROM (SELECT *, epoch(hour) // 3600 AS h_index FROM grid) WHERE n IS NULL
),
gaps AS (
    SELECT source, account, region, min(hour) AS gap_start, max(hour) + INTERVAL 1 HOUR AS gap_end,
           count(*) AS hours_missing
    FROM runs GROUP BY source, account, region, run_id
)
SELECT
    g.account || '/' || g.region AS resource,
    NULL AS actor,
    g.region,
    (SELECT any_value(p.jurisdiction) FROM policy_regions AS p WHERE p.region = checks.region_key(g.region))
        AS region_jurisdiction,
    CAST(NULL AS VARCHAR) AS counterpart_jurisdiction,
    g.gap_start AS first_seen,
    g.gap_end AS last_seen,
    0 AS event_count,
    format('no {} events for {} hour(s) from {} to {} in account {} region {}, which has events in {}% of the hours',
           CASE g.source WHEN 'cloudtrail' THEN 'CloudTrail' WHEN 'azure_resource' THEN 'Azure resource-log'
                         WHEN 'azure_activity' THEN 'Azure activity-log' ELSE g.source END,
           g.hours_missing, strftime(g.gap_start, '%Y-%m-%d %H:00'), strftime(g.gap_end, '%Y-%m-%d %H:00 UTC'),
           g.account, g.region, round(100.0 * b.active_hours / b.span_hours, 1)) AS reason,
    [x FOR x IN [
        (SELECT arg_max(a.last_uid, a.hour) FROM active AS a
         WHERE a.source = g.source AND a.account = g.account AND a.region = g.region AND a.hour < g.gap_start),
        (SELECT arg_min(a.first_uid, a.hour) FROM active AS a
         WHERE a.source = g.source AND a.account = g.account AND a.region = g.region AND a.hour >= g.gap_end)]
     IF x IS NOT NULL] AS evidence,
    g.hours_missing,
    g.source
FROM gaps AS g
JOIN busy AS b ON b.source = g.source AND b.account = g.account AND b.region = g.region
