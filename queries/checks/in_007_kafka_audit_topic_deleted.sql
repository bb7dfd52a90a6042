-- id: IN-007
-- title: The Kafka audit-log topic deleted or truncated
-- family: integrity
-- severity: critical
-- gdpr: Art. 30; Art. 32; Art. 5(2)
-- requires: kafka_audit
-- description: kafka.DeleteTopics or kafka.DeleteRecords was called on an audit-log topic
--   (confluent-audit-log-events, a route topic named after it, or the topic of a kafka-audit source in the
--   config). Either destroys the audit trail this evidence rests on, so denied attempts are reported too.
-- remediation: Recreate the topic and restore its events from the lake or an archive, find out who did it
--   and why, and deny Delete on the audit-log topics to everyone but a break-glass principal.
WITH deletions AS (
    SELECT a.*, checks.kafka_topic(a.resource) AS topic
    FROM kafka_audit AS a
    WHERE a.action IN ('kafka.DeleteTopics', 'kafka.DeleteRecords')
)
SELECT
    d.resource,
    d.actor,
    d.region,
    any_value(r.jurisdiction) AS jurisdiction,
    min(d.time) AS first_seen,
    max(d.time) AS last_seen,
    count(*) AS event_count,
    format('{} on audit-log topic {} of cluster {} {} by {} from {}',
           string_agg(DISTINCT d.action, ' and ' ORDER BY d.action), d.topic, d.account,
           CASE WHEN d.outcome = 'success' THEN 'granted'
                ELSE 'attempted and denied (' || string_agg(DISTINCT d.error_code, ', ') || ')' END,
           d.actor, coalesce(min(d.src_ip), 'an unknown address')) AS reason,
    list(d.event_uid ORDER BY d.time, d.event_uid) AS evidence
FROM deletions AS d
LEFT JOIN policy_regions AS r ON r.region = checks.region_key(d.region)
WHERE d.topic IN (SELECT topic FROM policy_audit_topics) OR starts_with(d.topic, 'confluent-audit-log-events')
GROUP BY d.resource, d.topic, d.account, d.actor, d.region, d.outcome
