-- Normalize one CloudTrail blob into rows of the `cloudtrail` table.
--
-- Parameters (bound by sovaudit.ingest, never formatted into this text):
--   $path       a JSON array file holding the blob's records, byte-for-byte as delivered
--   $index_map  INTEGER[] giving each array element's position in the original blob, or NULL
--               when the array is the blob's own Records list (position = array position)
--   $blob       SHA-256 of the archived blob          $run  id of the pull
--   $blob_seq   order of the blob in this pull (first occurrence wins among duplicates)
--
-- Every column is read as VARCHAR or JSON so that a record with an odd type still loads;
-- typed values come from TRY_CAST below, and a record that cannot be placed in time or has
-- no eventID gets a `_problem` and is quarantined instead of stored.
WITH raw AS (
    SELECT row_number() OVER () AS _position, *
    FROM read_json($path, format = 'array', columns = {
        'eventVersion': 'VARCHAR', 'userIdentity': 'JSON', 'eventTime': 'VARCHAR',
        'eventSource': 'VARCHAR', 'eventName': 'VARCHAR', 'awsRegion': 'VARCHAR',
        'sourceIPAddress': 'VARCHAR', 'userAgent': 'VARCHAR', 'errorCode': 'VARCHAR',
        'errorMessage': 'VARCHAR', 'requestParameters': 'JSON', 'responseElements': 'JSON',
        'additionalEventData': 'JSON', 'requestID': 'VARCHAR', 'eventID': 'VARCHAR',
        'readOnly': 'VARCHAR', 'resources': 'JSON', 'eventType': 'VARCHAR',
        'apiVersion': 'VARCHAR', 'managementEvent': 'VARCHAR', 'recipientAccountId': 'VARCHAR',
        'sharedEventID': 'VARCHAR', 'vpcEndpointId': 'VARCHAR', 'vpcEndpointAccountId': 'VARCHAR',
        'eventCategory': 'VARCHAR', 'serviceEventDetails': 'JSON', 'tlsDetails': 'JSON',
        'sessionCredentialFromConsole': 'VARCHAR', 'edgeDeviceDetails': 'JSON',
        'insightDetails': 'JSON'
    })
),
typed AS (
    SELECT
        raw.*,
        TRY_CAST(eventTime AS TIMESTAMPTZ) AS _time,
        json_extract_string(userIdentity, '$.type') AS _ui_type,
        json_extract_string(userIdentity, '$.arn') AS _ui_arn,
        json_extract_string(userIdentity, '$.principalId') AS _ui_principal,
        json_extract_string(userIdentity, '$.accountId') AS _ui_account,
        json_extract_string(userIdentity, '$.invokedBy') AS _ui_invoked_by,
        json_extract_string(requestParameters, '$.bucketName') AS _bucket,
        json_extract_string(requestParameters, '$.key') AS _object_key,
        json_extract_string(requestParameters, '$."x-amz-copy-source"') AS _copy_source,
        json_extract_string(requestParameters, '$.Host') AS _s3_host,
        -- The KMS key a call used: the resources entry of type AWS::KMS::Key, else the keyId parameter.
        coalesce(
            list_filter(
                CAST(json_extract(resources, '$[*]') AS JSON[]),
                lambda r: json_extract_string(r, '$.type') = 'AWS::KMS::Key'
            )[1] ->> '$.ARN',
            CASE WHEN eventSource = 'kms.amazonaws.com'
                 THEN json_extract_string(requestParameters, '$.keyId') END,
            json_extract_string(requestParameters, '$."x-amz-server-side-encryption-aws-kms-key-id"'),
            json_extract_string(additionalEventData, '$.SSEKMSKeyId')
        ) AS _key,
        CAST(json_extract(resources, '$[0].ARN') ->> '$' AS VARCHAR) AS _first_arn
    FROM raw
)
SELECT
    eventVersion AS event_version,
    userIdentity AS user_identity,
    _ui_type AS user_identity_type,
    _ui_principal AS user_identity_principal_id,
    _ui_arn AS user_identity_arn,
    _ui_account AS user_identity_account_id,
    json_extract_string(userIdentity, '$.accessKeyId') AS user_identity_access_key_id,
    json_extract_string(userIdentity, '$.userName') AS user_identity_user_name,
    _ui_invoked_by AS user_identity_invoked_by,
    json_extract_string(userIdentity, '$.sessionContext.sessionIssuer.arn') AS session_issuer_arn,
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
    TRY_CAST(readOnly AS BOOLEAN) AS read_only,
    resources,
    eventType AS event_type,
    apiVersion AS api_version,
    TRY_CAST(managementEvent AS BOOLEAN) AS management_event,
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
             OR eventName LIKE 'GenerateDataKey%' OR eventName LIKE 'ReEncrypt%')
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
             OR eventName LIKE 'PutBucket%' OR eventName LIKE 'DeleteBucket_%'
             OR eventName LIKE '%Policy' OR eventName LIKE '%PolicyVersion'
             OR eventName LIKE 'Put%Configuration' OR eventName LIKE 'Attach%'
             OR eventName LIKE 'Detach%' OR eventName LIKE 'AuthorizeSecurityGroup%'
             OR eventName LIKE 'RevokeSecurityGroup%'
            THEN 'config'
        WHEN eventName LIKE 'Delete%' OR eventName LIKE 'Remove%' OR eventName LIKE 'Terminate%'
             OR eventName LIKE 'Purge%'
            THEN 'delete'
        WHEN eventName LIKE 'Get%' OR eventName LIKE 'List%' OR eventName LIKE 'Describe%'
             OR eventName LIKE 'Head%' OR eventName LIKE 'Lookup%' OR eventName LIKE 'Search%'
             OR eventName LIKE 'Select%' OR eventName LIKE 'BatchGet%'
             OR TRY_CAST(readOnly AS BOOLEAN)
            THEN 'read'
        WHEN eventName LIKE 'Put%' OR eventName LIKE 'Create%' OR eventName LIKE 'Update%'
             OR eventName LIKE 'Copy%' OR eventName LIKE 'Upload%' OR eventName LIKE 'Complete%'
             OR eventName LIKE 'Restore%' OR eventName LIKE 'Modify%' OR eventName LIKE 'Set%'
             OR eventName LIKE 'Run%' OR eventName LIKE 'Start%' OR eventName LIKE 'Stop%'
             OR eventName LIKE 'Import%' OR eventName LIKE 'BatchWrite%' OR eventName LIKE 'Send%'
            THEN 'write'
        ELSE 'other'
    END AS action_class,
    CASE
        WHEN errorCode IS NOT NULL THEN 'failure'
        WHEN json_extract_string(responseElements, '$.ConsoleLogin') = 'Failure' THEN 'failure'
        ELSE 'success'
    END AS outcome,
    coalesce(errorCode,
             CASE WHEN json_extract_string(responseElements, '$.ConsoleLogin') = 'Failure'
                  THEN 'ConsoleLoginFailure' END) AS error_code,
    coalesce(_ui_arn, _ui_invoked_by, _ui_principal, _ui_type) AS actor,
    _ui_account AS actor_account,
    -- Service callers put a host name here (e.g. cloudtrail.amazonaws.com): only addresses are src_ip.
    CASE WHEN regexp_full_match(sourceIPAddress, '[0-9]{1,3}(\.[0-9]{1,3}){3}')
              OR (regexp_full_match(sourceIPAddress, '[0-9A-Fa-f:.]+') AND contains(sourceIPAddress, ':'))
         THEN sourceIPAddress END AS src_ip,
    CAST(NULL AS VARCHAR) AS src_country,
    userAgent AS user_agent,
    CASE
        WHEN eventName IN ('CopyObject', 'UploadPartCopy') AND _copy_source IS NOT NULL
            THEN 'arn:aws:s3:::' || split_part(url_decode(ltrim(_copy_source, '/')), '?', 1)
        WHEN _bucket IS NOT NULL
            THEN 'arn:aws:s3:::' || _bucket || coalesce('/' || _object_key, '')
        WHEN eventSource = 'kms.amazonaws.com' AND _key IS NOT NULL THEN _key
        ELSE _first_arn
    END AS resource,
    CASE
        WHEN eventSource = 'kms.amazonaws.com' OR (_key IS NOT NULL AND _bucket IS NULL)
            THEN nullif(regexp_extract(_key, '^arn:aws[a-z-]*:kms:([a-z0-9-]+):', 1), '')
        WHEN eventSource = 's3.amazonaws.com' AND eventCategory = 'Data'
             AND eventName NOT IN ('CopyObject', 'UploadPartCopy')
            THEN awsRegion
        WHEN _s3_host IS NOT NULL
            THEN nullif(regexp_extract(_s3_host, 's3[.-](?:dualstack\.)?([a-z]{2}(?:-gov)?-[a-z]+-[0-9])\.', 1), '')
    END AS resource_region,
    CASE
        WHEN eventName IN ('CopyObject', 'UploadPartCopy') AND _bucket IS NOT NULL
            THEN 'arn:aws:s3:::' || _bucket || coalesce('/' || _object_key, '')
        WHEN eventName = 'PutBucketReplication'
            THEN coalesce(
                json_extract_string(requestParameters, '$.ReplicationConfiguration.Rule.Destination.Bucket'),
                json_extract_string(requestParameters, '$.ReplicationConfiguration.Rule[0].Destination.Bucket'))
        WHEN eventName = 'ReplicateKey'
            THEN json_extract_string(responseElements, '$.replicaKeyMetadata.arn')
    END AS dest_resource,
    CASE
        WHEN eventName IN ('CopyObject', 'UploadPartCopy') THEN awsRegion
        WHEN eventName = 'ReplicateKey' THEN json_extract_string(requestParameters, '$.replicaRegion')
    END AS dest_region,
    _key AS key_id,
    TRY_CAST(json_extract(additionalEventData, '$.bytesTransferredOut') AS BIGINT) AS bytes_out,
    $blob AS evidence_blob,
    CAST(coalesce($index_map[_position], _position - 1) AS INTEGER) AS evidence_index,
    $run AS ingest_run,
    CAST(_time AS DATE) AS date,

    CASE
        WHEN eventID IS NULL OR trim(eventID) = '' THEN 'record has no eventID'
        WHEN eventTime IS NULL THEN 'record has no eventTime'
        WHEN _time IS NULL THEN 'eventTime is not a timestamp: ' || left(eventTime, 64)
    END AS _problem,
    $blob_seq AS _blob_seq
FROM typed
