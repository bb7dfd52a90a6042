-- Where each data class was stored or processed: the regions that served its events, and the regions of the
-- Kafka clusters whose inventory snapshots in the window hold its topics (or MirrorMaker 2 copies of them).
-- Events and snapshot rows are counted apart: a snapshot row is a daily listing of a topic, not an access.
WITH located AS (
    SELECT class_name, region, jurisdiction, time, 'event' AS kind FROM class_events WHERE region IS NOT NULL
    UNION ALL
    SELECT tc.class_name, t.region, r.jurisdiction, t.snapshot_time, 'snapshot'
    FROM checks.kafka_topics AS t
    JOIN checks.topic_class AS tc ON tc.topic = t.topic
    LEFT JOIN policy_regions AS r ON r.region = checks.region_key(t.region)
    WHERE t.region IS NOT NULL
)
SELECT class_name, region, jurisdiction, count(*) FILTER (WHERE kind = 'event') AS events,
       count(*) FILTER (WHERE kind = 'snapshot') AS snapshot_rows, min(time) AS first_seen, max(time) AS last_seen
FROM located
GROUP BY ALL
ORDER BY class_name, events DESC, snapshot_rows DESC, region
