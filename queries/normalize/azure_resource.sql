-- Normalize the resource-log records of one Azure blob into rows of the `azure_resource` table:
-- Key Vault AuditEvent, Storage (StorageRead/Write/Delete) and any other category.
--
-- Parameters (bound by sovaudit.ingest, never formatted into this text):
--   $path         a JSON array file holding the blob's resource-log records, byte-for-byte as delivered
--   $index_map    INTEGER[]: each array element's position in the original blob
--   $blob         SHA-256 of the archived blob          $run  id of the pull
--   $pull_started  when the pull started: a record time more than a day after it is quarantined
--   $loc_patterns, $loc_regions   the source config's `locations`: resource-id globs and their location
--
-- Each record is parsed once (json_transform into a struct; every field VARCHAR or JSON, so a record with
-- an odd type still loads) and each nested object once more at most (multi-path extraction). A record that
-- cannot be placed in time gets a `_problem` and is quarantined instead of stored.
WITH raw AS (
    SELECT row_number() OVER () AS _position, json AS r, json_transform(json, '{
        "eventDataId": "VARCHAR", "id": "VARCHAR", "time": "VARCHAR", "resourceId": "VARCHAR",
        "category": "VARCHAR", "operationName": "VARCHAR", "operationVersion": "VARCHAR",
        "schemaVersion": "VARCHAR", "resultType": "VARCHAR", "resultSignature": "VARCHAR",
        "resultDescription": "VARCHAR", "statusCode": "VARCHAR", "statusText": "VARCHAR", "durationMs": "VARCHAR",
        "callerIpAddress": "VARCHAR", "correlationId": "VARCHAR", "level": "VARCHAR", "location": "VARCHAR",
        "tenantId": "VARCHAR", "protocol": "VARCHAR", "uri": "VARCHAR", "sourceUri": "VARCHAR",
        "identity": "JSON", "properties": "JSON"}') AS j
    FROM read_json_objects($path, format = 'array')
),
fields AS MATERIALIZED (
    SELECT
        _position, r, j,
        j.operationName AS _op,
        j.category AS _category,
        j.time AS _time_text,
        j.resourceId AS _resource_id,
        lower(j.resourceId) AS _rid_l,
        -- A Storage record's `properties` on their own (see sovaudit.sources.azure.preparer.is_storage_fragment).
        j.time IS NULL AND j.resourceId IS NULL AND j.operationName IS NULL
            AND json_extract_string(j.properties, '$.serviceType') IS NOT NULL AS _fragment,
        -- [httpStatusCode, requestUrl, userAgentHeader, clientInfo, id, responseBodySize, sourceUri]
        json_extract_string(j.properties, ['$.httpStatusCode', '$.requestUrl', '$.userAgentHeader', '$.clientInfo',
                                           '$.id', '$.responseBodySize', '$.sourceUri']) AS _p,
        -- [requester upn, objectId, appId, tenantId, identity type]
        json_extract_string(j.identity, ['$.requester.upn', '$.requester.objectId', '$.requester.appId',
                                         '$.requester.tenantId', '$.type']) AS _req,
        azure_claims(coalesce(j.identity->'$.claim', j.identity->'$.claims')) AS _c
    FROM raw
),
typed AS MATERIALIZED (
    SELECT
        fields.*,
        rfc3339_time(_time_text) AS _time,
        coalesce(TRY_CAST(j.statusCode AS INTEGER), TRY_CAST(_p[1] AS INTEGER)) AS _status_code,
        contains(_rid_l, '/providers/microsoft.keyvault/') OR _category = 'AuditEvent' AS _keyvault,
        contains(_rid_l, '/providers/microsoft.storage/') OR _category IN ('StorageRead', 'StorageWrite', 'StorageDelete')
            OR _fragment AS _storage,
        coalesce(azure_location(j.location),
                 azure_configured_location(_resource_id, $loc_patterns, $loc_regions)) AS _region,
        -- container/blob of a Storage request, from its URI's path
        url_decode(regexp_extract(coalesce(j.uri, _p[2]), '^[a-z]+://[^/]+/([^?#]*)', 1)) AS _path,
        regexp_extract(_op, '(Get|List|Read|Delete|Purge|Create|Import|Set|Update|Put|Patch|Restore|Backup|Recover|Rotate|Decrypt|Encrypt|Wrap|Unwrap|Sign|Verify)[A-Za-z]*$', 1) AS _kv_verb,
        coalesce(_p[7], j.sourceUri) AS _copy_source
    FROM fields
),
classified AS (
    SELECT
        typed.*,
        -- The blob a Storage request touched, as an id under its account: …/blobservices/default/containers/C/blobs/B.
        CASE WHEN contains(_rid_l, '/blobservices/') AND nullif(_path, '') IS NOT NULL
             THEN regexp_extract(_rid_l, '^(.*/blobservices/[^/]+)', 1) || '/containers/' || split_part(_path, '/', 1)
                  || coalesce('/blobs/' || nullif(_path[length(split_part(_path, '/', 1)) + 2:], ''), '') END AS _blob_id,
        _keyvault AND _op IN ('KeyDecrypt', 'KeyEncrypt', 'KeyUnwrap', 'KeyWrap', 'KeySign', 'KeyVerify') AS _key_use,
        _storage AND _op IN ('CopyBlob', 'CopyBlobFromURL', 'PutBlobFromURL', 'PutBlockFromURL', 'StartCopyFromURL') AS _copy,
        CASE
            WHEN _status_code >= 400 OR lower(j.resultType) IN ('failed', 'failure')
                 OR (_storage AND j.statusText IS NOT NULL AND j.statusText <> 'Success') THEN 'failure'
            ELSE 'success'
        END AS _outcome
    FROM typed
)
SELECT
    _time_text AS event_timestamp,
    _resource_id AS resource_id,
    _category AS category,
    _op AS operation_name,
    j.operationVersion AS operation_version,
    j.schemaVersion AS schema_version,
    j.resultType AS result_type,
    j.resultSignature AS result_signature,
    j.resultDescription AS result_description,
    _status_code AS status_code,
    j.statusText AS status_text,
    TRY_CAST(j.durationMs AS BIGINT) AS duration_ms,
    j.callerIpAddress AS caller_ip_address,
    j.correlationId AS correlation_id,
    j.level AS level,
    j.location AS location,
    j.tenantId AS tenant_id,
    j.protocol AS protocol,
    j.uri AS uri,
    j.identity AS identity,
    j.properties AS properties,

    -- common columns ---------------------------------------------------------------------------
    coalesce(nullif(j.eventDataId, ''), nullif(j.id, ''), azure_record_hash(r)) AS event_uid,
    'azure_resource' AS source,
    _time AS time,
    azure_subscription(_resource_id) AS account,
    _region AS region,
    azure_provider(regexp_extract(_resource_id, '(?i)/providers/([^/]+)/', 1)) AS service,
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
        WHEN _storage AND _category = 'StorageRead' THEN 'read'
        WHEN _storage AND _category = 'StorageWrite' THEN 'write'
        WHEN _storage AND _category = 'StorageDelete' THEN 'delete'
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
    CASE WHEN _outcome = 'failure' THEN coalesce(nullif(nullif(j.statusText, 'Success'), ''),
        nullif(j.resultSignature, ''), CAST(_status_code AS VARCHAR)) END AS error_code,
    coalesce(_c[1], _c[7], _req[1], _c[2], _c[5], _req[2], _c[3], _req[3], _req[5]) AS actor,
    lower(coalesce(_c[4], _c[6], _req[4], j.tenantId)) AS actor_account,
    azure_ip(j.callerIpAddress) AS src_ip,
    CAST(NULL AS VARCHAR) AS src_country,
    CAST(NULL AS VARCHAR) AS src_cloud,
    CAST(NULL AS VARCHAR) AS src_cloud_region,
    CAST(NULL AS VARCHAR) AS src_cloud_service,
    coalesce(_p[3], _p[4]) AS user_agent,
    -- A copy's record sits in the destination account's log: resource is the source, as its URL.
    CASE WHEN _copy AND _copy_source IS NOT NULL THEN split_part(_copy_source, '?', 1)
         WHEN _fragment THEN split_part(_p[2], '?', 1)
         ELSE coalesce(_blob_id, _rid_l) END AS resource,
    CASE WHEN _copy AND _copy_source IS NOT NULL THEN NULL ELSE _region END AS resource_region,
    CASE WHEN _copy THEN coalesce(_blob_id, _rid_l) END AS dest_resource,
    CASE WHEN _copy THEN _region END AS dest_region,
    CASE WHEN _keyvault AND starts_with(_op, 'Key') THEN _p[5] END AS key_id,
    CASE WHEN _storage AND _op IN ('GetBlob', 'GetFile', 'ReadFile')
         THEN TRY_CAST(_p[6] AS BIGINT) END AS bytes_out,
    $blob AS evidence_blob,
    CAST(coalesce($index_map[_position], _position - 1) AS INTEGER) AS evidence_index,
    $run AS ingest_run,
    CAST(_time AS DATE) AS date,

    CASE
        WHEN _time_text IS NULL AND NOT _fragment THEN 'record has no time'
        WHEN _time IS NULL THEN 'time is not a timestamp: ' || left(_time_text, 64)
        ELSE future_time_problem('time', _time_text, _time, $pull_started)
    END AS _problem
FROM classified
