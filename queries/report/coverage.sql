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
calendar_times AS (
    SELECT source, unnest(generate_series(first_day, last_day, INTERVAL 1 DAY)) AS day_start FROM span
),
calendar AS (
    SELECT source, CAST(day_start AS DATE) AS day FROM calendar_times
),
gaps AS (
    SELECT c.source, list(c.day ORDER BY c.day) AS gap_days
    FROM calendar AS c
    LEFT JOIN days AS d ON d.source = c.source AND d.day = c.day
    WHERE d.day IS NULL
    GROUP BY c.source
),
-- a record may name no account or region (an activity-log change at subscription scope has no location)
accounts AS (
    SELECT source, list(DISTINCT account ORDER BY account) AS accounts FROM records WHERE account IS NOT NULL
    GROUP BY source
),
regions AS (
    SELECT source, list(DISTINCT region ORDER BY region) AS regions FROM records WHERE region IS NOT NULL
    GROUP BY source
)
SELECT s.source, a.accounts, r.regions, g.gap_days
FROM span AS s
LEFT JOIN accounts AS a ON a.source = s.source
LEFT JOIN regions AS r ON r.source = s.source
LEFT JOIN gaps AS g ON g.source = s.source
ORDER BY s.source
