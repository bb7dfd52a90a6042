-- The cloudtrail table: CloudTrail's own fields in snake_case, nested parts as JSON.
-- The common columns of docs/architecture.md and the partition date are appended by sovaudit.schema.
CREATE TABLE cloudtrail (
    event_version              VARCHAR,
    user_identity              JSON,
    user_identity_type         VARCHAR,
    user_identity_principal_id VARCHAR,
    user_identity_arn          VARCHAR,
    user_identity_account_id   VARCHAR,
    user_identity_access_key_id VARCHAR,
    user_identity_user_name    VARCHAR,
    user_identity_invoked_by   VARCHAR,
    session_issuer_arn         VARCHAR,
    event_time                 VARCHAR,
    event_source               VARCHAR,
    event_name                 VARCHAR,
    aws_region                 VARCHAR,
    source_ip_address          VARCHAR,
    error_message              VARCHAR,
    request_parameters         JSON,
    response_elements          JSON,
    additional_event_data      JSON,
    request_id                 VARCHAR,
    event_id                   VARCHAR,
    read_only                  BOOLEAN,
    resources                  JSON,
    arns                       VARCHAR[],  -- every ARN the record mentions
    event_type                 VARCHAR,
    api_version                VARCHAR,
    management_event           BOOLEAN,
    recipient_account_id       VARCHAR,
    shared_event_id            VARCHAR,
    vpc_endpoint_id            VARCHAR,
    vpc_endpoint_account_id    VARCHAR,
    event_category             VARCHAR,
    service_event_details      JSON,
    tls_details                JSON,
    session_credential_from_console VARCHAR,
    edge_device_details        JSON,
    insight_details            JSON,
    -- The fields the copies, guardrails, replicas, stores and combined session views read (queries/session/), typed
    -- at normalize (ct_* macros of queries/normalize/cloudtrail_macros.sql); NULL but for the calls that carry them.
    copy_call_fields           STRUCT(part VARCHAR, parent VARCHAR, name VARCHAR, value VARCHAR)[],  -- every scalar of a copy or sharing call's request and response
    bucket_location_constraint VARCHAR,    -- CreateBucket: CreateBucketConfiguration.LocationConstraint
    volume_id                  VARCHAR,    -- CreateVolume: the response's volumeId
    db_cluster_identifier      VARCHAR,    -- RDS create calls: the request's dBClusterIdentifier ...
    db_instance_identifier     VARCHAR,
    global_cluster_identifier  VARCHAR,
    source_db_cluster_identifier VARCHAR,
    replication_source_identifier VARCHAR,
    source_db_instance_identifier VARCHAR,
    table_name                 VARCHAR,    -- DynamoDB table and global table calls: tableName, globalTableName,
    global_table_name          VARCHAR,
    replica_regions            VARCHAR[],  -- and the regions of replicaUpdates[].create and replicationGroup[]
    org_policy                 STRUCT(id VARCHAR, type VARCHAR, name VARCHAR, content VARCHAR),  -- Organizations: the response's policy
    org_unit                   STRUCT(id VARCHAR, name VARCHAR),  -- CreateOrganizationalUnit: the response's unit
    policy_id                  VARCHAR,    -- Organizations requests: policyId, policyType, content,
    policy_type                VARCHAR,
    policy_content             VARCHAR,
    policy_target_id           VARCHAR,    -- and targetId, else rootId
    -- PutBucketReplication: each rule's Destination.Bucket (last: sovaudit.schema appends the common columns)
    replication_destinations   VARCHAR[],
    -- What the checks read of the request and the response, typed at normalize (cloudtrail_macros.sql) so that no
    -- check parses JSON; filled only for the events named. For IN-001, IN-002, KU-004, RT-001, XR-003, the report.
    -- PutBucketLifecycle(Configuration): each LifecycleConfiguration.Rule (one, or a list)
    lifecycle_rules            STRUCT(id VARCHAR, status VARCHAR, expiration_days INTEGER, expiration_date VARCHAR)[],
    -- CreateGrant: requestParameters.granteePrincipal
    grantee_principal          VARCHAR,
    -- ScheduleKeyDeletion: requestParameters.pendingWindowInDays (NULL when not a whole number)
    pending_window_in_days     INTEGER,
    -- The trail events (CreateTrail, UpdateTrail, DeleteTrail, StartLogging, StopLogging, PutEventSelectors,
    -- PutInsightSelectors): the trail the request names (trailName, else name: a name or an ARN), and the
    -- response's trailARN
    trail_name                 VARCHAR,
    trail_arn                  VARCHAR,
    -- The trail events: the trail settings they set, from the request, else the response (a field is NULL when the
    -- event leaves it as it was)
    trail_settings             STRUCT(multi_region BOOLEAN, global_service_events BOOLEAN, log_file_validation BOOLEAN,
                                      log_file_validation_requested BOOLEAN, kms_key_id VARCHAR,
                                      s3_bucket_name VARCHAR, s3_key_prefix VARCHAR),
    -- PutEventSelectors: the basic and the advanced selectors it puts (the request's, else the response's)
    event_selectors            STRUCT(read_write_type VARCHAR, include_management_events BOOLEAN,
                                      exclude_management_event_sources VARCHAR[],
                                      data_resources STRUCT(type VARCHAR, "values" VARCHAR[])[])[],
    advanced_event_selectors   STRUCT(name VARCHAR,
                                      field_selectors STRUCT(field VARCHAR, equals VARCHAR[], starts_with VARCHAR[],
                                                             ends_with VARCHAR[], not_equals VARCHAR[],
                                                             not_starts_with VARCHAR[], not_ends_with VARCHAR[])[])[],
    -- PutInsightSelectors: the insightType of each Insights selector
    insight_types              VARCHAR[]
);
