-- Normalize one or more Azure blobs' resource-log records (Key Vault AuditEvent, Storage, any other category), as
-- the native extractor took them, into rows of the `azure_resource` table: the same rows as azure_resource.sql
-- (tests/test_native_normalize.py holds them to it), with no JSON parsing. queries/normalize/azure.fields.toml names
-- the fields; sovaudit.sources.azure.preparer routes the records here.
--
-- Reads: `extracted`, as azure_activity_batch.sql does (with `_record_text` for the rows without an id).
-- Parameters: $run, $pull_started as for every table; $loc_patterns, $loc_regions, the source config's `locations`.
-- Differences, each in the input's favour: a string field holding an object or a number is its JSON text as
-- delivered (azure_resource.sql re-serialized it); JSON columns are as delivered.
WITH fields AS MATERIALIZED (
    SELECT
        -- the big members stay out of the materialized steps: they go into the lake as the extractor took them
        extracted.* EXCLUDE (identity, properties, "authorization", http_request, related_events, _claims,
                                 _identity_claims, _identity_claim, _identity_authorization),
        _time_string AS _time_text,
        lower(resource_id) AS _rid_l,
        -- A Storage record's `properties` on their own (see sovaudit.sources.azure.preparer.is_storage_fragment).
        _time_string IS NULL AND resource_id IS NULL AND operation_name IS NULL
            AND _pr_service_type IS NOT NULL AS _fragment,
        -- identity.claim when it is there, else identity.claims, as azure_resource.sql's coalesce
        CASE WHEN _identity_claim IS NOT NULL
             THEN [_ic1_upn_long, _ic1_oid_long, _ic1_appid, _ic1_tid_long, _ic1_oid, _ic1_tid, _ic1_upn]
             ELSE [_icl_upn_long, _icl_oid_long, _icl_appid, _icl_tid_long, _icl_oid, _icl_tid, _icl_upn] END AS _c
    FROM extracted
),
typed AS MATERIALIZED (
    SELECT
        fields.*,
        rfc3339_time(_time_text) AS _time,
        coalesce(TRY_CAST(_status_code AS INTEGER), TRY_CAST(_pr_http_status_code AS INTEGER)) AS _status_code_int,
        contains(_rid_l, '/providers/microsoft.keyvault/') OR category = 'AuditEvent' AS _keyvault,
        contains(_rid_l, '/providers/microsoft.storage/') OR category IN ('StorageRead', 'StorageWrite', 'StorageDelete')
            OR _fragment AS _storage,
        coalesce(azure_location(location),
                 azure_configured_location(resource_id, $loc_patterns, $loc_regions)) AS _region,
        -- container/blob of a Storage request, from its URI's path
        url_decode(regexp_extract(coalesce(uri, _pr_request_url), '^[a-z]+://[^/]+/([^?#]*)', 1)) AS _path,
        regexp_extract(operation_name, '(Get|List|Read|Delete|Purge|Create|Import|Set|Update|Put|Patch|Restore|Backup|Recover|Rotate|Decrypt|Encrypt|Wrap|Unwrap|Sign|Verify)[A-Za-z]*$', 1) AS _kv_verb,
        coalesce(_pr_source_uri, _source_uri) AS _copy_source
    FROM fields
),
classified AS (
    SELECT
        typed.*,
        operation_name AS _op,
        -- The blob a Storage request touched, as an id under its account: …/blobservices/default/containers/C/blobs/B.
        CASE WHEN contains(_rid_l, '/blobservices/') AND nullif(_path, '') IS NOT NULL
             THEN regexp_extract(_rid_l, '^(.*/blobservices/[^/]+)', 1) || '/containers/' || split_part(_path, '/', 1)
                  || coalesce('/blobs/' || nullif(_path[length(split_part(_path, '/', 1)) + 2:], ''), '') END AS _blob_id,
        _keyvault AND operation_name IN ('KeyDecrypt', 'KeyEncrypt', 'KeyUnwrap', 'KeyWrap', 'KeySign', 'KeyVerify')
            AS _key_use,
        _storage AND operation_name IN ('CopyBlob', 'CopyBlobFromURL', 'PutBlobFromURL', 'PutBlockFromURL',
                                        'StartCopyFromURL') AS _copy,
        CASE
            WHEN _status_code_int >= 400 OR lower(result_type) IN ('failed', 'failure')
                 OR (_storage AND status_text IS NOT NULL AND status_text <> 'Success') THEN 'failure'
            ELSE 'success'
        END AS _outcome
    FROM typed
)
SELECT
    _position,
    _time_text AS event_timestamp,
    _status_code_int AS status_code,
    TRY_CAST(_duration_ms AS BIGINT) AS duration_ms,

    -- common columns ---------------------------------------------------------------------------
    coalesce(nullif(event_data_id, ''), nullif(id, ''), azure_record_hash(_record_text)) AS event_uid,
    'azure_resource' AS source,
    _time AS time,
    azure_subscription(resource_id) AS account,
    _region AS region,
    azure_provider(regexp_extract(resource_id, '(?i)/providers/([^/]+)/', 1)) AS service,
    _op AS action,
    CASE
        WHEN _key_use THEN 'key_use'
        WHEN _op IN ('GetUserDelegationKey', 'GetAccountSasToken') THEN 'auth'
        WHEN _keyvault AND (_op IN ('VaultPut', 'VaultPatch', 'VaultAccessPolicyChangedEventGridNotification',
                                    'KeyRotationPolicySet', 'KeyUpdate', 'KeyRotate')
                            OR contains(_op, 'AccessPolicy'))
            THEN 'config'
        WHEN _storage AND (starts_with(_op, 'Set') AND (ends_with(_op, 'Properties') AND _op NOT IN ('SetBlobProperties')
                                                        OR ends_with(_op, 'ACL') OR ends_with(_op, 'Policy')))
            THEN 'config'
        WHEN _storage AND category = 'StorageRead' THEN 'read'
        WHEN _storage AND category = 'StorageWrite' THEN 'write'
        WHEN _storage AND category = 'StorageDelete' THEN 'delete'
        WHEN _keyvault AND _kv_verb IN ('Get', 'List', 'Read') THEN 'read'
        WHEN _keyvault AND _kv_verb IN ('Delete', 'Purge') THEN 'delete'
        WHEN _keyvault AND _kv_verb IN ('Create', 'Import', 'Set', 'Update', 'Put', 'Patch', 'Restore', 'Backup',
                                        'Recover') THEN 'write'
        WHEN regexp_matches(_op, '^(Get|List|Read|Query)') THEN 'read'
        WHEN regexp_matches(_op, '^(Delete|Purge|Remove)') THEN 'delete'
        WHEN regexp_matches(_op, '^(Put|Set|Create|Update|Append|Copy|Write|Upload)') THEN 'write'
        ELSE 'other'
    END AS action_class,
    _outcome AS outcome,
    CASE WHEN _outcome = 'failure' THEN coalesce(nullif(nullif(status_text, 'Success'), ''),
        nullif(result_signature, ''), CAST(_status_code_int AS VARCHAR)) END AS error_code,
    coalesce(_c[1], _c[7], _req_upn, _c[2], _c[5], _req_object_id, _c[3], _req_app_id, _identity_type) AS actor,
    lower(coalesce(_c[4], _c[6], _req_tenant_id, tenant_id)) AS actor_account,
    azure_ip(caller_ip_address) AS src_ip,
    CAST(NULL AS VARCHAR) AS src_country,
    CAST(NULL AS VARCHAR) AS src_cloud,
    CAST(NULL AS VARCHAR) AS src_cloud_region,
    CAST(NULL AS VARCHAR) AS src_cloud_service,
    coalesce(_pr_user_agent_header, _pr_client_info) AS user_agent,
    -- A copy's record sits in the destination account's log: resource is the source, as its URL.
    CASE WHEN _copy AND _copy_source IS NOT NULL THEN split_part(_copy_source, '?', 1)
         WHEN _fragment THEN split_part(_pr_request_url, '?', 1)
         ELSE coalesce(_blob_id, _rid_l) END AS resource,
    CASE WHEN _copy AND _copy_source IS NOT NULL THEN NULL ELSE _region END AS resource_region,
    CASE WHEN _copy THEN coalesce(_blob_id, _rid_l) END AS dest_resource,
    CASE WHEN _copy THEN _region END AS dest_region,
    CASE WHEN _keyvault AND starts_with(_op, 'Key') THEN _pr_id END AS key_id,
    CASE WHEN _storage AND _op IN ('GetBlob', 'GetFile', 'ReadFile')
         THEN TRY_CAST(_pr_response_body_size AS BIGINT) END AS bytes_out,
    CAST(_position AS INTEGER) AS evidence_index,
    $run AS ingest_run,
    CAST(_time AS DATE) AS date,

    CASE
        WHEN _time_text IS NULL AND NOT _fragment THEN 'record has no time'
        WHEN _time IS NULL THEN 'time is not a timestamp: ' || left(_time_text, 64)
        ELSE future_time_problem('time', _time_text, _time, $pull_started)
    END AS _problem
FROM classified
