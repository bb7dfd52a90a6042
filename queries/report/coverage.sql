-- Per source: the accounts (Kafka: clusters) and regions seen in the window, and the UTC days inside the
-- source's span that have no record at all (gaps).
WITH records AS (
    SELECT * FROM checks.window_records
),
days AS (
    SELECT source, CAST(time AS DATE) AS day, count(*) AS events FROM records GROUP BY ALL
),
span AS (
    SELECT source, min(day) AS first_day, max(day) AS last_day FROM days GROUP BY source
),
calendar AS (
    SELECT source, unnest(generate_series(first_day, last_day, INTERVAL 1 DAY))::DATE AS day FROM span
)
SELECT s.source,
       -- a record may name no account or region (an activity-log change at subscription scope has no location)
       (SELECT list(DISTINCT account ORDER BY account) FROM records e WHERE e.source = s.source
                                                                        AND e.account IS NOT NULL) AS accounts,
       (SELECT list(DISTINCT region ORDER BY region) FROM records e WHERE e.source = s.source
                                                                      AND e.region IS NOT NULL) AS regions,
       (SELECT list(c.day ORDER BY c.day) FROM calendar c
        WHERE c.source = s.source AND NOT EXISTS (
            SELECT 1 FROM days d WHERE d.source = c.source AND d.day = c.day)) AS gap_days
FROM span AS s
ORDER BY s.source
