-- The records of one slice as the pull read them, each with its position in the blob: what a record whose event
-- id came again is compared by (sovaudit.ingest.repeats). Parameters: $path and $index_map, as the table's normalize
-- query takes them, and $table.
-- A Kafka broker record of the audit log is compared by its message value, the CloudEvent, not by the envelope
-- around it: a producer that retries writes the same event again at another offset.
WITH raw AS (
    SELECT row_number() OVER () AS _position, json AS r
    FROM read_json_objects($path, format = 'array')
)
SELECT
    CAST(coalesce($index_map[_position], _position - 1) AS INTEGER) AS evidence_index,
    CASE
        WHEN $table = 'kafka_audit' AND json_exists(r, '$.kafka.offset') AND json_exists(r, '$.value_base64')
            THEN try(decode(from_base64(r->>'$.value_base64')))
        WHEN $table = 'kafka_audit' AND json_exists(r, '$.kafka.offset') THEN CAST(r->'$.value' AS VARCHAR)
        ELSE CAST(r AS VARCHAR)
    END AS record
FROM raw
