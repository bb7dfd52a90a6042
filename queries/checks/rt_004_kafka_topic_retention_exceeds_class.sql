-- id: RT-004
-- title: A classed Kafka topic keeps messages longer than its class's retention
-- family: retention
-- severity: high
-- gdpr: Art. 5(1)(e); Art. 30(1)(f)
-- requires: kafka_topics
-- policy: classed_topics
-- description: An inventory snapshot in the window shows a topic of a data class (or a MirrorMaker 2 copy
--   of one) whose `retention.ms` is longer than the class's retention_days, or -1 (kept forever), while
--   `cleanup.policy` deletes by time; or whose `cleanup.policy` is `compact` alone, which keeps the latest
--   message of every key with no time limit. `retention.bytes` can delete sooner but promises nothing, so
--   it does not excuse a long `retention.ms`.
-- reason: topic {topic} on cluster {cluster_id}: {why}
-- remediation: Set retention.ms to at most retention_days × 86,400,000 on the topic (kafka-configs
--   --alter --entity-type topics --add-config retention.ms=…), or add `delete` to a compacted topic's
--   cleanup.policy; document any legal hold that justifies keeping data longer.
WITH judged AS (
    SELECT t.*, tc.class_name, tc.home, tc.retention_days,
           CASE
               WHEN NOT contains(coalesce(t.cleanup_policy, 'delete'), 'delete')
                   THEN 'cleanup.policy=' || t.cleanup_policy || ': the latest message of every key is kept with no '
                        || 'time limit; ' || tc.class_name || ' data must be deleted after '
                        || CAST(tc.retention_days AS VARCHAR) || ' days'
               WHEN t.retention_ms = -1
                   THEN 'retention.ms=-1: messages are kept forever; ' || tc.class_name
                        || ' data must be deleted after ' || CAST(tc.retention_days AS VARCHAR) || ' days'
               WHEN t.retention_ms > CAST(tc.retention_days AS BIGINT) * 86400000
                   THEN 'retention.ms=' || CAST(t.retention_ms AS VARCHAR) || ' keeps messages '
                        || CAST(round(t.retention_ms / 86400000, 1) AS VARCHAR) || ' days, longer than the '
                        || CAST(tc.retention_days AS VARCHAR) || ' days ' || tc.class_name || ' data may be kept'
           END AS why
    FROM kafka_topics AS t
    JOIN topic_class AS tc ON tc.topic = t.topic
)
SELECT
    j.cluster_id || '/' || j.topic AS resource,
    CAST(NULL AS VARCHAR) AS actor,
    j.region,
    r.jurisdiction AS region_jurisdiction,
    CAST(NULL AS VARCHAR) AS counterpart_jurisdiction,
    min(j.snapshot_time) AS first_seen,
    max(j.snapshot_time) AS last_seen,
    count(*) AS event_count,
    j.topic,
    j.cluster_id,
    j.why,
    j.retention_days,
    list(j.event_uid ORDER BY j.snapshot_time, j.event_uid) AS evidence,
    j.class_name AS data_class
FROM judged AS j
LEFT JOIN policy_regions AS r ON r.region = checks.region_key(j.region)
WHERE j.why IS NOT NULL
GROUP BY j.cluster_id, j.topic, j.region, r.jurisdiction, j.why, j.class_name, j.retention_days
