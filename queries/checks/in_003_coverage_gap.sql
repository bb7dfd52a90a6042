-- id: IN-003
-- title: Hours missing from an otherwise continuous audit record, or a record gone silent
-- family: integrity
-- severity: medium
-- gdpr: Art. 30; Art. 5(2)
-- requires: any of cloudtrail, azure_resource, azure_activity
-- description: For each source (CloudTrail, Azure resource logs, the Azure activity log), account (AWS
--   account, Azure subscription) and region that is busy (events in at least [thresholds] coverage_min_share
--   of the hours from its first to its last event in the window and the baseline before it, over a day or
--   more), every run of whole hours in the window with no event at all is reported: between two events;
--   after its last event up to where the collected record ends (what the ledger says was pulled, less the
--   [thresholds] delivery_delay_hours allowance), the trail whose delivery broke; and from the window's
--   start when it delivered in the baseline. A silent hour in a busy account means logging stopped,
--   delivery or a diagnostic setting failed, or the logs were not pulled. Sparse records (an activity log
--   with a few changes a day) are not busy enough to be judged.
-- reason: no {label} events {gap_description}
-- remediation: Check the trail's status and delivery (GetTrailStatus, the S3 bucket policy, the KMS key
--   grant) or the resource's diagnostic settings and export container for those hours, pull the missing
--   logs, or record why the account was quiet.
WITH allowance AS (
    SELECT INTERVAL (delivery_delay_hours) HOUR AS delay, delivery_delay_hours AS hours, coverage_min_share AS share
    FROM policy_thresholds
),
-- The window and the baseline before it: a unit's delivery is judged over both.
audited AS (
    SELECT source, account, region, time, event_uid FROM lake_core
    WHERE source IN ('cloudtrail', 'azure_resource', 'azure_activity') AND account IS NOT NULL
      AND region IS NOT NULL AND time >= getvariable('baseline_since') AND time < getvariable('window_until')
),
active AS (
    SELECT source, account, region, date_trunc('hour', time) AS hour,
           arg_min(event_uid, time) AS first_uid, arg_max(event_uid, time) AS last_uid, max(time) AS last_time
    FROM audited GROUP BY ALL
),
units AS (
    SELECT source, account, region, count(*) AS active_hours,
           datediff('hour', min(hour), max(hour)) + 1 AS own_hours,
           min(hour) FILTER (WHERE hour >= date_trunc('hour', getvariable('window_since'))) AS first_window_hour,
           max(last_time) FILTER (WHERE last_time >= getvariable('window_since')) AS last_window_time,
           max(last_time) AS last_time,
           bool_or(last_time < getvariable('window_since')) AS delivered_before
    FROM active GROUP BY ALL
),
-- Busy over its own span only: silence after its last event must not make a stopped trail look sparse.
busy AS (
    SELECT * FROM units
    WHERE own_hours >= 24 AND active_hours >= (SELECT share FROM allowance) * own_hours
),
-- Where each source's collected record around the window ends, and whether it covers the window's start.
collected AS (
    SELECT table_name AS source, least(max(until), getvariable('window_until')) AS collected_until,
           bool_or(since <= getvariable('window_since')) AS covers_start,
           nullif(array_to_string(list_sort(list_distinct(list(sources))), ', '), '') AS sources
    FROM collected_spans
    WHERE since < getvariable('window_until') AND until > getvariable('window_since')
    GROUP BY table_name
),
-- The whole hours judged: from the window's first whole hour when the unit delivered before the window and
-- the record covers it, else from the hour after its first event in the window; to the last whole hour
-- before the end of the collected record less the allowance, or at least to the hour before its last event.
judged AS (
    SELECT b.*, c.sources, c.collected_until,
           coalesce(b.delivered_before AND c.covers_start, false) AS from_window_start,
           CASE WHEN b.delivered_before AND c.covers_start
                THEN date_trunc('hour', getvariable('window_since'))
                     + CASE WHEN date_trunc('hour', getvariable('window_since')) = getvariable('window_since')
                            THEN INTERVAL 0 HOUR ELSE INTERVAL 1 HOUR END
                ELSE b.first_window_hour + INTERVAL 1 HOUR END AS first_hour,
           greatest(date_trunc('hour', b.last_window_time) - INTERVAL 1 HOUR,
                    date_trunc('hour', c.collected_until - (SELECT delay FROM allowance)) - INTERVAL 1 HOUR)
               AS last_hour
    FROM busy AS b LEFT JOIN collected AS c USING (source)
),
grid AS (
    SELECT j.source, j.account, j.region, h.hour, a.hour AS seen
    FROM (SELECT *, unnest(generate_series(first_hour, last_hour, INTERVAL 1 HOUR)) AS hour
          FROM judged WHERE first_hour <= last_hour) AS h
    JOIN judged AS j USING (source, account, region)
    LEFT JOIN active AS a ON a.source = h.source AND a.account = h.account AND a.region = h.region
                         AND a.hour = h.hour
),
runs AS (
    SELECT *, CAST(floor(epoch(hour) / 3600) AS BIGINT) - row_number() OVER (PARTITION BY source, account, region ORDER BY hour) AS run_id
    FROM grid WHERE seen IS NULL
),
gaps AS (
    SELECT source, account, region, min(hour) AS gap_start, max(hour) + INTERVAL 1 HOUR AS gap_end,
           count(*) AS hours_missing
    FROM runs GROUP BY source, account, region, run_id
),
described AS (
    SELECT g.*, j.active_hours, j.own_hours, j.sources, j.collected_until,
           CASE WHEN j.last_window_time IS NULL OR g.gap_start > j.last_window_time THEN 'end'
                WHEN j.from_window_start AND g.gap_start = j.first_hour THEN 'start'
                ELSE 'gap' END AS silence,
           (SELECT arg_max(a.last_uid, a.hour) FROM active AS a
            WHERE a.source = g.source AND a.account = g.account AND a.region = g.region AND a.hour < g.gap_start)
               AS before_uid,
           (SELECT max(a.last_time) FROM active AS a
            WHERE a.source = g.source AND a.account = g.account AND a.region = g.region AND a.hour < g.gap_start)
               AS before_time,
           (SELECT arg_min(a.first_uid, a.hour) FROM active AS a
            WHERE a.source = g.source AND a.account = g.account AND a.region = g.region AND a.hour >= g.gap_end)
               AS after_uid,
           CASE g.source WHEN 'cloudtrail' THEN 'CloudTrail' WHEN 'azure_resource' THEN 'Azure resource-log'
                         WHEN 'azure_activity' THEN 'Azure activity-log' ELSE g.source END AS label,
           round(100.0 * j.active_hours / j.own_hours, 1) AS busy_share
    FROM gaps AS g JOIN judged AS j USING (source, account, region)
)
SELECT
    d.account || '/' || d.region AS resource,
    NULL AS actor,
    d.region,
    (SELECT any_value(p.jurisdiction) FROM policy_regions AS p WHERE p.region = checks.region_key(d.region))
        AS region_jurisdiction,
    CAST(NULL AS VARCHAR) AS counterpart_jurisdiction,
    d.gap_start AS first_seen,
    d.gap_end AS last_seen,
    0 AS event_count,
    list_filter([d.before_uid, CASE WHEN d.silence <> 'end' THEN d.after_uid END], lambda x: x IS NOT NULL)
        AS evidence,
    d.hours_missing,
    d.silence,
    d.source,
    d.label,
    -- The three kinds of silence read as three sentences with their times in different places, which one
    -- template cannot say: the times are written here, as text, to the minute (a timestamp cast to text starts
    -- `YYYY-MM-DD HH:MM` in every engine; the session runs in UTC).
    CASE d.silence
        WHEN 'end' THEN
            'in account ' || d.account || ' region ' || d.region || ' since '
            || substr(CAST(d.before_time AS VARCHAR), 1, 16) || ' UTC, its last: silent for '
            || CAST(CAST(floor(CAST(epoch(d.collected_until) - epoch(d.before_time) AS BIGINT) / 3600) AS BIGINT)
                    AS VARCHAR)
            || ' hour(s) before the record collected by ' || coalesce(d.sources, 'its pulls') || ' ends at '
            || substr(CAST(d.collected_until AS VARCHAR), 1, 16) || ' UTC, beyond the '
            || CAST((SELECT hours FROM allowance) AS VARCHAR) || '-hour delivery allowance; delivery may have '
            || 'stopped (it had events in ' || CAST(d.busy_share AS VARCHAR) || '% of the hours before)'
        WHEN 'start' THEN
            'in account ' || d.account || ' region ' || d.region || ' for ' || CAST(d.hours_missing AS VARCHAR)
            || ' hour(s) from the start of the window, ' || substr(CAST(d.gap_start AS VARCHAR), 1, 13)
            || ':00 UTC, to ' || substr(CAST(d.gap_end AS VARCHAR), 1, 13) || ':00 UTC, though it delivered '
            || 'before the window (its last event before it at ' || substr(CAST(d.before_time AS VARCHAR), 1, 16)
            || ' UTC)'
        ELSE
            'for ' || CAST(d.hours_missing AS VARCHAR) || ' hour(s) from '
            || substr(CAST(d.gap_start AS VARCHAR), 1, 13) || ':00 to '
            || substr(CAST(d.gap_end AS VARCHAR), 1, 13) || ':00 UTC in account ' || d.account || ' region '
            || d.region || ', which has events in ' || CAST(d.busy_share AS VARCHAR) || '% of the hours'
    END AS gap_description
FROM described AS d
