-- The kafka_audit table: Confluent audit events (CloudEvents, specversion 0.3 or 1.0, Confluent Platform and
-- Confluent Cloud shapes: authorization, authentication and request events), from the audit-log topic or
-- from files; native fields in snake_case, nested parts as JSON, and where the record was read on the broker.
-- The common columns of docs/architecture.md and the partition date are appended by sovaudit.schema.
CREATE TABLE kafka_audit (
    specversion              VARCHAR,
    id                       VARCHAR,
    ce_source                VARCHAR,   -- the CloudEvent's `source` (a CRN); `source` is the common column
    ce_type                  VARCHAR,   -- io.confluent.kafka.server/authorization, …/authentication, …/request
    ce_subject               VARCHAR,
    ce_time                  VARCHAR,   -- `time` as delivered
    datacontenttype          VARCHAR,
    route                    VARCHAR,   -- confluentRouting.route: the topic Confluent routed the event to
    service_name             VARCHAR,
    method_name              VARCHAR,
    resource_name            VARCHAR,   -- the CRN the call was about
    principal                VARCHAR,
    authentication_info      JSON,
    granted                  BOOLEAN,
    operation                VARCHAR,
    resource_type            VARCHAR,   -- Topic, Group, Cluster, TransactionalId, …
    authz_resource_name      VARCHAR,   -- authorizationInfo.resourceName: the topic or group name
    pattern_type             VARCHAR,
    super_user_authorization BOOLEAN,
    authorization_info       JSON,
    client_id                VARCHAR,
    correlation_id           VARCHAR,
    client_address           VARCHAR,   -- as delivered, e.g. /192.0.2.4 or [{"ip": …}]
    request                  JSON,
    request_metadata         JSON,
    result_status            VARCHAR,
    result_message           VARCHAR,
    result                   JSON,      -- the whole result, as delivered (a status object, or a string)
    cloud_resources          JSON,
    kafka_cluster_id         VARCHAR,   -- where sovaudit read the record (NULL for files)
    kafka_topic              VARCHAR,
    kafka_partition          INTEGER,
    kafka_offset             BIGINT,
    kafka_timestamp          TIMESTAMPTZ
);
