-- Helpers shared by azure_activity.sql and azure_resource.sql; created once per pull, before them.

-- callerIpAddress without its port: "192.168.0.1:11111" -> 192.168.0.1, "[2001:db8::1]:443" -> 2001:db8::1.
-- Anything that is not an address (a host name, "NA", "") is not a src_ip.
CREATE OR REPLACE MACRO azure_ip(addr) AS CASE
    WHEN regexp_full_match(addr, '[0-9]{1,3}(\.[0-9]{1,3}){3}(:[0-9]+)?') THEN split_part(addr, ':', 1)
    WHEN regexp_full_match(addr, '\[[0-9A-Fa-f:.]+\](:[0-9]+)?') THEN regexp_extract(addr, '^\[([^\]]+)\]', 1)
    WHEN regexp_full_match(addr, '[0-9A-Fa-f]*:[0-9A-Fa-f:.]*') THEN addr
END;

-- An Azure location as a region name: "West Europe" and "westeurope" alike; "global" says nothing.
CREATE OR REPLACE MACRO azure_location(loc) AS nullif(nullif(lower(replace(loc, ' ', '')), ''), 'global');

-- The location the source config gives for a resource id: the first (lower-case) glob that matches.
CREATE OR REPLACE MACRO azure_configured_location(resource_id, patterns, regions) AS
    CASE WHEN resource_id IS NOT NULL AND len(patterns) > 0 THEN
        regions[list_position(list_transform(patterns, lambda p: lower(resource_id) GLOB p), true)]
    END;

CREATE OR REPLACE MACRO azure_subscription(resource_id) AS
    nullif(lower(regexp_extract(resource_id, '(?i)/subscriptions/([^/]+)', 1)), '');

-- Exports write resource ids in upper case: the provider namespace gets its documented spelling.
CREATE OR REPLACE MACRO azure_provider(namespace) AS CASE lower(namespace)
    WHEN 'microsoft.keyvault' THEN 'Microsoft.KeyVault'
    WHEN 'microsoft.storage' THEN 'Microsoft.Storage'
    WHEN 'microsoft.insights' THEN 'Microsoft.Insights'
    WHEN 'microsoft.network' THEN 'Microsoft.Network'
    WHEN 'microsoft.compute' THEN 'Microsoft.Compute'
    WHEN 'microsoft.authorization' THEN 'Microsoft.Authorization'
    WHEN 'microsoft.resources' THEN 'Microsoft.Resources'
    WHEN 'microsoft.sql' THEN 'Microsoft.Sql'
    WHEN 'microsoft.web' THEN 'Microsoft.Web'
    WHEN 'microsoft.documentdb' THEN 'Microsoft.DocumentDB'
    WHEN 'microsoft.eventhub' THEN 'Microsoft.EventHub'
    WHEN 'microsoft.servicebus' THEN 'Microsoft.ServiceBus'
    WHEN 'microsoft.containerservice' THEN 'Microsoft.ContainerService'
    WHEN 'microsoft.support' THEN 'Microsoft.Support'
    ELSE nullif(namespace, '')
END;

-- event_uid of a record that has no eventDataId or id: "sha256:" and the SHA-256 of the record as
-- DuckDB's json() writes it (no whitespace between tokens, keys in the order delivered), so the same
-- record delivered again, compact or pretty-printed, gets the same uid.
CREATE OR REPLACE MACRO azure_record_hash(record) AS 'sha256:' || sha256(CAST(json(record) AS VARCHAR));

-- From Azure AD token claims, in one parse: [upn, object id, appid, tenant id, oid, tid, upn, ipaddr]
-- (long claim names, then the short ones).
CREATE OR REPLACE MACRO azure_claims(claims) AS json_extract_string(claims, [
    '$."http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn"',
    '$."http://schemas.microsoft.com/identity/claims/objectidentifier"',
    '$.appid',
    '$."http://schemas.microsoft.com/identity/claims/tenantid"',
    '$.oid', '$.tid', '$.upn', '$.ipaddr']);

-- A field that is {"value": …, "localizedValue": …} in the REST shape and a plain string in exports.
CREATE OR REPLACE MACRO azure_value(field) AS
    CASE WHEN json_type(field) = 'OBJECT' THEN field->>'$.value' ELSE field->>'$' END;

-- azure_value over the extractor's columns (azure_*_batch.sql): the field's JSON as delivered, and its `value`
-- member's text; only a field that is no object is parsed, and it is a scalar.
CREATE OR REPLACE MACRO azure_value_of(field, value) AS
    CASE WHEN starts_with(field, '{') THEN value ELSE field->>'$' END;

