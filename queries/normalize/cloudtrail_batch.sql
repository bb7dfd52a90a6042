-- Normalize one CloudTrail blob's records, as the native extractor took them, into rows of the `cloudtrail` table:
-- the same rows as cloudtrail.sql (tests/test_native_normalize.py holds them to it), with no JSON parsing for the
-- fields the extractor took (queries/normalize/cloudtrail.fields.toml names them) and no file to read.
--
-- Reads: `extracted`, the Arrow batches of sovaudit.ingest.extract of one or more blobs (registered under that
-- name), whose `_position` is each record's position in its blob and `evidence_blob` its blob's SHA-256. Its
-- columns named after the table's (event_name, time, request_parameters, evidence_blob...) go into the lake as they
-- are (sovaudit/ingest/batch_rows.py): this query returns the table's other columns, `_problem`, and `_position`,
-- one row per batch row in the batch's order.
-- Parameters (bound, never formatted into this text): $run  id of the pull;
--   $pull_started  when the pull started: a record time more than a day after it is quarantined.
-- Macros: the ct_* macros of cloudtrail_macros.sql and time_macros.sql's future_time_problem.
--
-- One difference: a string field that holds an object or an array (never in a real record) is its JSON text as
-- delivered, where read_json's VARCHAR re-serializes it.
-- The file and S3 pulls run it (sovaudit/ingest/run.py, IngestRun._normalize_extracted). Still JSON work here:
-- resources[*].ARN, the replication rule's bucket (Rule may be an array), the ARNs in the request and response text,
-- and the typed columns of cloudtrail_macros.sql (what the session views and the checks read of the request and
-- the response), each only for the events that carry it.
WITH typed AS (
    -- The big members (request, response, resources) are read here only: what the later steps need of them.
    SELECT
        _position, event_id, event_time, time, event_source, event_name, aws_region, source_ip_address, _error_code,
        read_only, recipient_account_id, event_category, user_identity_type, user_identity_arn,
        user_identity_principal_id, user_identity_account_id, user_identity_invoked_by, _bucket, _object_key,
        _copy_source, _s3_host, _rp_key_id, _rp_sse_key, _replica_region, _ad_sse_key, _console_login,
        _replica_key_arn,
        -- The KMS key a call used: the resources entry that is a KMS key ARN.
        CASE WHEN contains(CAST(resources AS VARCHAR), ':kms:') THEN nullif(regexp_extract(
            CAST(resources AS VARCHAR), '"(arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]+:key/[^"]+)"', 1), '') END AS _res_key,
        CASE WHEN resources IS NOT NULL THEN json_extract_string(resources, '$[0].ARN') END AS _first_arn,
        CASE WHEN event_name = 'PutBucketReplication' THEN coalesce(
            json_extract_string(request_parameters, '$.ReplicationConfiguration.Rule.Destination.Bucket'),
            json_extract_string(request_parameters, '$.ReplicationConfiguration.Rule[0].Destination.Bucket'))
        END AS _replication_bucket,
        -- The ARNs of resources[].ARN, and each ARN-looking string in the request and the response.
        list_concat(
            CASE WHEN resources IS NOT NULL
                 THEN list_filter(json_extract_string(resources, '$[*].ARN'), lambda a: starts_with(a, 'arn:')) END,
            ct_arns_in(CAST(request_parameters AS VARCHAR)), ct_arns_in(CAST(response_elements AS VARCHAR))) AS _arns_named,
        -- The fields the copies, guardrails, replicas, stores and combined session views read (cloudtrail_macros.sql).
        ct_bucket_location_constraint(event_source, event_name, request_parameters) AS bucket_location_constraint,
        ct_volume_id(event_name, response_elements) AS volume_id,
        ct_rds_identifier(event_name, request_parameters, 'dBClusterIdentifier') AS db_cluster_identifier,
        ct_rds_identifier(event_name, request_parameters, 'dBInstanceIdentifier') AS db_instance_identifier,
        ct_rds_identifier(event_name, request_parameters, 'globalClusterIdentifier') AS global_cluster_identifier,
        ct_rds_identifier(event_name, request_parameters, 'sourceDBClusterIdentifier') AS source_db_cluster_identifier,
        ct_rds_identifier(event_name, request_parameters, 'replicationSourceIdentifier') AS replication_source_identifier,
        ct_rds_identifier(event_name, request_parameters, 'sourceDBInstanceIdentifier') AS source_db_instance_identifier,
        ct_dynamodb_member(event_name, request_parameters, 'tableName') AS table_name,
        ct_dynamodb_member(event_name, request_parameters, 'globalTableName') AS global_table_name,
        ct_replica_regions(event_name, request_parameters) AS replica_regions,
        ct_org_policy(event_source, event_name, response_elements) AS org_policy,
        ct_org_unit(event_source, event_name, response_elements) AS org_unit,
        ct_org_member(event_source, request_parameters, 'policyId') AS policy_id,
        ct_org_member(event_source, request_parameters, 'policyType') AS policy_type,
        ct_org_member(event_source, request_parameters, 'content') AS policy_content,
        coalesce(ct_org_member(event_source, request_parameters, 'targetId'),
                 ct_org_member(event_source, request_parameters, 'rootId')) AS policy_target_id,
        ct_replication_destinations(event_name, request_parameters) AS replication_destinations,
        regexp_extract(event_name, '^[A-Z][a-z]*') AS _verb,
        -- The typed columns of cloudtrail_macros.sql (IN-001, IN-002, KU-004, RT-001, XR-003, the report).
        CASE WHEN event_name IN ('PutBucketLifecycle', 'PutBucketLifecycleConfiguration')
             THEN ct_lifecycle_rules(request_parameters) END AS lifecycle_rules,
        CASE WHEN event_name = 'CreateGrant'
             THEN json_extract_string(request_parameters, '$.granteePrincipal') END AS grantee_principal,
        CASE WHEN event_name = 'ScheduleKeyDeletion'
             THEN TRY_CAST(json_extract_string(request_parameters, '$.pendingWindowInDays') AS INTEGER)
        END AS pending_window_in_days,
        CASE WHEN ct_trail_event(event_name) THEN ct_trail_name(request_parameters) END AS trail_name,
        CASE WHEN ct_trail_event(event_name) THEN ct_member_text(response_elements, 'trailARN') END AS trail_arn,
        CASE WHEN ct_trail_event(event_name)
             THEN ct_trail_settings(request_parameters, response_elements) END AS trail_settings,
        CASE WHEN event_name = 'PutEventSelectors'
             THEN ct_event_selectors(request_parameters, response_elements) END AS event_selectors,
        CASE WHEN event_name = 'PutEventSelectors'
             THEN ct_advanced_event_selectors(request_parameters, response_elements) END AS advanced_event_selectors,
        CASE WHEN event_name = 'PutInsightSelectors' THEN ct_insight_types(request_parameters) END AS insight_types
    FROM extracted
),
fields AS (
    SELECT
        typed.*,
        coalesce(_res_key,
                 CASE WHEN event_source = 'kms.amazonaws.com' THEN _rp_key_id END,
                 _rp_sse_key, _ad_sse_key) AS _key,
        CASE WHEN event_name = 'ConsoleLogin' THEN _console_login = 'Failure' ELSE false END AS _login_failed
    FROM typed
),
targets AS (
    SELECT
        fields.*,
        CASE
            WHEN event_name IN ('CopyObject', 'UploadPartCopy') AND _copy_source IS NOT NULL
                THEN 'arn:aws:s3:::' || split_part(url_decode(ltrim(_copy_source, '/')), '?', 1)
            WHEN _bucket IS NOT NULL
                THEN 'arn:aws:s3:::' || _bucket || coalesce('/' || _object_key, '')
            WHEN event_source = 'kms.amazonaws.com' AND _key IS NOT NULL THEN _key
            ELSE _first_arn
        END AS _resource,
        CASE
            WHEN event_name IN ('CopyObject', 'UploadPartCopy') AND _bucket IS NOT NULL
                THEN 'arn:aws:s3:::' || _bucket || coalesce('/' || _object_key, '')
            WHEN event_name = 'PutBucketReplication'
                THEN _replication_bucket
            WHEN event_name = 'ReplicateKey'
                THEN _replica_key_arn
        END AS _dest_resource
    FROM fields
)
SELECT
    _position,
    -- The typed columns of cloudtrail_macros.sql (IN-001, IN-002, KU-004, RT-001, XR-003, the report).
    lifecycle_rules, grantee_principal, pending_window_in_days, trail_name, trail_arn,
    trail_settings, event_selectors, advanced_event_selectors, insight_types,
    -- Every ARN the record mentions, sorted: the resource and destination, the key, and those named above
    -- (cloudtrail_finish.sql adds a resource it names).
    list_sort(list_distinct(list_concat(
        [ct_if_arn(_resource), ct_if_arn(_dest_resource), ct_if_arn(_key)], _arns_named))) AS arns,
    -- The fields the copies, guardrails, replicas, stores and combined session views read, as `typed` took them
    -- (copy_call_fields: cloudtrail_finish.sql).
    CAST(NULL AS STRUCT(part VARCHAR, parent VARCHAR, name VARCHAR, value VARCHAR)[]) AS copy_call_fields,
    bucket_location_constraint, volume_id, db_cluster_identifier, db_instance_identifier,
    global_cluster_identifier, source_db_cluster_identifier, replication_source_identifier,
    source_db_instance_identifier, table_name, global_table_name, replica_regions, org_policy, org_unit, policy_id,
    policy_type, policy_content, policy_target_id, replication_destinations,

    -- common columns ---------------------------------------------------------------------------
    event_id AS event_uid,
    'cloudtrail' AS source,
    coalesce(recipient_account_id, user_identity_account_id) AS account,
    aws_region AS region,
    event_source AS service,
    event_name AS action,
    CASE
        WHEN event_source = 'kms.amazonaws.com' AND (
             event_name IN ('Decrypt', 'Encrypt', 'Sign', 'Verify', 'GenerateMac', 'VerifyMac',
                           'GenerateRandom', 'DeriveSharedSecret')
             OR starts_with(event_name, 'GenerateDataKey') OR starts_with(event_name, 'ReEncrypt'))
            THEN 'key_use'
        WHEN event_source IN ('signin.amazonaws.com', 'sts.amazonaws.com', 'sso.amazonaws.com',
                             'sso-oauth.amazonaws.com')
             OR event_name IN ('ConsoleLogin', 'CreateLoginProfile', 'CreateAccessKey', 'GetSessionToken')
            THEN 'auth'
        WHEN event_name IN ('StopLogging', 'StartLogging', 'CreateTrail', 'UpdateTrail', 'DeleteTrail',
                           'PutEventSelectors', 'PutInsightSelectors', 'PutKeyPolicy', 'EnableKey',
                           'DisableKey', 'EnableKeyRotation', 'DisableKeyRotation', 'ScheduleKeyDeletion',
                           'CancelKeyDeletion', 'CreateGrant', 'RetireGrant', 'RevokeGrant',
                           'ReplicateKey', 'UpdatePrimaryRegion')
             OR _verb IN ('Attach', 'Detach')
             OR starts_with(event_name, 'PutBucket') OR starts_with(event_name, 'DeleteBucket') AND event_name <> 'DeleteBucket'
             OR ends_with(event_name, 'Policy') OR ends_with(event_name, 'PolicyVersion')
             OR _verb = 'Put' AND ends_with(event_name, 'Configuration')
             OR starts_with(event_name, 'AuthorizeSecurityGroup') OR starts_with(event_name, 'RevokeSecurityGroup')
            THEN 'config'
        WHEN _verb IN ('Delete', 'Remove', 'Terminate', 'Purge')
            THEN 'delete'
        WHEN _verb IN ('Get', 'List', 'Describe', 'Head', 'Lookup', 'Search', 'Select')
             OR starts_with(event_name, 'BatchGet') OR read_only
            THEN 'read'
        WHEN _verb IN ('Put', 'Create', 'Update', 'Copy', 'Upload', 'Complete', 'Restore', 'Modify', 'Set',
                       'Run', 'Start', 'Stop', 'Import', 'Send')
             OR starts_with(event_name, 'BatchWrite')
            THEN 'write'
        ELSE 'other'
    END AS action_class,
    CASE WHEN _error_code IS NOT NULL OR _login_failed THEN 'failure' ELSE 'success' END AS outcome,
    coalesce(_error_code, CASE WHEN _login_failed THEN 'ConsoleLoginFailure' END) AS error_code,
    coalesce(user_identity_arn, user_identity_invoked_by, user_identity_principal_id, user_identity_type) AS actor,
    user_identity_account_id AS actor_account,
    -- Service callers put a host name here (e.g. cloudtrail.amazonaws.com): only addresses are src_ip.
    CASE WHEN regexp_full_match(source_ip_address, '[0-9]{1,3}(\.[0-9]{1,3}){3}|[0-9A-Fa-f.]*:[0-9A-Fa-f:.]*')
         THEN source_ip_address END AS src_ip,
    CAST(NULL AS VARCHAR) AS src_country,
    CAST(NULL AS VARCHAR) AS src_cloud,
    CAST(NULL AS VARCHAR) AS src_cloud_region,
    CAST(NULL AS VARCHAR) AS src_cloud_service,
    _resource AS resource,
    CASE
        WHEN event_source = 'kms.amazonaws.com' OR (_key IS NOT NULL AND _bucket IS NULL)
            THEN nullif(regexp_extract(_key, '^arn:aws[a-z-]*:kms:([a-z0-9-]+):', 1), '')
        WHEN event_source = 's3.amazonaws.com' AND event_category = 'Data'
             AND event_name NOT IN ('CopyObject', 'UploadPartCopy')
            THEN aws_region
        WHEN _s3_host IS NOT NULL
            THEN nullif(regexp_extract(_s3_host, 's3[.-](?:dualstack\.)?([a-z]{2}(?:-gov)?-[a-z]+-[0-9])\.', 1), '')
    END AS resource_region,
    _dest_resource AS dest_resource,
    CASE
        WHEN event_name IN ('CopyObject', 'UploadPartCopy') THEN aws_region
        WHEN event_name = 'ReplicateKey' THEN _replica_region
    END AS dest_region,
    _key AS key_id,
    CAST(_position AS INTEGER) AS evidence_index,
    $run AS ingest_run,
    CAST(time AS DATE) AS date,

    CASE
        WHEN event_id IS NULL OR trim(event_id) = '' THEN 'record has no eventID'
        WHEN event_time IS NULL THEN 'record has no eventTime'
        WHEN time IS NULL THEN 'eventTime is not a timestamp: ' || left(event_time, 64)
        ELSE future_time_problem('eventTime', event_time, time, $pull_started)
    END AS _problem
FROM targets
