-- id: IN-007
-- title: The Kafka audit-log topic deleted or truncated
-- family: integrity
-- severity: critical
-- gdpr: Art. 30; Art. 32; Art. 5(2)
-- requires: any of kafka_audit, kafka_topics
-- description: kafka.DeleteTopics or kafka.DeleteRecords was called on an audit-log topic
--   (confluent-audit-log-events, a route topic named after it, or the topic of a kafka-audit source in the
--   config); denied attempts are reported too. Or an audit-log topic shown by a cluster's inventory snapshot
--   is missing from the cluster's next snapshot: deleted in between, whether or not the audit log could
--   record its own deletion. Either destroys the audit trail this evidence rests on.
-- reason: {calls}audit-log topic {topic} of cluster {cluster} {what_happened}
-- remediation: Recreate the topic and restore its events from the lake or an archive, find out who did it
--   and why, and deny Delete on the audit-log topics to everyone but a break-glass principal.
WITH deletions AS (
    SELECT a.*, checks.kafka_topic(a.resource) AS topic
    FROM kafka_audit AS a
    WHERE a.action IN ('kafka.DeleteTopics', 'kafka.DeleteRecords')
),
audited AS (
    SELECT
        d.resource,
        d.actor,
        d.region,
        any_value(r.jurisdiction) AS region_jurisdiction,
        CAST(NULL AS VARCHAR) AS counterpart_jurisdiction,
        min(d.time) AS first_seen,
        max(d.time) AS last_seen,
        count(*) AS event_count,
        list(d.event_uid ORDER BY d.time, d.event_uid) AS evidence,
        array_to_string(list_sort(list_distinct(list(d.action))), ' and ') || ' on ' AS calls,
        d.topic,
        d.account AS cluster,
        CASE WHEN d.outcome = 'success' THEN 'granted'
             ELSE 'attempted and denied ('
                  || nullif(array_to_string(list_sort(list_distinct(list(d.error_code))), ', '), '') || ')' END
            || ' by ' || d.actor || ' from ' || coalesce(min(d.src_ip), 'an unknown address') AS what_happened
    FROM deletions AS d
    LEFT JOIN policy_regions AS r ON r.region = checks.region_key(d.region)
    WHERE checks.is_audit_topic(d.topic)
    GROUP BY d.resource, d.topic, d.account, d.actor, d.region, d.outcome
),
snapshots AS (
    SELECT cluster_id, snapshot_time, min(event_uid) AS any_row,
           lead(snapshot_time) OVER (PARTITION BY cluster_id ORDER BY snapshot_time) AS next_time
    FROM kafka_topics
    GROUP BY cluster_id, snapshot_time
),
vanished AS (
    SELECT
        t.cluster_id || '/' || t.topic AS resource,
        CAST(NULL AS VARCHAR) AS actor,
        t.region,
        r.jurisdiction AS region_jurisdiction,
        CAST(NULL AS VARCHAR) AS counterpart_jurisdiction,
        t.snapshot_time AS first_seen,
        s.next_time AS last_seen,
        2 AS event_count,
        -- the last snapshot row that shows the topic, and a row of the next snapshot, which lacks it
        [t.event_uid, n.any_row] AS evidence,
        '' AS calls,
        t.topic,
        t.cluster_id AS cluster,
        -- The snapshots' times sit in the middle of this sentence and not of the other kind's, which one template
        -- cannot say: written here as text to the minute (a timestamp cast to text starts `YYYY-MM-DD HH:MM` in
        -- every engine; the session runs in UTC).
        'is in the inventory snapshot of ' || substr(CAST(t.snapshot_time AS VARCHAR), 1, 16)
            || ' UTC and missing from the next, of ' || substr(CAST(s.next_time AS VARCHAR), 1, 16)
            || ' UTC: deleted in between' AS what_happened
    FROM kafka_topics AS t
    JOIN snapshots AS s ON s.cluster_id = t.cluster_id AND s.snapshot_time = t.snapshot_time
    JOIN snapshots AS n ON n.cluster_id = t.cluster_id AND n.snapshot_time = s.next_time
    LEFT JOIN policy_regions AS r ON r.region = checks.region_key(t.region)
    WHERE checks.is_audit_topic(t.topic)
      AND NOT EXISTS (SELECT 1 FROM kafka_topics AS later
                      WHERE later.cluster_id = t.cluster_id AND later.snapshot_time = s.next_time
                        AND later.topic = t.topic)
)
SELECT * FROM audited
UNION ALL
SELECT * FROM vanished
