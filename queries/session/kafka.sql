-- The `checks` schema, Kafka's part (see common.sql for the load order and the event-like views).

-- The topic an audit event is about: crn://…/kafka=CLUSTER/topic=NAME -> NAME (NULL for groups, clusters …).
CREATE OR REPLACE MACRO checks.kafka_topic(crn) AS nullif(regexp_extract(crn, '/topic=([^/]+)$', 1), '');

-- A MirrorMaker 2 client: MM2 sets client.id to `[user id|]SOURCE->TARGET|CONNECTOR[|role]`, so its
-- replication consumer names the flow. Returns {source, target, connector}, or NULL for other clients.
CREATE OR REPLACE MACRO checks.mirror_flow(client_id) AS
    CASE WHEN regexp_matches(coalesce(client_id, ''), '(^|\|)[^|>]+->[^|]+\|Mirror[A-Za-z]*Connector')
         THEN regexp_extract(client_id, '(?:^|\|)([^|>]+)->([^|]+)\|(Mirror[A-Za-z]*Connector)',
                             ['source', 'target', 'connector']) END;

-- A Kafka audit-log topic: confluent-audit-log-events, a route topic named after it, or a kafka-audit
-- source's topic in the config.
CREATE OR REPLACE MACRO checks.is_audit_topic(name) AS
    starts_with(name, 'confluent-audit-log-events') OR name IN (SELECT topic FROM policy_audit_topics);

-- Each classed Kafka topic, once per class. A MirrorMaker 2 remote topic (`<alias>.<topic>` in a cluster's
-- inventory) holds a copy of its source topic's data, so it is classed like the source as well.
CREATE OR REPLACE VIEW checks.topic_class AS
WITH names AS (
    SELECT DISTINCT checks.kafka_topic(resource) AS topic, checks.kafka_topic(resource) AS classed_as
    FROM checks.lake_core WHERE source = 'kafka_audit' AND checks.kafka_topic(resource) IS NOT NULL
    UNION
    SELECT topic, topic FROM main.kafka_topics
    UNION
    SELECT topic, mirrored_topic FROM main.kafka_topics WHERE mm2_role = 'remote_topic'
    UNION
    SELECT DISTINCT topic, topic FROM main.kafka_lineage
)
SELECT names.topic, c.class_name, c.home, c.tier, c.retention_days, min(p.pattern) AS pattern,
       bool_or(names.topic <> names.classed_as) AS via_mirror
FROM names
JOIN policy_class_patterns AS p ON p.kind = 'topic' AND names.classed_as LIKE p.like_pattern ESCAPE '!' AND (p.like_exact OR regexp_matches(names.classed_as, p.regex))
JOIN policy_data_classes AS c USING (class_name)
GROUP BY ALL;

-- Where something named by a region code, an Azure location or a country code is: for lineage headers such
-- as region_origin, which producers fill in their own way.
CREATE OR REPLACE MACRO checks.place_jurisdiction(place) AS
    coalesce((SELECT r.jurisdiction FROM policy_regions AS r WHERE r.region = checks.region_key(place)),
             (SELECT c.jurisdiction FROM policy_countries AS c WHERE c.country = upper(trim(place))));
