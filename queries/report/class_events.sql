-- Each event of the window that touched a data class, through its resource, its key or (Kafka) its topic,
-- once per class. Runs in a check session (the checks schema and the policy tables).
SELECT DISTINCT rc.class_name, rc.home, e.*
FROM checks.events_geo AS e
JOIN checks.resource_class AS rc ON rc.resource = e.resource
UNION
SELECT DISTINCT kc.class_name, kc.home, e.*
FROM checks.events_geo AS e
JOIN checks.key_class AS kc ON kc.key_id = e.key_id
UNION
SELECT DISTINCT tc.class_name, tc.home, e.*
FROM checks.events_geo AS e
JOIN checks.topic_class AS tc ON tc.topic = checks.kafka_topic(e.resource)
WHERE e.source = 'kafka_audit'
