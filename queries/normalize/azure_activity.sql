-- Normalize the activity-log records of one Azure blob into rows of the `azure_activity` table.
--
-- Parameters (bound by sovaudit.ingest, never formatted into this text):
--   $path         a JSON array file holding the blob's activity records, byte-for-byte as delivered
--   $index_map    INTEGER[]: each array element's position in the original blob
--   $blob         SHA-256 of the archived blob          $run  id of the pull
--   $pull_started  when the pull started: a record time more than a day after it is quarantined
--   $loc_patterns, $loc_regions   the source config's `locations`: resource-id globs and their location
--
-- Two shapes arrive here: the REST API's (eventTimestamp, operationName {value, localizedValue}, caller,
-- claims) and the resource-log shape of exports (time, operationName as a string, identity.claims).
-- Each record is parsed once (json_transform into a struct; every field VARCHAR or JSON, so a record with
-- an odd type still loads) and each nested object once more at most (multi-path extraction). A record that
-- cannot be placed in time gets a `_problem` and is quarantined instead of stored.
WITH raw AS (
    SELECT row_number() OVER () AS _position, json AS r, json_transform(json, '{
        "eventDataId": "VARCHAR", "id": "VARCHAR", "eventTimestamp": "VARCHAR", "time": "VARCHAR",
        "submissionTimestamp": "VARCHAR", "eventName": "JSON", "category": "JSON", "level": "VARCHAR",
        "operationName": "JSON", "operationId": "VARCHAR", "correlationId": "VARCHAR", "resourceId": "VARCHAR",
        "resourceGroupName": "VARCHAR", "resourceProviderName": "JSON", "resourceType": "JSON",
        "subscriptionId": "VARCHAR", "tenantId": "VARCHAR", "status": "JSON", "subStatus": "JSON",
        "resultType": "VARCHAR", "resultSignature": "VARCHAR", "resultDescription": "VARCHAR",
        "durationMs": "VARCHAR", "caller": "VARCHAR", "callerIpAddress": "VARCHAR", "channels": "VARCHAR",
        "description": "VARCHAR", "location": "VARCHAR", "authorization": "JSON", "claims": "JSON",
        "identity": "JSON", "httpRequest": "JSON", "properties": "JSON", "relatedEvents": "JSON"}') AS j
    FROM read_json_objects($path, format = 'array')
),
fields AS MATERIALIZED (
    SELECT
        _position, r, j,
        j.eventTimestamp IS NOT NULL OR json_type(j.operationName) = 'OBJECT' AS _rest,
        azure_value(j.operationName) AS _op,
        azure_value(j.category) AS _category,
        azure_value(j.status) AS _status_value,
        azure_value(j.subStatus) AS _sub_status,
        coalesce(j.eventTimestamp, j.time) AS _time_text,
        coalesce(j.claims, j.identity->'$.claims') AS _claims_json,
        coalesce(j.resourceId, j.authorization->>'$.scope', j.identity->>'$.authorization.scope') AS _resource_id,
        json_extract_string(j.properties, ['$.eventDataId', '$.statusCode', '$.userAgent', '$.requestbody',
                                            '$.requestBody', '$.responseBody']) AS _p
    FROM raw
),
typed AS MATERIALIZED (
    SELECT
        fields.*,
        rfc3339_time(_time_text) AS _time,
        lower(_op) AS _op_l,
        coalesce(_status_value, j.resultType) AS _status,
        azure_claims(_claims_json) AS _c,
        coalesce(azure_location(j.location),
                 azure_configured_location(_resource_id, $loc_patterns, $loc_regions)) AS _region,
        -- Object replication: the destination account named in the request body, when it was logged.
        CASE WHEN lower(_op) = 'microsoft.storage/storageaccounts/objectreplicationpolicies/write' AND json_valid(_p[4])
             THEN json_extract_string(_p[4], '$.properties.destinationAccount') END AS _dest,
        azure_body_index(_p[4:6]) AS _body_index
    FROM fields
),
bodied AS (
    SELECT typed.*, CASE WHEN _body_index IS NOT NULL THEN json(_p[3 + _body_index]) END AS _body
    FROM typed
),
facts AS (
    SELECT bodied.*, azure_body_facts(_op_l, _body, azure_body_strings(_body)) AS _facts
    FROM bodied
)
SELECT
    CASE WHEN _rest THEN 'rest' ELSE 'resource_log' END AS record_shape,
    j.eventDataId AS event_data_id,
    j.id AS id,
    _time_text AS event_timestamp,
    j.submissionTimestamp AS submission_timestamp,
    azure_value(j.eventName) AS event_name,
    _category AS category,
    j.level AS level,
    _op AS operation_name,
    j.operationId AS operation_id,
    j.correlationId AS correlation_id,
    j.resourceId AS resource_id,
    j.resourceGroupName AS resource_group_name,
    azure_value(j.resourceProviderName) AS resource_provider_name,
    azure_value(j.resourceType) AS resource_type,
    j.subscriptionId AS subscription_id,
    j.tenantId AS tenant_id,
    _status_value AS status,
    _sub_status AS sub_status,
    j.resultType AS result_type,
    j.resultSignature AS result_signature,
    j.resultDescription AS result_description,
    TRY_CAST(j.durationMs AS BIGINT) AS duration_ms,
    j.caller AS caller,
    j.callerIpAddress AS caller_ip_address,
    j.channels AS channels,
    j.description AS description,
    j.location AS location,
    j.authorization AS "authorization",
    _claims_json AS claims,
    j.identity AS identity,
    j.httpRequest AS http_request,
    j.properties AS properties,
    j.relatedEvents AS related_events,
    _p[2] AS status_code,
    _body AS body,
    ['requestbody', 'requestBody', 'responseBody'][_body_index] AS body_field,
    _facts.body_location AS body_location,
    _facts.body_sku_name AS body_sku_name,
    _facts.lifecycle_rules AS lifecycle_rules,
    _facts.diagnostic_logs AS diagnostic_logs,
    _facts.diagnostic_destination AS diagnostic_destination,
    _facts.access_policy_object_ids AS access_policy_object_ids,
    _facts.access_policy_key_permissions AS access_policy_key_permissions,
    _facts.cross_region_restore AS cross_region_restore,
    _facts.backup_source_resource_id AS backup_source_resource_id,
    _facts.policy_display_name AS policy_display_name,
    _facts.policy_exemption_category AS policy_exemption_category,
    _facts.policy_assignment_id AS policy_assignment_id,
    _facts.replication_destination_account AS replication_destination_account,

    -- common columns ---------------------------------------------------------------------------
    coalesce(nullif(j.eventDataId, ''), nullif(_p[1], ''), nullif(j.id, ''), azure_record_hash(r)) AS event_uid,
    'azure_activity' AS source,
    _time AS time,
    coalesce(lower(nullif(j.subscriptionId, '')), azure_subscription(_resource_id)) AS account,
    _region AS region,
    azure_provider(coalesce(azure_value(j.resourceProviderName), split_part(_op, '/', 1))) AS service,
    _op AS action,
    CASE
        WHEN regexp_matches(_op_l, '^microsoft\.(insights/diagnosticsettings|authorization/|storage/storageaccounts/(managementpolicies|objectreplicationpolicies|inventorypolicies|blobservices/default/containers/immutabilitypolicies)|keyvault/vaults/(accesspolicies|write)|network/networksecuritygroups|storage/storageaccounts/write)')
             AND regexp_matches(_op_l, '/(write|delete|action)$')
            THEN 'config'
        WHEN regexp_matches(_op_l, '/(listkeys|regeneratekey|listaccountsas|listservicesas|generatesastoken)/action$')
            
            THEN 'auth'
        WHEN ends_with(_op_l, '/delete') OR ends_with(_op_l, '/purge/action') THEN 'delete'
        WHEN ends_with(_op_l, '/read') THEN 'read'
        WHEN ends_with(_op_l, '/write') THEN 'write'
        ELSE 'other'
    END AS action_class,
    CASE WHEN lower(_status) IN ('failed', 'failure') THEN 'failure' ELSE 'success' END AS outcome,
    CASE WHEN lower(_status) IN ('failed', 'failure') THEN coalesce(nullif(_sub_status, ''), nullif(_p[2], ''),
        nullif(j.resultSignature, ''), _status) END AS error_code,
    coalesce(_c[1], _c[7], nullif(j.caller, ''), _c[2], _c[5], _c[3]) AS actor,
    lower(coalesce(_c[4], _c[6], j.tenantId)) AS actor_account,
    azure_ip(coalesce(j.callerIpAddress, j.httpRequest->>'$.clientIpAddress', _c[8])) AS src_ip,
    CAST(NULL AS VARCHAR) AS src_country,
    CAST(NULL AS VARCHAR) AS src_cloud,
    CAST(NULL AS VARCHAR) AS src_cloud_region,
    CAST(NULL AS VARCHAR) AS src_cloud_service,
    _p[3] AS user_agent,
    lower(_resource_id) AS resource,
    _region AS resource_region,
    _dest AS dest_resource,
    CASE WHEN _dest IS NOT NULL THEN azure_configured_location(_dest, $loc_patterns, $loc_regions) END AS dest_region,
    CAST(NULL AS VARCHAR) AS key_id,
    CAST(NULL AS BIGINT) AS bytes_out,
    $blob AS evidence_blob,
    CAST(coalesce($index_map[_position], _position - 1) AS INTEGER) AS evidence_index,
    $run AS ingest_run,
    CAST(_time AS DATE) AS date,

    CASE
        WHEN _time_text IS NULL THEN 'record has no eventTimestamp or time'
        WHEN _time IS NULL THEN 'event time is not a timestamp: ' || left(_time_text, 64)
        ELSE future_time_problem('event time', _time_text, _time, $pull_started)
    END AS _problem
FROM facts
