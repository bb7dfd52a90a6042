-- Normalize one blob of lineage header records into rows of the `kafka_lineage` table.
--
-- Parameters: $path, $index_map, $blob, $run, $pull_started as for every table; $region, the cluster's
-- configured region.
-- Each record: {"kafka": {cluster_id, topic, partition, offset, timestamp}, "headers": {name: value}}, where a
-- value that was not UTF-8 is {"base64": …}.
WITH raw AS (
    SELECT row_number() OVER () AS _position, json AS r
    FROM read_json_objects($path, format = 'array')
),
fields AS MATERIALIZED (
    SELECT
        _position, r,
        r->>'$.kafka.timestamp' AS _ms,
        kafka_time(r->>'$.kafka.timestamp') AS _time,
        r->>'$.kafka.partition' AS _partition,
        r->>'$.kafka.offset' AS _offset
    FROM raw
)
SELECT
    r->>'$.kafka.cluster_id' AS cluster_id,
    $region AS region,
    r->>'$.kafka.topic' AS topic,
    TRY_CAST(_partition AS INTEGER) AS partition,
    TRY_CAST(_offset AS BIGINT) AS "offset",
    _time AS message_time,
    r->>'$.headers.region_origin' AS region_origin,
    r->>'$.headers.encryption_key_id' AS encryption_key_id,
    r->>'$.headers.processing_timestamp' AS processing_timestamp,
    coalesce(r->'$.headers', '{}') AS headers,
    concat(r->>'$.kafka.cluster_id', '/', r->>'$.kafka.topic', '/', r->>'$.kafka.partition', '@',
           r->>'$.kafka.offset') AS event_uid,
    $blob AS evidence_blob,
    CAST(coalesce($index_map[_position], _position - 1) AS INTEGER) AS evidence_index,
    $run AS ingest_run,
    CAST(_time AS DATE) AS date,
    CASE
        WHEN _offset IS NULL THEN 'not a lineage header record: no kafka.offset'
        -- A cast that fails would fail the query, and with it every record of the blob.
        WHEN TRY_CAST(_offset AS BIGINT) IS NULL THEN 'kafka.offset is not a 64-bit integer: ' || left(_offset, 64)
        WHEN _partition IS NOT NULL AND TRY_CAST(_partition AS INTEGER) IS NULL
            THEN 'kafka.partition is not a 32-bit integer: ' || left(_partition, 64)
        WHEN TRY_CAST(_ms AS BIGINT) IS NULL OR TRY_CAST(_ms AS BIGINT) = -1 THEN 'message has no timestamp'
        WHEN _time IS NULL
            THEN 'message timestamp ' || left(_ms, 64) || ' is out of range (milliseconds since 1970, up to year 9999)'
        ELSE future_time_problem('message timestamp', _ms, _time, $pull_started)
    END AS _problem
FROM fields
