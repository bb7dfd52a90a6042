-- Each way a data class's data left its home jurisdiction, one row per record and way: an event served
-- elsewhere, accessed by a caller abroad (service principals excluded), copied elsewhere (objects, backups,
-- snapshots and images) or replicated elsewhere (databases, storage accounts), a snapshot shared outside the
-- organisation, or an inventory snapshot row of a MirrorMaker 2 copy of one of its topics on a cluster
-- elsewhere. `kind` keeps the two populations apart: 'event' rows are events, 'snapshot' rows are inventory
-- snapshot rows (a daily listing of a topic, not an access). The transfers tables and the classed flow
-- matrix both count these rows.
SELECT class_name, home, jurisdiction AS destination, 'served in ' || region AS how, 'event' AS kind, event_uid,
       time, bytes_out
FROM class_events WHERE jurisdiction IS NOT NULL AND jurisdiction <> home
UNION ALL
SELECT class_name, home, src_jurisdiction,
       'accessed from ' || src_place,
       'event', event_uid, time, bytes_out
FROM class_events
WHERE src_jurisdiction IS NOT NULL AND src_jurisdiction <> home AND NOT checks.is_service_actor(actor)
UNION ALL
SELECT class_name, home, dest_jurisdiction, 'copied to ' || dest_region, 'event', event_uid, time, bytes_out
FROM class_events WHERE dest_jurisdiction IS NOT NULL AND dest_jurisdiction <> home
UNION ALL
SELECT tc.class_name, tc.home, r.jurisdiction, 'mirrored to Kafka cluster ' || t.cluster_id || ' in ' || t.region,
       'snapshot', t.event_uid, t.snapshot_time, NULL
FROM checks.kafka_topics AS t
JOIN checks.topic_class AS tc ON tc.topic = t.topic
JOIN policy_regions AS r ON r.region = checks.region_key(t.region)
WHERE t.mm2_role = 'remote_topic' AND r.jurisdiction <> tc.home
UNION ALL
-- AWS Backup told to copy a classed vault's recovery points to another jurisdiction (copies.sql)
SELECT class_name, home, dest_jurisdiction, 'backup copied to ' || dest_region, 'event', event_uid, time, NULL
FROM checks.backup_copies WHERE dest_jurisdiction IS NOT NULL AND dest_jurisdiction <> home
UNION ALL
-- Azure Backup's cross-region restore turned on for a vault of classed items: restorable in its paired region
SELECT class_name, home, dest_jurisdiction, 'backup restorable in ' || dest_region, 'event', unnest(evidence), time,
       NULL
FROM checks.azure_backup_restores WHERE dest_jurisdiction IS NOT NULL AND dest_jurisdiction <> home
UNION ALL
SELECT class_name, home, dest_jurisdiction, 'snapshot copied to ' || dest_region, 'event', event_uid, time, NULL
FROM checks.snapshot_copies WHERE dest_jurisdiction IS NOT NULL AND dest_jurisdiction <> home
UNION ALL
-- a classed snapshot shared with an account outside the organisation: its jurisdiction is not
-- known, so its destination is 'other accounts' (short: it heads a column of the classed flow matrix)
SELECT class_name, home, 'other accounts',
       CASE WHEN grantee = 'all' THEN 'shared publicly' ELSE 'shared with account ' || grantee END,
       'event', event_uid, time, NULL
FROM checks.snapshot_shares WHERE outside
UNION ALL
-- A database or storage replica made in another jurisdiction (checks.db_replicas, queries/session/replicas.sql):
-- each call that made one, cited once per class.
SELECT class_name, home, replica_jurisdiction, 'replica in ' || replica_region, 'event', unnest(evidence), time,
       NULL
FROM checks.db_replicas
WHERE class_name IS NOT NULL AND replica_jurisdiction IS NOT NULL AND replica_jurisdiction <> home
