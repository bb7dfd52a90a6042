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
    replication_destinations   VARCHAR[]
);
