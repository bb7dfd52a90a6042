-- The azure_resource table: Azure resource logs (Key Vault AuditEvent, Storage read/write/delete and
-- any other category) in the resource-log shape, native fields in snake_case, nested parts as JSON.
-- The common columns of docs/architecture.md and the partition date are appended by sovaudit.schema.
CREATE TABLE azure_resource (
    event_timestamp    VARCHAR,   -- time, as delivered
    resource_id        VARCHAR,
    category           VARCHAR,
    operation_name     VARCHAR,
    operation_version  VARCHAR,
    schema_version     VARCHAR,
    result_type        VARCHAR,
    result_signature   VARCHAR,
    result_description VARCHAR,
    status_code        INTEGER,   -- Storage statusCode, Key Vault properties.httpStatusCode
    status_text        VARCHAR,
    duration_ms        BIGINT,
    caller_ip_address  VARCHAR,
    correlation_id     VARCHAR,
    level              VARCHAR,
    location           VARCHAR,
    tenant_id          VARCHAR,
    protocol           VARCHAR,
    uri                VARCHAR,
    identity           JSON,
    properties         JSON
);
