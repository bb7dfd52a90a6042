-- Normalize one CloudTrail blob into rows of the `cloudtrail` table.
--
-- Parameters (bound by sovaudit.ingest, never formatted into this text):
--   $path       a JSON array file holding the blob's records, byte-for-byte as delivered
--   $index_map  INTEGER[] giving each array element's position in the original blob, or NULL
--               when the array is the blob's own Records list (position = array position)
--   $blob       SHA-256 of the archived blob          $run  id of the pull
--   $pull_started  when the pull started: a record time more than a day after it is quarantined
--
-- Macros (created once per pull): the ct_* macros of cloudtrail_macros.sql. The resource of the services other than
-- S3 and KMS comes after, from the mapping table (cloudtrail_finish.sql).
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
typed AS MATERIALIZED (
    -- Each JSON column is parsed once: one multi-path extraction per column, read by position below.
    SELECT
        raw.*,
        rfc3339_time(eventTime) AS _time,
        json_extract_string(userIdentity, ['$.type', '$.arn', '$.principalId', '$.accountId', '$.invokedBy',
                                           '$.accessKeyId', '$.userName', '$.sessionContext.sessionIssuer.arn']) AS _ui,
        json_extract_string(requestParameters, ['$.bucketName', '$.key', '$."x-amz-copy-source"', '$.Host',
                                                '$.keyId', '$."x-amz-server-side-encryption-aws-kms-key-id"']) AS _rp,
        json_extract_string(additionalEventData, ['$.bytesTransferredOut', '$.SSEKMSKeyId']) AS _ad,
        -- The KMS key a call used: the resources entry that is a KMS key ARN.
        CASE WHEN contains(CAST(resources AS VARCHAR), ':kms:') THEN nullif(regexp_extract(
            CAST(resources AS VARCHAR), '"(arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]+:key/[^"]+)"', 1), '') END AS _res_key,
        CASE WHEN resources IS NOT NULL THEN json_extract_string(resources, '$[0].ARN') END AS _first_arn,
        regexp_extract(eventName, '^[A-Z][a-z]*') AS _verb
    FROM raw
),
fields AS MATERIALIZED (
    SELECT
        typed.*,
        _ui[1] AS _ui_type, _ui[2] AS _ui_arn, _ui[3] AS _ui_principal, _ui[4] AS _ui_account,
        _ui[5] AS _ui_invoked_by,
        _rp[1] AS _bucket, _rp[2] AS _object_key, _rp[3] AS _copy_source, _rp[4] AS _s3_host,
        coalesce(_res_key,
                 CASE WHEN eventSource = 'kms.amazonaws.com' THEN _rp[5] END,
                 _rp[6], _ad[2]) AS _key,
        CASE WHEN eventName = 'ConsoleLogin'
             THEN json_extract_string(responseElements, '$.ConsoleLogin') = 'Failure' ELSE false END AS _login_failed
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
                THEN json_extract_string(responseElements, '$.replicaKeyMetadata.arn')
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
    _ui[6] AS user_identity_access_key_id,
    _ui[7] AS user_identity_user_name,
    _ui_invoked_by AS user_identity_invoked_by,
    _ui[8] AS session_issuer_arn,
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
    -- Every ARN the record mentions, sorted: the resource and destination, the key, resources[].ARN, and each
    -- ARN-looking string in the request and the response (cloudtrail_finish.sql adds a resource it names).
    list_sort(list_distinct(list_concat(
        [ct_if_arn(_resource), ct_if_arn(_dest_resource), ct_if_arn(_key)],
        CASE WHEN resources IS NOT NULL
             THEN list_filter(json_extract_string(resources, '$[*].ARN'), lambda a: starts_with(a, 'arn:')) END,
        ct_arns_in(CAST(requestParameters AS VARCHAR)), ct_arns_in(CAST(responseElements AS VARCHAR))))) AS arns,
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
    -- The fields the copies, guardrails, replicas, stores and combined session views read (cloudtrail_macros.sql).
    -- (copy_call_fields: cloudtrail_finish.sql, over the few copy and sharing calls of a flush)
    CAST(NULL AS STRUCT(part VARCHAR, parent VARCHAR, name VARCHAR, value VARCHAR)[]) AS copy_call_fields,
    ct_bucket_location_constraint(eventSource, eventName, requestParameters) AS bucket_location_constraint,
    ct_volume_id(eventName, responseElements) AS volume_id,
    ct_rds_identifier(eventName, requestParameters, 'dBClusterIdentifier') AS db_cluster_identifier,
    ct_rds_identifier(eventName, requestParameters, 'dBInstanceIdentifier') AS db_instance_identifier,
    ct_rds_identifier(eventName, requestParameters, 'globalClusterIdentifier') AS global_cluster_identifier,
    ct_rds_identifier(eventName, requestParameters, 'sourceDBClusterIdentifier') AS source_db_cluster_identifier,
    ct_rds_identifier(eventName, requestParameters, 'replicationSourceIdentifier') AS replication_source_identifier,
    ct_rds_identifier(eventName, requestParameters, 'sourceDBInstanceIdentifier') AS source_db_instance_identifier,
    ct_dynamodb_member(eventName, requestParameters, 'tableName') AS table_name,
    ct_dynamodb_member(eventName, requestParameters, 'globalTableName') AS global_table_name,
    ct_replica_regions(eventName, requestParameters) AS replica_regions,
    ct_org_policy(eventSource, eventName, responseElements) AS org_policy,
    ct_org_unit(eventSource, eventName, responseElements) AS org_unit,
    ct_org_member(eventSource, requestParameters, 'policyId') AS policy_id,
    ct_org_member(eventSource, requestParameters, 'policyType') AS policy_type,
    ct_org_member(eventSource, requestParameters, 'content') AS policy_content,
    coalesce(ct_org_member(eventSource, requestParameters, 'targetId'),
             ct_org_member(eventSource, requestParameters, 'rootId')) AS policy_target_id,
    ct_replication_destinations(eventName, requestParameters) AS replication_destinations,
    -- The typed columns of cloudtrail_macros.sql (IN-001, IN-002, KU-004, RT-001, XR-003, the report).
    CASE WHEN eventName IN ('PutBucketLifecycle', 'PutBucketLifecycleConfiguration')
         THEN ct_lifecycle_rules(requestParameters) END AS lifecycle_rules,
    CASE WHEN eventName = 'CreateGrant'
         THEN json_extract_string(requestParameters, '$.granteePrincipal') END AS grantee_principal,
    CASE WHEN eventName = 'ScheduleKeyDeletion'
         THEN TRY_CAST(json_extract_string(requestParameters, '$.pendingWindowInDays') AS INTEGER)
    END AS pending_window_in_days,
    CASE WHEN ct_trail_event(eventName) THEN ct_trail_name(requestParameters) END AS trail_name,
    CASE WHEN ct_trail_event(eventName) THEN ct_member_text(responseElements, 'trailARN') END AS trail_arn,
    CASE WHEN ct_trail_event(eventName) THEN ct_trail_settings(requestParameters, responseElements) END AS trail_settings,
    CASE WHEN eventName = 'PutEventSelectors'
         THEN ct_event_selectors(requestParameters, responseElements) END AS event_selectors,
    CASE WHEN eventName = 'PutEventSelectors'
         THEN ct_advanced_event_selectors(requestParameters, responseElements) END AS advanced_event_selectors,
    CASE WHEN eventName = 'PutInsightSelectors' THEN ct_insight_types(requestParameters) END AS insight_types,

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
             OR starts_with(eventName, 'BatchGet') OR TRY_CAST(readOnly AS BOOLEAN)
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
        WHEN eventName = 'ReplicateKey' THEN json_extract_string(requestParameters, '$.replicaRegion')
    END AS dest_region,
    _key AS key_id,
    TRY_CAST(_ad[1] AS BIGINT) AS bytes_out,
    $blob AS evidence_blob,
    CAST(coalesce($index_map[_position], _position - 1) AS INTEGER) AS evidence_index,
    $run AS ingest_run,
    CAST(_time AS DATE) AS date,

    CASE
        -- Without an eventID a record is most likely no CloudTrail record at all. The careful path sets it aside
        -- naming the keys it has, which this query cannot see: read whole ($index_map NULL), the blob goes there.
        WHEN eventID IS NULL AND $index_map IS NULL THEN error('a record without an eventID: split the blob')
        WHEN eventID IS NULL OR trim(eventID) = '' THEN 'record has no eventID'
        WHEN eventTime IS NULL THEN 'record has no eventTime'
        WHEN _time IS NULL THEN 'eventTime is not a timestamp: ' || left(eventTime, 64)
        ELSE future_time_problem('eventTime', eventTime, _time, $pull_started)
    END AS _problem
FROM targets
