-- Normalize one inventory snapshot (one record per topic), as the native extractor took it, into rows of the
-- `kafka_topics` table: the same rows as kafka_topics.sql (tests/test_native_normalize.py holds them to it), with no
-- JSON parsing but the configs' three names (queries/normalize/kafka_topics.fields.toml names the fields). The
-- MirrorMaker 2 rules are kafka_topics.sql's: see its header.
--
-- Reads: `extracted`, the Arrow batches of sovaudit.ingest.extract of one or more blobs (snapshots), registered
-- under that name; `evidence_blob` is each record's blob, and goes into the lake as it is
-- (sovaudit/ingest/batch_rows.py), as `_position` and the final order hold the rows to the batch's.
-- Parameters: $run, $pull_started as for every table; $region, the cluster's configured region;
-- $aliases VARCHAR[], the configured mirror aliases.
-- The aliases a snapshot reveals are those of its own rows normalized together (per blob, 50,000 rows at a time:
-- sovaudit.ingest.run.EXTRACTED_ROWS), as kafka_topics.sql saw a 16 MB slice at a time.
WITH topics AS MATERIALIZED (
    SELECT extracted.*, snapshot_time AS _time_text, row_number() OVER () AS _row
    FROM extracted
),
snapshot AS (
    SELECT evidence_blob, list_distinct(list_concat(
        CAST($aliases AS VARCHAR[]),
        coalesce(list(regexp_extract(topic, '^(.+)\.heartbeats$', 1))
                 FILTER (WHERE regexp_matches(topic, '^.+\.heartbeats$')), []),
        coalesce(list(regexp_extract(topic, '^(.+)\.checkpoints\.internal$', 1))
                 FILTER (WHERE regexp_matches(topic, '^.+\.checkpoints\.internal$')), [])
    )) AS aliases
    FROM topics
    GROUP BY evidence_blob
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
        list_sort(list_filter(snapshot.aliases, lambda a: starts_with(topic, a || '.')), 'DESC')[1] AS _alias
    FROM topics JOIN snapshot USING (evidence_blob)
)
SELECT
    _position,
    _time AS snapshot_time,
    cluster_id,
    $region AS region,
    topic,
    starts_with(topic, '__') AS internal,
    CAST(partitions AS INTEGER) AS partitions,
    CAST(replication_factor AS INTEGER) AS replication_factor,
    TRY_CAST(configs->>'$."retention.ms"' AS BIGINT) AS retention_ms,
    TRY_CAST(configs->>'$."retention.bytes"' AS BIGINT) AS retention_bytes,
    configs->>'$."cleanup.policy"' AS cleanup_policy,
    configs,
    coalesce(_artefact, CASE WHEN _alias IS NOT NULL THEN 'remote_topic' END) AS mm2_role,
    CASE WHEN _artefact IS NULL THEN _alias END AS mirror_alias,
    CASE WHEN _artefact IS NULL AND _alias IS NOT NULL THEN substr(topic, length(_alias) + 2) END AS mirrored_topic,
    concat(cluster_id, '/', topic, '@', _time_text) AS event_uid,
    CAST(_position AS INTEGER) AS evidence_index,
    $run AS ingest_run,
    CAST(_time AS DATE) AS date,
    CASE
        WHEN topic IS NULL THEN 'not an inventory record: no topic'
        WHEN _time_text IS NULL THEN 'inventory record has no snapshot_time'
        WHEN _time IS NULL THEN 'snapshot_time is not a timestamp: ' || left(_time_text, 64)
        ELSE future_time_problem('snapshot_time', _time_text, _time, $pull_started)
    END AS _problem
FROM roles
ORDER BY _row
