-- Per source: the accounts and regions seen in the window, and the UTC days inside the source's span that
-- have no event at all (gaps).
WITH days AS (
    SELECT source, CAST(time AS DATE) AS day, count(*) AS events FROM checks.core_events GROUP BY ALL
),
span AS (
    SELECT source, min(day) AS first_day, max(day) AS last_day FROM days GROUP BY source
),
calendar AS (
    SELECT source, unnest(generate_series(first_day, last_day, INTERVAL 1 DAY))::DATE AS day FROM span
)
SELECT s.source,
       (SELECT list(DISTINCT account ORDER BY account) FROM checks.core_events e WHERE e.source = s.source) AS accounts,
       (SELECT list(DISTINCT region ORDER BY region) FROM checks.core_events e WHERE e.source = s.source) AS regions,
       (SELECT list(c.day ORDER BY c.day) FROM calendar c
        WHERE c.source = s.source AND NOT EXISTS (
            SELECT 1 FROM days d WHERE d.source = c.source AND d.day = c.day)) AS gap_days
FROM span AS s
ORDER BY s.source
