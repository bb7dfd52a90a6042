-- Events per UTC day and jurisdiction of the region that served them, for the chart.
SELECT CAST(time AS DATE) AS day, coalesce(jurisdiction, 'unknown') AS jurisdiction, count(*) AS events
FROM checks.events_geo
GROUP BY ALL
ORDER BY day, jurisdiction
