-- Flows of each data class out of its home jurisdiction: served or stored elsewhere, accessed by callers
-- abroad (service principals excluded), copied or replicated elsewhere, or mirrored to a Kafka cluster
-- elsewhere (a MirrorMaker 2 remote topic in that cluster's inventory snapshots).
WITH flows AS (
    SELECT class_name, home, jurisdiction AS destination, 'served in ' || region AS how, event_uid, time, bytes_out
    FROM class_events WHERE jurisdiction IS NOT NULL AND jurisdiction <> home
    UNION ALL
    SELECT class_name, home, src_jurisdiction,
           'accessed from ' || checks.caller_place(src_cloud, src_cloud_region, src_cloud_service, src_country),
           event_uid, time, bytes_out
    FROM class_events
    WHERE src_jurisdiction IS NOT NULL AND src_jurisdiction <> home AND NOT checks.is_service_actor(actor)
    UNION ALL
    SELECT class_name, home, dest_jurisdiction, 'copied to ' || dest_region, event_uid, time, NULL
    FROM class_events WHERE dest_jurisdiction IS NOT NULL AND dest_jurisdiction <> home
    UNION ALL
    SELECT tc.class_name, tc.home, r.jurisdiction, 'mirrored to Kafka cluster ' || t.cluster_id || ' in ' || t.region,
           t.event_uid, t.snapshot_time, NULL
    FROM checks.kafka_topics AS t
    JOIN checks.topic_class AS tc ON tc.topic = t.topic
    JOIN policy_regions AS r ON r.region = checks.region_key(t.region)
    WHERE t.mm2_role = 'remote_topic' AND r.jurisdiction <> tc.home
)
SELECT class_name, home, destination, string_agg(DISTINCT how, '; ' ORDER BY how) AS how,
       count(DISTINCT event_uid) AS events, sum(bytes_out) AS bytes, min(time) AS first_seen, max(time) AS last_seen,
       list(DISTINCT event_uid ORDER BY event_uid)[1:5] AS sample_evidence
FROM flows
GROUP BY class_name, home, destination
ORDER BY class_name, events DESC
