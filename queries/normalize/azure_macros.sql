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
