-- The retention of each classed Kafka topic (and MirrorMaker 2 copy) as the newest inventory snapshot in the
-- window shows it, beside the class's limit.
SELECT tc.class_name, tc.retention_days, t.cluster_id, t.region, t.topic, t.retention_ms, t.cleanup_policy,
       t.snapshot_time, t.event_uid,
       CASE WHEN NOT contains(coalesce(t.cleanup_policy, 'delete'), 'delete') THEN 'kept per key with no time limit'
            WHEN t.retention_ms = -1 THEN 'kept forever'
            ELSE CAST(round(t.retention_ms / 86400000, 1) AS VARCHAR) || ' days' END AS kept,
       contains(coalesce(t.cleanup_policy, 'delete'), 'delete') AND t.retention_ms BETWEEN 0
           AND CAST(tc.retention_days AS BIGINT) * 86400000 AS within_limit
FROM checks.kafka_topics AS t
JOIN checks.topic_class AS tc ON tc.topic = t.topic
QUALIFY row_number() OVER (PARTITION BY tc.class_name, t.cluster_id, t.topic ORDER BY t.snapshot_time DESC) = 1
ORDER BY tc.class_name, t.cluster_id, t.topic
