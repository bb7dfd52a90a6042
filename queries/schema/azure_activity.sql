-- The azure_activity table: the Azure activity log in either shape it is delivered in (the REST API's,
-- and the resource-log shape of exports to storage), native fields in snake_case, nested parts as JSON, then typed
-- columns of the operation's body.
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
    related_events         JSON,
    -- properties.statusCode: the HTTP status of the operation (Created: a PUT that made the resource)
    status_code            VARCHAR,
    -- The operation's body: the first of properties.requestbody, requestBody and responseBody that is JSON and not
    -- '' or {} (the activity log carries one only for some operations), as json() writes it, and which it was.
    -- The columns after them are what the checks read of it, so that no check parses JSON
    -- (queries/normalize/azure_macros.sql: azure_body_facts); each is NULL when the record carries no body, and
    -- one named for a kind of resource is filled only for that provider's operations.
    body                   JSON,
    body_field             VARCHAR,   -- requestbody, requestBody or responseBody
    body_location          VARCHAR,   -- location: where the resource written is to be (an ARM body's)
    body_sku_name          VARCHAR,   -- sku.name: Standard_GRS …
    -- managementPolicies: properties.policy.rules, each with its enabled (true unless it says false) and the
    -- daysAfter…GreaterThan of actions.baseBlob.delete
    lifecycle_rules        STRUCT(name VARCHAR, enabled BOOLEAN, delete_after_modification_days DOUBLE,
                                  delete_after_creation_days DOUBLE, delete_after_last_access_days DOUBLE)[],
    -- diagnosticSettings: properties.logs, each enabled only if it says so; the first destination named of
    -- storageAccountId, workspaceId, eventHubAuthorizationRuleId, marketplacePartnerId
    diagnostic_logs        STRUCT(category VARCHAR, category_group VARCHAR, enabled BOOLEAN)[],
    diagnostic_destination VARCHAR,
    -- Key Vault vaults and accessPolicies: properties.accessPolicies[*].objectId, and every
    -- properties.accessPolicies[*].permissions.keys[*], in the body's order
    access_policy_object_ids      VARCHAR[],
    access_policy_key_permissions VARCHAR[],
    -- Recovery Services: backupstorageconfig's properties.crossRegionRestoreFlag, a vault's
    -- properties.redundancySettings.crossRegionRestore; a protected item's properties.sourceResourceId
    cross_region_restore      VARCHAR,
    backup_source_resource_id VARCHAR,
    -- policy assignments and exemptions: properties.displayName, exemptionCategory, policyAssignmentId
    policy_display_name       VARCHAR,
    policy_exemption_category VARCHAR,
    policy_assignment_id      VARCHAR,
    -- objectReplicationPolicies: properties.destinationAccount
    replication_destination_account VARCHAR
);