-- The body an activity-log record carries for its operation, of properties.requestbody, requestBody and
-- responseBody (`candidates`, in that order): the position of the first that is JSON and says something (not ''
-- or {}); NULL when none does. The body is json() of it: the same text whichever path read it.
CREATE OR REPLACE MACRO azure_body_index(candidates) AS
    list_position(list_transform(candidates, lambda b: CASE WHEN json_valid(b) THEN json(b) <> '{}' ELSE false END),
                  true);

-- The string members of an activity-log record's body that azure_body_facts reads, in one parse.
CREATE OR REPLACE MACRO azure_body_strings(body) AS json_extract_string(body, [
    '$.location', '$.sku.name',
    '$.properties.storageAccountId', '$.properties.workspaceId', '$.properties.eventHubAuthorizationRuleId',
    '$.properties.marketplacePartnerId',
    '$.properties.crossRegionRestoreFlag', '$.properties.redundancySettings.crossRegionRestore',
    '$.properties.sourceResourceId',
    '$.properties.displayName', '$.properties.exemptionCategory', '$.properties.policyAssignmentId',
    '$.properties.destinationAccount']);

-- What the checks read from an activity-log record's body, as the typed columns of queries/schema/azure_activity.sql
-- (`op`: the operation name in lower case; `body`: the text azure_body_index chose; `s`: azure_body_strings(body)).
-- A column named for a kind of resource is filled only for that provider's operations; all are NULL without a body.
CREATE OR REPLACE MACRO azure_body_facts(op, body, s) AS {
    'body_location': s[1],
    'body_sku_name': s[2],
    'lifecycle_rules': CASE WHEN starts_with(op, 'microsoft.storage/storageaccounts/managementpolicies/') THEN
        CASE WHEN json_type(body, '$.properties.policy.rules') = 'ARRAY'
        THEN list_transform(CAST(json_extract(body, '$.properties.policy.rules') AS JSON[]), lambda r: {
            'name': json_extract_string(r, '$.name'),
            -- a rule is enabled unless it says otherwise
            'enabled': coalesce(json_extract_string(r, '$.enabled'), 'true') = 'true',
            'delete_after_modification_days': TRY_CAST(json_extract_string(r,
                '$.definition.actions.baseBlob.delete.daysAfterModificationGreaterThan') AS DOUBLE),
            'delete_after_creation_days': TRY_CAST(json_extract_string(r,
                '$.definition.actions.baseBlob.delete.daysAfterCreationGreaterThan') AS DOUBLE),
            'delete_after_last_access_days': TRY_CAST(json_extract_string(r,
                '$.definition.actions.baseBlob.delete.daysAfterLastAccessTimeGreaterThan') AS DOUBLE)}) END END,
    'diagnostic_logs': CASE WHEN starts_with(op, 'microsoft.insights/diagnosticsettings/') THEN
        CASE WHEN json_type(body, '$.properties.logs') = 'ARRAY'
        THEN list_transform(CAST(json_extract(body, '$.properties.logs') AS JSON[]), lambda l: {
            'category': json_extract_string(l, '$.category'),
            'category_group': json_extract_string(l, '$.categoryGroup'),
            -- a category is disabled unless it says it is enabled
            'enabled': coalesce(json_extract_string(l, '$.enabled'), 'false') = 'true'}) END END,
    'diagnostic_destination': CASE WHEN starts_with(op, 'microsoft.insights/diagnosticsettings/')
        THEN coalesce(s[3], s[4], s[5], s[6]) END,
    'access_policy_object_ids': CASE WHEN starts_with(op, 'microsoft.keyvault/vaults/')
        THEN json_extract_string(body, '$.properties.accessPolicies[*].objectId') END,
    'access_policy_key_permissions': CASE WHEN starts_with(op, 'microsoft.keyvault/vaults/')
        THEN json_extract_string(body, '$.properties.accessPolicies[*].permissions.keys[*]') END,
    'cross_region_restore': CASE op
        WHEN 'microsoft.recoveryservices/vaults/backupstorageconfig/write' THEN s[7]
        WHEN 'microsoft.recoveryservices/vaults/write' THEN s[8] END,
    'backup_source_resource_id': CASE WHEN starts_with(op, 'microsoft.recoveryservices/vaults/') THEN s[9] END,
    'policy_display_name': CASE WHEN starts_with(op, 'microsoft.authorization/policy') THEN s[10] END,
    'policy_exemption_category': CASE WHEN starts_with(op, 'microsoft.authorization/policy') THEN s[11] END,
    'policy_assignment_id': CASE WHEN starts_with(op, 'microsoft.authorization/policy') THEN s[12] END,
    'replication_destination_account':
        CASE WHEN starts_with(op, 'microsoft.storage/storageaccounts/objectreplicationpolicies/') THEN s[13] END};
