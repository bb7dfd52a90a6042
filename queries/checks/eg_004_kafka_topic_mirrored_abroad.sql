-- id: EG-004
-- title: A classed Kafka topic mirrored to a cluster outside its home jurisdiction
-- family: egress
-- severity: high
-- gdpr: Art. 44; Art. 46
-- requires: any of kafka_topics, kafka_audit
-- policy: classed_topics
-- description: MirrorMaker 2 copies a topic of a data class out of its home jurisdiction (and its allowed
--   transfers). Two kinds of evidence: a cluster's inventory holds the remote topic `<alias>.<topic>` and the
--   cluster's configured region lies outside the home (a cluster with no region configured cannot be
--   placed, and is reported as such); or the audit log shows MirrorMaker 2's replication consumer (client id
--   SOURCE->TARGET|MirrorSourceConnector) fetching the topic from an address in another jurisdiction.
-- reason: {replicated_by}topic {mirrored_topic} ({data_class} data, home {home}) {mirrored_to}
-- remediation: Stop the replication flow for the topic (the MM2 `topics` or `topics.exclude` setting of the
--   flow), delete the remote topic on the foreign cluster, or declare the transfer and its safeguard.
WITH inventory AS (
    SELECT t.cluster_id || '/' || t.topic AS resource, CAST(NULL AS VARCHAR) AS actor, t.region,
           r.jurisdiction AS region_jurisdiction, CAST(NULL AS VARCHAR) AS counterpart_jurisdiction,
           min(t.snapshot_time) AS first_seen, max(t.snapshot_time) AS last_seen,
           count(*) AS event_count,
           list(t.event_uid ORDER BY t.snapshot_time, t.event_uid) AS evidence,
           tc.class_name AS data_class,
           tc.home,
           t.mirrored_topic,
           '' AS replicated_by,
           'is mirrored by MirrorMaker 2 (alias ' || t.mirror_alias || ') as ' || t.topic || ' on cluster '
               || t.cluster_id
               || CASE WHEN r.jurisdiction IS NULL
                       THEN ', whose region ' || coalesce(t.region, 'is not configured and')
                            || ' cannot be placed in a jurisdiction'
                       ELSE ' in ' || t.region || ' (' || r.jurisdiction || ')' END AS mirrored_to
    FROM kafka_topics AS t
    JOIN topic_class AS tc ON tc.topic = t.topic
    LEFT JOIN policy_regions AS r ON r.region = checks.region_key(t.region)
    WHERE t.mm2_role = 'remote_topic'
      AND (r.jurisdiction IS NULL
           OR (r.jurisdiction <> tc.home AND NOT checks.transfer_allowed(tc.class_name, r.jurisdiction)))
    GROUP BY t.cluster_id, t.topic, t.mirrored_topic, t.mirror_alias, t.region, r.jurisdiction, tc.class_name, tc.home
),
mirror_fetches AS (
    SELECT a.*, checks.mirror_flow(a.user_agent) AS flow, checks.kafka_topic(a.resource) AS topic,
           coalesce(g.jurisdiction, country.jurisdiction) AS region_jurisdiction,
           g.src_jurisdiction, g.src_place AS caller
    FROM kafka_audit AS a
    -- the jurisdictions and the caller's place policy gives the event (lake_core); a cluster's region may also
    -- be configured as a country code
    JOIN events_geo AS g ON g.event_uid = a.event_uid AND g.source = 'kafka_audit'
    LEFT JOIN policy_countries AS country ON country.country = upper(trim(a.region))
    WHERE a.action = 'kafka.FetchConsumer' AND a.outcome = 'success' AND checks.mirror_flow(a.user_agent) IS NOT NULL
),
replication AS (
    SELECT m.resource, m.actor, m.region, m.region_jurisdiction,
           m.src_jurisdiction AS counterpart_jurisdiction, min(m.time) AS first_seen, max(m.time) AS last_seen,
           count(*) AS event_count,
           list(m.event_uid ORDER BY m.time, m.event_uid) AS evidence,
           tc.class_name AS data_class,
           tc.home,
           m.topic AS mirrored_topic,
           'MirrorMaker 2 flow ' || m.flow.source || '->' || m.flow.target || ' replicated ' AS replicated_by,
           'from cluster ' || m.account || ' to a consumer from ' || m.caller || ', address ' || min(m.src_ip)
               AS mirrored_to
    FROM mirror_fetches AS m
    JOIN topic_class AS tc ON tc.topic = m.topic
    WHERE m.src_jurisdiction <> tc.home AND NOT checks.transfer_allowed(tc.class_name, m.src_jurisdiction)
    GROUP BY m.resource, m.topic, m.account, m.actor, m.region, m.region_jurisdiction, m.src_jurisdiction, m.caller, tc.class_name,
             tc.home, m.flow.source, m.flow.target
)
SELECT * FROM inventory
UNION ALL
SELECT * FROM replication
