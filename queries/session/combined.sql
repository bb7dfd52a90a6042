-- The `checks` schema, the views that join several source families, loaded last because they read the
-- others' views (see common.sql for the load order and the event-like views).

-- Where a resource lives when the logs do not say: [resource_regions] first, then what the lake shows
-- (the region that served data events on it, e.g. S3 object calls carry the bucket's region).
CREATE OR REPLACE VIEW checks.resource_location AS
WITH candidates AS (
    -- Only where data was sent needs a location: copy destinations and replication targets.
    SELECT DISTINCT checks.resource_root(dest_resource) AS name FROM checks.lake_core WHERE dest_resource IS NOT NULL
    UNION
    SELECT unnest(replication_destinations)
    FROM checks.cloudtrail WHERE event_name = 'PutBucketReplication'
),
configured AS (
    SELECT c.name AS resource, r.region
    FROM candidates AS c JOIN policy_resource_regions AS r ON c.name LIKE r.like_pattern ESCAPE '!' AND (r.like_exact OR regexp_matches(c.name, r.regex))
),
observed AS (
    SELECT split_part(e.resource, '/', 1) AS bucket, arg_max(e.resource_region, e.time) AS region
    FROM checks.lake_core AS e
    WHERE e.resource_region IS NOT NULL AND contains(e.resource, ':s3:::')
      AND split_part(e.resource, '/', 1) IN (SELECT name FROM candidates)
    GROUP BY bucket
)
SELECT resource, min(region) AS region, 'config' AS located_by FROM configured GROUP BY resource
UNION ALL
SELECT bucket, region, 'lake' FROM observed
WHERE bucket NOT IN (SELECT resource FROM configured);

-- Every record of the window with its source, account and region: the events, and the rows of tables
-- outside `events` that have a time of their own (Kafka inventory snapshots, lineage headers). Coverage
-- (the check run's and the report's) counts these.
CREATE OR REPLACE VIEW checks.window_records AS
SELECT source, time, account, region FROM checks.events_geo
UNION ALL
SELECT 'kafka_topics', snapshot_time, cluster_id, region FROM checks.kafka_topics
UNION ALL
SELECT 'kafka_lineage', message_time, cluster_id, region FROM checks.kafka_lineage;

-- Everything a finding can cite, one row per record with where its bytes are in the archive: the events, and
-- the rows of tables outside `events` (Kafka inventory snapshots and lineage headers), in the events' shape.
CREATE OR REPLACE VIEW checks.evidence_records AS
SELECT event_uid, source, time, actor, src_ip, src_country, user_agent, region, action, outcome, evidence_blob,
       evidence_index
FROM checks.all_events
UNION ALL
SELECT event_uid, 'kafka_topics', snapshot_time, NULL, NULL, NULL, NULL, region,
       'inventory snapshot: ' || topic || coalesce(' retention.ms=' || retention_ms, '')
           || coalesce(' cleanup.policy=' || cleanup_policy, ''), NULL, evidence_blob, evidence_index
FROM main.kafka_topics
UNION ALL
SELECT event_uid, 'kafka_lineage', message_time, NULL, NULL, NULL, NULL, region,
       'message headers: region_origin=' || coalesce(region_origin, '(none)'), NULL, evidence_blob, evidence_index
FROM main.kafka_lineage;
