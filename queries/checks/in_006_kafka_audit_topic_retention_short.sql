-- id: IN-006
-- title: The Kafka audit-log topic keeps events for less than the evidence period
-- family: integrity
-- severity: high
-- gdpr: Art. 30; Art. 5(2)
-- requires: kafka_topics
-- policy: evidence_period
-- description: An inventory snapshot in the window shows an audit-log topic (confluent-audit-log-events,
--   a route topic named after it, or the topic of a kafka-audit source in the config) whose `retention.ms`
--   deletes events before the evidence period the organisation declares ([organisation]
--   evidence_period_days) has passed. Unless every event is pulled into the lake before then, the
--   evidence of that period is lost. A `retention.bytes` limit can delete even sooner, and is named.
-- reason: audit-log topic {topic} on cluster {cluster} deletes events after {retention_days} days
--   (retention.ms={retention_ms}){size_limit}, before the {evidence_period_days}-day evidence period the
--   organisation declares
-- remediation: Raise retention.ms on the audit-log topic to at least evidence_period_days × 86,400,000, or
--   -1 with an archive, and pull it into the lake more often than it expires.
SELECT
    t.cluster_id || '/' || t.topic AS resource,
    CAST(NULL AS VARCHAR) AS actor,
    t.region,
    any_value(r.jurisdiction) AS region_jurisdiction,
    CAST(NULL AS VARCHAR) AS counterpart_jurisdiction,
    min(t.snapshot_time) AS first_seen,
    max(t.snapshot_time) AS last_seen,
    count(*) AS event_count,
    list(t.event_uid ORDER BY t.snapshot_time, t.event_uid) AS evidence,
    t.topic,
    t.cluster_id AS cluster,
    round(t.retention_ms / 86400000, 1) AS retention_days,
    t.retention_ms,
    CASE WHEN t.retention_bytes > 0 THEN ', or beyond ' || CAST(t.retention_bytes AS VARCHAR) || ' bytes per partition'
         ELSE '' END AS size_limit,
    any_value(p.evidence_period_days) AS evidence_period_days
FROM kafka_topics AS t
CROSS JOIN policy_thresholds AS p
LEFT JOIN policy_regions AS r ON r.region = checks.region_key(t.region)
WHERE checks.is_audit_topic(t.topic)
  AND contains(coalesce(t.cleanup_policy, 'delete'), 'delete')
  AND t.retention_ms >= 0
  AND t.retention_ms < p.evidence_period_days * 86400000
GROUP BY t.cluster_id, t.topic, t.region, t.retention_ms, t.retention_bytes
