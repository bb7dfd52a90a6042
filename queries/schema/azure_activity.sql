-- The azure_activity table: the Azure activity log in either shape it is delivered in (the REST API's,
-- and the resource-log shape of exports to storage), native fields in snake_case, nested parts as JSON.
-- The common columns of docs/architecture.md and the partition date are appended by sovaudit.schema.
CREATE TABLE azure_activity (
    record_shape           VARCHAR,   -- rest (eventTimestamp, {value, localizedValue}) or resource_log (time, strings)
    event_data_id          VARCHAR,
    id                     VARCHAR,
    event_timestamp        VARCHAR,   -- eventTimestamp (REST) or time (resource log), as delivered
    submission_timestamp   VARCHAR,
    event_name             VARCHAR,
    category               VARCHAR,
    level                  VARCHAR,
    operation_name         VARCHAR,
    operation_id           VARCHAR,
    correlation_id         VARCHAR,
    resource_id            VARCHAR,
    resource_group_name    VARCHAR,
    resource_provider_name VARCHAR,
    resource_type          VARCHAR,
    subscription_id        VARCHAR,
    tenant_id              VARCHAR,
    status                 VARCHAR,
    sub_status             VARCHAR,
    result_type            VARCHAR,
    result_signature       VARCHAR,
    result_description     VARCHAR,
    duration_ms            BIGINT,
    caller                 VARCHAR,
    caller_ip_address      VARCHAR,
    channels               VARCHAR,
    description            VARCHAR,
    location               VARCHAR,
    "authorization"        JSON,      -- a reserved word in SQL: quote it in queries
    claims                 JSON,
    identity               JSON,
    http_request           JSON,
    properties             JSON,
    related_events         JSON
);
