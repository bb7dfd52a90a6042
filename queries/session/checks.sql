-- The `checks` schema: what every check sees. Run after the lake views and the policy tables exist,
-- with the variables window_since, window_until and baseline_since set. Views inside a schema resolve
-- names there first, so `events` in a check means the windowed events below.

-- Created before this script: checks.all_events, every event of the lake with every common column (a view
-- over the Parquet files), and checks.lake_core, the columns the built-in checks read, for every event: an
-- in-memory copy when checks run (one scan of the lake instead of one per check), else a view.

-- The window, as user checks see it: every common column.
CREATE OR REPLACE VIEW checks.events AS
SELECT * FROM checks.all_events
WHERE time >= getvariable('window_since') AND time < getvariable('window_until');

CREATE OR REPLACE VIEW checks.baseline_events AS
SELECT * FROM checks.all_events
WHERE time >= getvariable('baseline_since') AND time < getvariable('window_since');

-- CloudTrail's own fields (request parameters …) for the configuration changes the built-in checks judge,
-- in the window: read from Parquet once, then kept (when checks run) for every check that needs them.
CREATE OR REPLACE VIEW checks.cloudtrail_changes AS
SELECT event_uid, time, event_name, action, actor, region, resource, key_id, outcome, error_code, src_ip,
       request_parameters
FROM checks.cloudtrail
WHERE event_name IN ('StopLogging', 'DeleteTrail', 'UpdateTrail', 'PutEventSelectors',
                     'PutBucketReplication', 'PutBucketLifecycle', 'PutBucketLifecycleConfiguration',
                     'DeleteBucketLifecycle', 'ScheduleKeyDeletion', 'DisableKey', 'DisableKeyRotation',
                     'PutKeyPolicy', 'CreateGrant');

-- Azure control-plane changes the built-in checks judge (Key Vault deletion, purge and access policies,
-- storage lifecycle and object replication policies, diagnostic settings), from the activity log in the
-- window: one row per operation. Azure logs an operation as several records (Started, then Succeeded or
-- Failed) sharing a correlation id; the request body, when the activity log carries it at all
-- (properties.requestbody, else responseBody), is on one of them, so the records are judged together.
CREATE OR REPLACE VIEW checks.azure_changes AS
WITH records AS (
    SELECT event_uid, time, operation_name AS action, lower(operation_name) AS op, actor, region, resource,
           outcome, error_code, src_ip, dest_resource, dest_region,
           coalesce(nullif(correlation_id, ''), event_uid) AS correlation,
           lower(coalesce(status, result_type, '')) AS phase,
           json_extract_string(properties, ['$.requestbody', '$.requestBody', '$.responseBody']) AS bodies
    FROM checks.azure_activity
    WHERE regexp_matches(lower(operation_name), '^microsoft\.(keyvault/(vaults/(delete|write|accesspolicies/write)|locations/deletedvaults/purge/action)|storage/storageaccounts/(managementpolicies|objectreplicationpolicies)/(write|delete)|insights/diagnosticsettings/(write|delete))$')
)
SELECT
    min(action) AS action, op, resource, correlation,
    min(actor) AS actor, min(region) AS region, min(src_ip) AS src_ip,
    min(time) AS first_seen, max(time) AS last_seen,
    -- an operation whose records include a failure failed; one only Started has not been seen to finish
    CASE WHEN bool_or(outcome = 'failure') THEN 'failure'
         WHEN bool_and(phase IN ('started', 'start')) THEN 'started' ELSE 'success' END AS outcome,
    string_agg(DISTINCT error_code, ', ') AS error_code,
    min(dest_resource) AS dest_resource, min(dest_region) AS dest_region,
    -- the request body as JSON, when one of the records carries it
    coalesce(min(CASE WHEN json_valid(bodies[1]) AND bodies[1] NOT IN ('', '{}') THEN json(bodies[1]) END),
             min(CASE WHEN json_valid(bodies[2]) AND bodies[2] NOT IN ('', '{}') THEN json(bodies[2]) END),
             min(CASE WHEN json_valid(bodies[3]) AND bodies[3] NOT IN ('', '{}') THEN json(bodies[3]) END)) AS body,
    count(*) AS records,
    list(event_uid ORDER BY time, event_uid) AS evidence
FROM records
GROUP BY op, resource, correlation;

-- The same two periods over the in-memory columns, for the built-in checks.
CREATE OR REPLACE VIEW checks.core_events AS
SELECT * FROM checks.lake_core
WHERE time >= getvariable('window_since') AND time < getvariable('window_until');

CREATE OR REPLACE VIEW checks.baseline_core AS
SELECT * FROM checks.lake_core
WHERE time >= getvariable('baseline_since') AND time < getvariable('window_since');

CREATE OR REPLACE VIEW checks.check_window AS
SELECT getvariable('window_since') AS since, getvariable('window_until') AS until,
       getvariable('baseline_since') AS baseline_since,
       (SELECT baseline_days FROM policy_thresholds) AS baseline_days;

-- region (AWS region code or Azure location, any spelling) -> jurisdiction.
CREATE OR REPLACE MACRO checks.region_key(r) AS lower(replace(r, ' ', ''));

