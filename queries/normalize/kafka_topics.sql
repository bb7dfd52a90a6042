-- Normalize one inventory snapshot (one record per topic) into rows of the `kafka_topics` table, naming the
-- MirrorMaker 2 artefacts. MM2's default replication policy names a mirrored topic `<alias>.<topic>`, where
-- <alias> is the source cluster's alias; the aliases are the configured `mirror_aliases` plus those the
-- snapshot itself reveals through `<alias>.heartbeats` and `<alias>.checkpoints.internal`. (A flow set up
-- with IdentityReplicationPolicy keeps names unchanged and cannot be seen here.)
--
-- Parameters: $path, $index_map, $blob, $run, $pull_started as for every table; $region, the cluster's
-- configured region; $aliases VARCHAR[], the configured mirror aliases.
WITH raw AS (
    SELECT row_number() OVER () AS _position, json AS r
    FROM read_json_objects($path, format = 'array')
),
topics AS MATERIALIZED (
    SELECT _position, r, r->>'$.topic' AS topic, r->'$.configs' AS configs,
           r->>'$.snapshot_time' AS _time_text, rfc3339_time(r->>'$.snapshot_time') AS _time
    FROM raw
),
snapshot AS (
    SELECT list_distinct(list_concat(
        CAST($aliases AS VARCHAR[]),
        coalesce(list(regexp_extract(topic, '^(.+)\.heartbeats$', 1))
                 FILTER (WHERE regexp_matches(topic, '^.+\.heartbeats$')), []),
        coalesce(list(regexp_extract(topic, '^(.+)\.checkpoints\.internal$', 1))
                 FILTER (WHERE regexp_matches(topic, '^.+\.checkpoints\.internal$')), [])
    )) AS aliases
    FROM topics
),
roles AS MATERIALIZED (
    SELECT
        topics.*,
        CASE
            WHEN topic = 'heartbeats' THEN 'heartbeats'
            WHEN regexp_matches(topic, '^.+\.heartbeats$') THEN 'remote_heartbeats'
            WHEN starts_with(topic, 'mm2-offset-syncs.') THEN 'offset_syncs'
            WHEN regexp_matches(topic, '^.+\.checkpoints\.internal$') THEN 'checkpoints'
            WHEN regexp_matches(topic, '^mm2-(configs|offsets|status)\.') THEN 'mm2_internal'
        END AS _artefact,
        -- the longest alias the name starts with, so `us.eu.orders` (two hops) names `us` only when `us.eu` is not one
        list_sort(list_filter(snapshot.aliases, lambda a: starts_with(topic, a || '.')), 'DESC')[1] AS _alias
    FROM topics, snapshot
)
SELECT
    _time AS snapshot_time,
    r->>'$.cluster_id' AS cluster_id,
    $region AS region,
    topic,
    starts_with(topic, '__') AS internal,
    TRY_CAST(r->>'$.partitions' AS INTEGER) AS partitions,
    TRY_CAST(r->>'$.replication_factor' AS INTEGER) AS replication_factor,
    TRY_CAST(configs->>'$."retention.ms"' AS BIGINT) AS retention_ms,
    TRY_CAST(configs->>'$."retention.bytes"' AS BIGINT) AS retention_bytes,
    configs->>'$."cleanup.policy"' AS cleanup_policy,
    configs,
    coalesce(_artefact, CASE WHEN _alias IS NOT NULL THEN 'remote_topic' END) AS mm2_role,
    CASE WHEN _artefact IS NULL THEN _alias END AS mirror_alias,
    CASE WHEN _artefact IS NULL AND _alias IS NOT NULL THEN substr(topic, length(_alias) + 2) END AS mirrored_topic,
    concat(r->>'$.cluster_id', '/', topic, '@', r->>'$.snapshot_time') AS event_uid,
    $blob AS evidence_blob,
    CAST(coalesce($index_map[_position], _position - 1) AS INTEGER) AS evidence_index,
    $run AS ingest_run,
    CAST(_time AS DATE) AS date,
    CASE
        WHEN topic IS NULL THEN 'not an inventory record: no topic'
        -- A cast that fails would fail the query, and with it every record of the snapshot.
        WHEN r->>'$.partitions' IS NOT NULL AND TRY_CAST(r->>'$.partitions' AS INTEGER) IS NULL
            THEN 'partitions is not a 32-bit integer: ' || left(r->>'$.partitions', 64)
        WHEN r->>'$.replication_factor' IS NOT NULL AND TRY_CAST(r->>'$.replication_factor' AS INTEGER) IS NULL
            THEN 'replication_factor is not a 32-bit integer: ' || left(r->>'$.replication_factor', 64)
        WHEN _time_text IS NULL THEN 'inventory record has no snapshot_time'
        WHEN _time IS NULL THEN 'snapshot_time is not a timestamp: ' || left(_time_text, 64)
        ELSE future_time_problem('snapshot_time', _time_text, _time, $pull_started)
    END AS _problem
FROM roles
