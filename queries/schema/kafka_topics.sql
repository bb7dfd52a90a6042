-- The kafka_topics table: inventory snapshots of Kafka clusters (`sovaudit pull kafka-inventory`), one row per
-- topic per snapshot, with its retention and, where its name shows one, its part in MirrorMaker 2 replication.
-- Not audit events: the `events` view leaves it out.
-- events: no
-- time: snapshot_time
CREATE TABLE kafka_topics (
    snapshot_time      TIMESTAMPTZ,
    cluster_id         VARCHAR,
    region             VARCHAR,   -- the cluster's region, from its [[sources]] entry
    topic              VARCHAR,
    internal           BOOLEAN,   -- Kafka's own topics: __consumer_offsets, __transaction_state, …
    partitions         INTEGER,
    replication_factor INTEGER,
    retention_ms       BIGINT,    -- -1: kept forever
    retention_bytes    BIGINT,    -- -1: no size limit
    cleanup_policy     VARCHAR,   -- delete, compact, or compact,delete
    configs            JSON,      -- every topic config as described (sensitive values null)
    mm2_role           VARCHAR,   -- remote_topic | heartbeats | remote_heartbeats | offset_syncs | checkpoints | mm2_internal
    mirror_alias       VARCHAR,   -- remote_topic: the alias of the cluster it is mirrored from
    mirrored_topic     VARCHAR,   -- remote_topic: the topic's name on that cluster
    event_uid          VARCHAR,   -- cluster/topic@snapshot time
    evidence_blob      VARCHAR,
    evidence_index     INTEGER,
    ingest_run         VARCHAR,
    date               DATE       -- partition: the day of the snapshot
);
