-- The kafka_lineage table: lineage headers of messages on data topics (`sovaudit pull kafka-lineage`), one row
-- per message. Only headers are read; message values are never read or stored.
-- Not audit events: the `events` view leaves it out.
-- events: no
-- time: message_time
CREATE TABLE kafka_lineage (
    cluster_id           VARCHAR,
    region               VARCHAR,   -- the cluster's region, from its [[sources]] entry
    topic                VARCHAR,
    partition            INTEGER,
    "offset"             BIGINT,    -- a reserved word in SQL: quote it in queries
    message_time         TIMESTAMPTZ,
    region_origin        VARCHAR,   -- header: where the data was produced
    encryption_key_id    VARCHAR,   -- header: the key that protects the value
    processing_timestamp VARCHAR,   -- header, as sent
    headers              JSON,      -- every header kept (the three above and the configured names)
    event_uid            VARCHAR,   -- cluster/topic/partition@offset
    evidence_blob        VARCHAR,
    evidence_index       INTEGER,
    ingest_run           VARCHAR,
    date                 DATE       -- partition: the day of message_time
);
