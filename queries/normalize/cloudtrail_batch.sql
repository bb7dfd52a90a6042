-- Normalize one CloudTrail blob's records, as the native extractor took them, into rows of the `cloudtrail` table:
-- the same rows as cloudtrail.sql (tests/test_native_normalize.py holds them to it), with no JSON parsing for the
-- fields the extractor took (queries/normalize/cloudtrail.fields.toml names them) and no file to read.
--
-- Reads: `extracted`, the Arrow record batch of sovaudit.ingest.extract (registered under that name), whose
-- `_position` is each record's position in the blob and `_time` its eventTime read as RFC 3339.
-- Parameters (bound, never formatted into this text): $blob  SHA-256 of the archived blob;  $run  id of the pull;
--   $pull_started  when the pull started: a record time more than a day after it is quarantined.
-- Macros: the ct_* macros of cloudtrail_macros.sql and time_macros.sql's future_time_problem.
--
-- One difference: a string field that holds an object or an array (never in a real record) is its JSON text as
-- delivered, where read_json's VARCHAR re-serializes it.
-- The file and S3 pulls run it (sovaudit/ingest/run.py, IngestRun._normalize_extracted). Still JSON work here:
-- resources[*].ARN, the replication rule's bucket (Rule may be an array), the ARNs in the request and response text.
WITH typed AS MATERIALIZED (
    SELECT
        extracted.*,
        -- The KMS key a call used: the resources entry that is a KMS key ARN.
        CASE WHEN contains(CAST(resources AS VARCHAR), ':kms:') THEN nullif(regexp_extract(
            CAST(resources AS VARCHAR), '"(arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]+:key/[^"]+)"', 1), '') END AS _res_key,
        CASE WHEN resources IS NOT NULL THEN json_extract_string(resources, '$[0].ARN') END AS _first_arn,
        regexp_extract(eventName, '^[A-Z][a-z]*') AS _verb
    FROM extracted
),
fields AS MATERIALIZED (
    SELECT
        typed.*,
        coalesce(_res_key,
                 CASE WHEN eventSource = 'kms.amazonaws.com' THEN _rp_key_id END,
                 _rp_sse_key, _ad_sse_key) AS _key,
        CASE WHEN eventName = 'ConsoleLogin' THEN _console_login = 'Failure' ELSE false END AS _login_failed
    FROM typed
),
targets AS (
    SELECT
        fields.*,
        CASE
            WHEN eventName IN ('CopyObject', 'UploadPartCopy') AND _copy_source IS NOT NULL
                THEN 'arn:aws:s3:::' || split_part(url_decode(ltrim(_copy_source, '/')), '?', 1)
            WHEN _bucket IS NOT NULL
                THEN 'arn:aws:s3:::' || _bucket || coalesce('/' || _object_key, '')
            WHEN eventSource = 'kms.amazonaws.com' AND _key IS NOT NULL THEN _key
            ELSE _first_arn
        END AS _resource,
        CASE
            WHEN eventName IN ('CopyObject', 'UploadPartCopy') AND _bucket IS NOT NULL
                THEN 'arn:aws:s3:::' || _bucket || coalesce('/' || _object_key, '')
            WHEN eventName = 'PutBucketReplication'
                THEN coalesce(
                    json_extract_string(requestParameters, '$.ReplicationConfiguration.Rule.Destination.Bucket'),
                    json_extract_string(requestParameters, '$.ReplicationConfiguration.Rule[0].Destination.Bucket'))
            WHEN eventName = 'ReplicateKey'
                THEN _replica_key_arn
        END AS _dest_resource
    FROM fields
)
SELECT
    eventVersion AS event_version,
    userIdentity AS user_identity,
    _ui_type AS user_identity_type,
    _ui_principal AS user_identity_principal_id,
    _ui_arn AS user_identity_arn,
    _ui_account AS user_identity_account_id,
    _ui_access_key AS user_identity_access_key_id,
    _ui_user_name AS user_identity_user_name,
    _ui_invoked_by AS user_identity_invoked_by,
    _session_issuer_arn AS session_issuer_arn,
    eventTime AS event_time,
    eventSource AS event_source,
    eventName AS event_name,
    awsRegion AS aws_region,
    sourceIPAddress AS source_ip_address,
    errorMessage AS error_message,
    requestParameters AS request_parameters,
    responseElements AS response_elements,
    additionalEventData AS additional_event_data,
    requestID AS request_id,
    eventID AS event_id,
    readOnly AS read_only,
    resources,
    -- Every ARN the record mentions, sorted: the resource and destination, the key, resources[].ARN, and each
    -- ARN-looking string in the request and the response (cloudtrail_finish.sql adds a resource it names).
    list_sort(list_distinct(list_concat(
        [ct_if_arn(_resource), ct_if_arn(_dest_resource), ct_if_arn(_key)],
        CASE WHEN resources IS NOT NULL
             THEN list_filter(json_extract_string(resources, '$[*].ARN'), lambda a: starts_with(a, 'arn:')) END,
        ct_arns_in(CAST(requestParameters AS VARCHAR)), ct_arns_in(CAST(responseElements AS VARCHAR))))) AS arns,
    eventType AS event_type,
    apiVersion AS api_version,
    managementEvent AS management_event,
    recipientAccountId AS recipient_account_id,
    sharedEventID AS shared_event_id,
    vpcEndpointId AS vpc_endpoint_id,
    vpcEndpointAccountId AS vpc_endpoint_account_id,
    eventCategory AS event_category,
    serviceEventDetails AS service_event_details,
    tlsDetails AS tls_details,
    sessionCredentialFromConsole AS session_credential_from_console,
    edgeDeviceDetails AS edge_device_details,
    insightDetails AS insight_details,

    -- common columns ---------------------------------------------------------------------------
    eventID AS event_uid,
    'cloudtrail' AS source,
    _time AS time,
    coalesce(recipientAccountId, _ui_account) AS account,
    awsRegion AS region,
    eventSource AS service,
    eventName AS action,
    CASE
        WHEN eventSource = 'kms.amazonaws.com' AND (
             eventName IN ('Decrypt', 'Encrypt', 'Sign', 'Verify', 'GenerateMac', 'VerifyMac',
                           'GenerateRandom', 'DeriveSharedSecret')
             OR starts_with(eventName, 'GenerateDataKey') OR starts_with(eventName, 'ReEncrypt'))
            THEN 'key_use'
        WHEN eventSource IN ('signin.amazonaws.com', 'sts.amazonaws.com', 'sso.amazonaws.com',
                             'sso-oauth.amazonaws.com')
             OR eventName IN ('ConsoleLogin', 'CreateLoginProfile', 'CreateAccessKey', 'GetSessionToken')
            THEN 'auth'
        WHEN eventName IN ('StopLogging', 'StartLogging', 'CreateTrail', 'UpdateTrail', 'DeleteTrail',
                           'PutEventSelectors', 'PutInsightSelectors', 'PutKeyPolicy', 'EnableKey',
                           'DisableKey', 'EnableKeyRotation', 'DisableKeyRotation', 'ScheduleKeyDeletion',
                           'CancelKeyDeletion', 'CreateGrant', 'RetireGrant', 'RevokeGrant',
                           'ReplicateKey', 'UpdatePrimaryRegion')
             OR _verb IN ('Attach', 'Detach')
             OR starts_with(eventName, 'PutBucket') OR starts_with(eventName, 'DeleteBucket') AND eventName <> 'DeleteBucket'
             OR ends_with(eventName, 'Policy') OR ends_with(eventName, 'PolicyVersion')
             OR _verb = 'Put' AND ends_with(eventName, 'Configuration')
             OR starts_with(eventName, 'AuthorizeSecurityGroup') OR starts_with(eventName, 'RevokeSecurityGroup')
            THEN 'config'
        WHEN _verb IN ('Delete', 'Remove', 'Terminate', 'Purge')
            THEN 'delete'
        WHEN _verb IN ('Get', 'List', 'Describe', 'Head', 'Lookup', 'Search', 'Select')
             OR starts_with(eventName, 'BatchGet') OR readOnly
            THEN 'read'
        WHEN _verb IN ('Put', 'Create', 'Update', 'Copy', 'Upload', 'Complete', 'Restore', 'Modify', 'Set',
                       'Run', 'Start', 'Stop', 'Import', 'Send')
             OR starts_with(eventName, 'BatchWrite')
            THEN 'write'
        ELSE 'other'
    END AS action_class,
    CASE WHEN errorCode IS NOT NULL OR _login_failed THEN 'failure' ELSE 'success' END AS outcome,
    coalesce(errorCode, CASE WHEN _login_failed THEN 'ConsoleLoginFailure' END) AS error_code,
    coalesce(_ui_arn, _ui_invoked_by, _ui_principal, _ui_type) AS actor,
    _ui_account AS actor_account,
    -- Service callers put a host name here (e.g. cloudtrail.amazonaws.com): only addresses are src_ip.
    CASE WHEN regexp_full_match(sourceIPAddress, '[0-9]{1,3}(\.[0-9]{1,3}){3}|[0-9A-Fa-f.]*:[0-9A-Fa-f:.]*')
         THEN sourceIPAddress END AS src_ip,
    CAST(NULL AS VARCHAR) AS src_country,
    CAST(NULL AS VARCHAR) AS src_cloud,
    CAST(NULL AS VARCHAR) AS src_cloud_region,
    CAST(NULL AS VARCHAR) AS src_cloud_service,
    userAgent AS user_agent,
    _resource AS resource,
    CASE
        WHEN eventSource = 'kms.amazonaws.com' OR (_key IS NOT NULL AND _bucket IS NULL)
            THEN nullif(regexp_extract(_key, '^arn:aws[a-z-]*:kms:([a-z0-9-]+):', 1), '')
        WHEN eventSource = 's3.amazonaws.com' AND eventCategory = 'Data'
             AND eventName NOT IN ('CopyObject', 'UploadPartCopy')
            THEN awsRegion
        WHEN _s3_host IS NOT NULL
            THEN nullif(regexp_extract(_s3_host, 's3[.-](?:dualstack\.)?([a-z]{2}(?:-gov)?-[a-z]+-[0-9])\.', 1), '')
    END AS resource_region,
    _dest_resource AS dest_resource,
    CASE
        WHEN eventName IN ('CopyObject', 'UploadPartCopy') THEN awsRegion
        WHEN eventName = 'ReplicateKey' THEN _replica_region
    END AS dest_region,
    _key AS key_id,
    _bytes_out AS bytes_out,
    $blob AS evidence_blob,
    CAST(_position AS INTEGER) AS evidence_index,
    $run AS ingest_run,
    CAST(_time AS DATE) AS date,

    CASE
        WHEN eventID IS NULL OR trim(eventID) = '' THEN 'record has no eventID'
        WHEN eventTime IS NULL THEN 'record has no eventTime'
        WHEN _time IS NULL THEN 'eventTime is not a timestamp: ' || left(eventTime, 64)
        ELSE future_time_problem('eventTime', eventTime, _time, $pull_started)
    END AS _problem
FROM targets
