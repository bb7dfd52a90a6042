-- Normalize one blob of lineage header records, as the native extractor took them, into rows of the
-- `kafka_lineage` table: the same rows as kafka_lineage.sql (tests/test_native_normalize.py holds them to it), with
-- no JSON parsing (queries/normalize/kafka_lineage.fields.toml names the fields).
--
-- Reads: `extracted`, the Arrow batches of sovaudit.ingest.extract of one or more blobs, registered under that name;
-- `evidence_blob` is each record's blob, and goes into the lake as it is (sovaudit/ingest/batch_rows.py), as
-- `_position` holds the rows to the batch's.
-- Parameters: $run, $pull_started as for every table; $region, the cluster's configured region.
-- One difference: a header value that is an object ({"base64": ...}) is its JSON text as delivered, where
-- kafka_lineage.sql's `->>` re-serializes it. The file and broker pulls run it (sovaudit/sources/kafka/preparer.py).
WITH fields AS MATERIALIZED (
    SELECT extracted.*, kafka_time(timestamp_ms) AS _time
    FROM extracted
)
SELECT
    _position,
    cluster_id,
    $region AS region,
    topic,
    CAST(partition AS INTEGER) AS partition,
    "offset",
    _time AS message_time,
    region_origin,
    encryption_key_id,
    processing_timestamp,
    coalesce(headers, '{}') AS headers,
    concat(cluster_id, '/', topic, '/', CAST(partition AS VARCHAR), '@', CAST("offset" AS VARCHAR)) AS event_uid,
    CAST(_position AS INTEGER) AS evidence_index,
    $run AS ingest_run,
    CAST(_time AS DATE) AS date,
    CASE
        WHEN "offset" IS NULL THEN 'not a lineage header record: no kafka.offset'
        WHEN _time IS NULL THEN 'message has no timestamp'
        ELSE future_time_problem('message timestamp', CAST(timestamp_ms AS VARCHAR), _time, $pull_started)
    END AS _problem
FROM fields
