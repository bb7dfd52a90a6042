-- id: XR-004
-- title: A classed Kafka topic consumed from a country outside its home jurisdiction
-- family: cross_region
-- severity: high
-- gdpr: Art. 44; Art. 32
-- requires: kafka_audit
-- policy: classed_topics
-- description: A consumer whose address is registered to a country outside a class's home jurisdiction (and
--   outside its allowed transfers) was granted a fetch (kafka.FetchConsumer) from a topic of the class, or
--   from a MirrorMaker 2 copy of one. The country is the offline registry lookup of the client address in
--   the audit event, made at ingest; private addresses cannot be placed and are not judged. MirrorMaker 2's
--   replication consumers (client id SOURCE->TARGET|MirrorSourceConnector) are judged by EG-004.
-- reason: topic {topic} on cluster {cluster_id} ({data_class} data, home {home}) was consumed from {caller}, address
--   {src_ip}{other_addresses}, client id {client_ids}
-- remediation: Find the application behind the principal and client id; if it should not read the class
--   from abroad, remove its Read ACL on the topic or restrict the listener to the home network, or declare
--   the transfer and its safeguard.
WITH reads AS (
    SELECT a.event_uid, a.time, a.actor, a.account, a.region, a.resource, a.src_ip, a.src_country,
           a.user_agent AS client_id, checks.kafka_topic(a.resource) AS topic,
           coalesce(g.jurisdiction, country.jurisdiction) AS region_jurisdiction,
           g.src_jurisdiction, g.src_place AS caller
    FROM kafka_audit AS a
    -- the jurisdictions and the caller's place policy gives the event (lake_core); a cluster's region may also
    -- be configured as a country code
    JOIN events_geo AS g ON g.event_uid = a.event_uid AND g.source = 'kafka_audit'
    LEFT JOIN policy_countries AS country ON country.country = upper(trim(a.region))
    WHERE a.action = 'kafka.FetchConsumer' AND a.outcome = 'success' AND checks.mirror_flow(a.user_agent) IS NULL
)
SELECT
    r.resource,
    r.actor,
    r.region,
    r.region_jurisdiction,
    r.src_jurisdiction AS counterpart_jurisdiction,
    min(r.time) AS first_seen,
    max(r.time) AS last_seen,
    count(*) AS event_count,
    r.topic,
    r.account AS cluster_id,
    tc.home,
    r.caller,
    min(r.src_ip) AS src_ip,
    CASE WHEN count(DISTINCT r.src_ip) > 1
         THEN ' and ' || CAST(count(DISTINCT r.src_ip) - 1 AS VARCHAR) || ' other address(es)' ELSE '' END
        AS other_addresses,
    array_to_string(list_sort(list_distinct(list(coalesce(r.client_id, '(none)')))), ', ') AS client_ids,
    list(r.event_uid ORDER BY r.time, r.event_uid) AS evidence,
    tc.class_name AS data_class,
    r.src_country
FROM reads AS r
JOIN topic_class AS tc ON tc.topic = r.topic
WHERE r.src_jurisdiction IS NOT NULL
  AND r.src_jurisdiction <> tc.home
  AND NOT checks.transfer_allowed(tc.class_name, r.src_jurisdiction)
GROUP BY r.resource, r.topic, r.account, r.actor, r.region, r.region_jurisdiction, r.src_country, r.src_jurisdiction, r.caller, tc.class_name,
         tc.home
