-- Where each data class was stored or processed: the regions that served its events.
SELECT class_name, region, jurisdiction, count(*) AS events, min(time) AS first_seen, max(time) AS last_seen
FROM class_events
WHERE region IS NOT NULL
GROUP BY ALL
ORDER BY class_name, events DESC, region
