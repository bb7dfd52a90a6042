-- Normalize one or more Azure blobs' activity-log records, as the native extractor took them, into rows of the
-- `azure_activity` table: the same rows as azure_activity.sql (tests/test_native_normalize.py holds them to it),
-- with no JSON parsing but of the few values whose shape varies (a field that is a string or {value, ...}) and of the
-- operation's body, which the log holds as a JSON string (azure_macros.sql: azure_body_facts). queries/normalize/azure.fields.toml names the
-- fields; sovaudit.sources.azure.preparer routes the records here.
--
-- Reads: `extracted`, the Arrow record batch of sovaudit.ingest.extract (registered under that name), with
-- `_record_text` added by sovaudit.sources.azure.preparer: the record's text, for the rows without an id, which
-- azure_record_hash makes the event_uid of. `evidence_blob` is each record's blob, and goes into the lake as it is
-- (sovaudit/ingest/batch_rows.py), as do the columns the spec names after lake columns; `_position` holds the rows
-- to the batch's.
-- Parameters: $run, $pull_started as for every table; $loc_patterns, $loc_regions, the source config's `locations`.
-- Differences, each in the input's favour: a string field holding an object or a number is its JSON text as
-- delivered (azure_activity.sql re-serialized it); JSON columns are as delivered.
WITH fields AS MATERIALIZED (
    SELECT
        -- the big members stay out of the materialized steps: they go into the lake as the extractor took them
        extracted.* EXCLUDE (identity, properties, "authorization", http_request, related_events, _identity_claim,
                                 _identity_authorization),
        _event_timestamp IS NOT NULL OR starts_with(_operation_name, '{') AS _rest,
        azure_value_of(_operation_name, _operation_name_value) AS _op,
        azure_value_of(_category, _category_value) AS _category_text,
        azure_value_of(_status, _status_value) AS _status_text,
        azure_value_of(_sub_status, _sub_status_value) AS _sub_status_text,
        coalesce(_event_timestamp, _time_string) AS _time_text,
        _claims IS NOT NULL AS _top_claims,
        coalesce(resource_id, _authorization_scope, _identity_authorization_scope) AS _resource_id
    FROM extracted
),
typed AS MATERIALIZED (
    SELECT
        fields.*,
        rfc3339_time(_time_text) AS _time,
        lower(_op) AS _op_l,
        coalesce(_status_text, result_type) AS _status_or_result,
        CASE WHEN _top_claims THEN [_cl_upn_long, _cl_oid_long, _cl_appid, _cl_tid_long, _cl_oid, _cl_tid, _cl_upn,
                                    _cl_ipaddr]
             ELSE [_icl_upn_long, _icl_oid_long, _icl_appid, _icl_tid_long, _icl_oid, _icl_tid, _icl_upn,
                   _icl_ipaddr] END AS _c,
        coalesce(azure_location(location),
                 azure_configured_location(_resource_id, $loc_patterns, $loc_regions)) AS _region,
        -- Object replication: the destination account named in the request body, when it was logged.
        CASE WHEN lower(_op) = 'microsoft.storage/storageaccounts/objectreplicationpolicies/write'
                  AND json_valid(_pa_request_body)
             THEN json_extract_string(_pa_request_body, '$.properties.destinationAccount') END AS _dest,
        azure_body_index([_pa_request_body, _pa_request_body_camel, _pa_response_body]) AS _body_index
    FROM fields
),
bodied AS (
    SELECT
        typed.*,
        CASE WHEN _body_index IS NOT NULL
             THEN json([_pa_request_body, _pa_request_body_camel, _pa_response_body][_body_index]) END AS _body
    FROM typed
),
facts AS (
    SELECT bodied.*, azure_body_facts(_op_l, _body, azure_body_strings(_body)) AS _facts
    FROM bodied
)
SELECT
    _position,
    CASE WHEN _rest THEN 'rest' ELSE 'resource_log' END AS record_shape,
    _time_text AS event_timestamp,
    azure_value_of(_event_name, _event_name_value) AS event_name,
    _category_text AS category,
    _op AS operation_name,
    azure_value_of(_resource_provider_name, _resource_provider_name_value) AS resource_provider_name,
    azure_value_of(_resource_type, _resource_type_value) AS resource_type,
    _status_text AS status,
    _sub_status_text AS sub_status,
    TRY_CAST(_duration_ms AS BIGINT) AS duration_ms,
    CASE WHEN _top_claims THEN _claims ELSE _identity_claims END AS claims,
    _pa_status_code AS status_code,
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
    coalesce(nullif(event_data_id, ''), nullif(_pa_event_data_id, ''), nullif(id, ''),
             azure_record_hash(_record_text)) AS event_uid,
    'azure_activity' AS source,
    _time AS time,
    coalesce(lower(nullif(subscription_id, '')), azure_subscription(_resource_id)) AS account,
    _region AS region,
    azure_provider(coalesce(azure_value_of(_resource_provider_name, _resource_provider_name_value),
                            split_part(_op, '/', 1))) AS service,
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
    CASE WHEN lower(_status_or_result) IN ('failed', 'failure') THEN 'failure' ELSE 'success' END AS outcome,
    CASE WHEN lower(_status_or_result) IN ('failed', 'failure') THEN coalesce(nullif(_sub_status_text, ''),
        nullif(_pa_status_code, ''), nullif(result_signature, ''), _status_or_result) END AS error_code,
    coalesce(_c[1], _c[7], nullif(caller, ''), _c[2], _c[5], _c[3]) AS actor,
    lower(coalesce(_c[4], _c[6], tenant_id)) AS actor_account,
    azure_ip(coalesce(caller_ip_address, _http_client_ip, _c[8])) AS src_ip,
    CAST(NULL AS VARCHAR) AS src_country,
    CAST(NULL AS VARCHAR) AS src_cloud,
    CAST(NULL AS VARCHAR) AS src_cloud_region,
    CAST(NULL AS VARCHAR) AS src_cloud_service,
    _pa_user_agent AS user_agent,
    lower(_resource_id) AS resource,
    _region AS resource_region,
    _dest AS dest_resource,
    CASE WHEN _dest IS NOT NULL THEN azure_configured_location(_dest, $loc_patterns, $loc_regions) END AS dest_region,
    CAST(NULL AS VARCHAR) AS key_id,
    CAST(NULL AS BIGINT) AS bytes_out,
    CAST(_position AS INTEGER) AS evidence_index,
    $run AS ingest_run,
    CAST(_time AS DATE) AS date,

    CASE
        WHEN _time_text IS NULL THEN 'record has no eventTimestamp or time'
        WHEN _time IS NULL THEN 'event time is not a timestamp: ' || left(_time_text, 64)
        ELSE future_time_problem('event time', _time_text, _time, $pull_started)
    END AS _problem
FROM facts