-- The unit a finding is about: the bucket for S3 objects, else the resource itself.
-- For Azure, the storage account of a container or blob (…/storageaccounts/NAME/blobservices/…), and the
-- account of a blob URL (https://NAME.blob.core.windows.net/C/B, a copy's source).
CREATE OR REPLACE MACRO checks.resource_root(r) AS
    CASE WHEN contains(r, ':s3:::') THEN split_part(r, '/', 1)
         WHEN contains(r, '/providers/microsoft.storage/storageaccounts/')
             THEN regexp_extract(r, '^(.*/providers/microsoft\.storage/storageaccounts/[^/]+)', 1)
         WHEN regexp_matches(r, '^https://[^/]+\.blob\.core\.windows\.net/')
             THEN regexp_extract(r, '^(https://[^/]+\.blob\.core\.windows\.net)/', 1)
         ELSE r END;

-- Whether a class may go to a jurisdiction ([[data_classes]] allowed_transfers).
CREATE OR REPLACE MACRO checks.transfer_allowed(for_class, for_jurisdiction) AS
    EXISTS (SELECT 1 FROM policy_allowed_transfers AS t
            WHERE t.class_name = for_class AND t.to_jurisdiction = for_jurisdiction);

-- Who acted, without the session: arn:aws:sts::1:assumed-role/Role/session-123 -> …:assumed-role/Role.
-- Role sessions get a new name per run, so "the same principal" means the same role.
CREATE OR REPLACE MACRO checks.principal(who) AS
    regexp_replace(who, '^(arn:aws[a-z-]*:sts::[0-9]+:assumed-role/[^/]+)/.+$', '\1');

-- AWS services acting for a principal (s3.amazonaws.com, …) are not a person abroad.
CREATE OR REPLACE MACRO checks.is_service_actor(who) AS
    who IS NULL OR ends_with(who, '.amazonaws.com') OR who IN ('AWSService', 'AWSAccount');

-- Each classed resource, once per class it belongs to. A GLOB pattern's `*` also matches `/`.
CREATE OR REPLACE VIEW checks.resource_class AS
WITH names AS (
    SELECT resource AS name FROM checks.lake_core WHERE resource IS NOT NULL
    UNION
    SELECT dest_resource FROM checks.lake_core WHERE dest_resource IS NOT NULL
)
SELECT names.name AS resource, c.class_name, c.home, c.tier, c.retention_days, p.pattern
FROM names
JOIN policy_class_patterns AS p ON p.kind = 'resource' AND names.name GLOB p.pattern
JOIN policy_data_classes AS c USING (class_name);

-- Each classed key. A key matches a class's `keys` or `resources` patterns; a multi-region replica
-- (mrk-) is classed like any other key of the same account with the same mrk id that matched directly.
CREATE OR REPLACE VIEW checks.key_class AS
WITH keys AS (
    SELECT DISTINCT key_id FROM checks.lake_core WHERE key_id IS NOT NULL
),
direct AS (
    SELECT keys.key_id, p.class_name, p.pattern
    FROM keys JOIN policy_class_patterns AS p ON keys.key_id GLOB p.pattern
),
mrk AS (
    SELECT key_id, regexp_extract(key_id, ':([0-9]+):key/(mrk-[0-9a-f]+)', ['account', 'id']) AS mrk
    FROM keys WHERE contains(key_id, ':key/mrk-')
),
replicas AS (
    SELECT replica.key_id, direct.class_name, direct.pattern || ' (replica of ' || direct.key_id || ')' AS pattern
    FROM mrk AS replica
    JOIN mrk AS primary_key ON replica.mrk = primary_key.mrk AND replica.key_id <> primary_key.key_id
    JOIN direct ON direct.key_id = primary_key.key_id
),
matched AS (
    SELECT * FROM direct
    UNION
    SELECT * FROM replicas WHERE NOT EXISTS (
        SELECT 1 FROM direct AS d WHERE d.key_id = replicas.key_id AND d.class_name = replicas.class_name)
)
SELECT matched.key_id, c.class_name, c.home, c.tier, c.retention_days, min(matched.pattern) AS pattern
FROM matched JOIN policy_data_classes AS c USING (class_name)
GROUP BY ALL;

-- Where a resource lives when the logs do not say: [resource_regions] first, then what the lake shows
-- (the region that served data events on it, e.g. S3 object calls carry the bucket's region).
CREATE OR REPLACE VIEW checks.resource_location AS
WITH candidates AS (
    -- Only where data was sent needs a location: copy destinations and replication targets.
    SELECT DISTINCT checks.resource_root(dest_resource) AS name FROM checks.lake_core WHERE dest_resource IS NOT NULL
    UNION
    SELECT unnest(list_concat(
        json_extract_string(request_parameters, '$.ReplicationConfiguration.Rule[*].Destination.Bucket'),
        [json_extract_string(request_parameters, '$.ReplicationConfiguration.Rule.Destination.Bucket')]))
    FROM checks.cloudtrail_changes WHERE event_name = 'PutBucketReplication'
),
configured AS (
    SELECT c.name AS resource, r.region
    FROM candidates AS c JOIN policy_resource_regions AS r ON c.name GLOB r.pattern
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

-- Events of the window with the jurisdictions policy gives them (computed in checks.lake_core).
CREATE OR REPLACE VIEW checks.events_geo AS SELECT * FROM checks.core_events;

-- Kafka --------------------------------------------------------------------------------------------------

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
JOIN policy_class_patterns AS p ON p.kind = 'topic' AND names.classed_as GLOB p.pattern
JOIN policy_data_classes AS c USING (class_name)
GROUP BY ALL;

-- Where something named by a region code, an Azure location or a country code is: for lineage headers such
-- as region_origin, which producers fill in their own way.
CREATE OR REPLACE MACRO checks.place_jurisdiction(place) AS
    coalesce((SELECT r.jurisdiction FROM policy_regions AS r WHERE r.region = checks.region_key(place)),
             (SELECT c.jurisdiction FROM policy_countries AS c WHERE c.country = upper(trim(place))));

-- Every record of the window with its source, account and region: the events, and the rows of tables
-- outside `events` that have a time of their own (Kafka inventory snapshots, lineage headers). Coverage
-- (the check run's and the report's) counts these.
CREATE OR REPLACE VIEW checks.window_records AS
SELECT source, time, account, region FROM checks.core_events
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
