-- Helpers of cloudtrail.sql and cloudtrail_finish.sql; created once per pull, before them
-- (CloudTrailPreparer.setup_queries).

-- The value of a JSON object's key, the key matched case-insensitively (`key` is in lower case): most services
-- log their parameters in camelCase (secretId), some in the API's PascalCase (SecretId). NULL when the object has
-- no such key, or is not an object.
CREATE OR REPLACE MACRO ct_key(node, key) AS
    json_extract(node, list_filter(json_keys(node), lambda k: lower(k) = key)[1]);

-- A JSON value as text: a string or a number, else NULL (an object or a list names no resource).
CREATE OR REPLACE MACRO ct_scalar(value) AS
    CASE WHEN json_type(value) IN ('VARCHAR', 'BIGINT', 'UBIGINT') THEN trim(json_extract_string(value, '$')) END;

-- A parameter after a mapping rule's filter, or NULL when it names nothing: missing, empty, or the wildcard '*'.
-- `text` must be a plain column or lambda variable: a macro repeats its arguments.
CREATE OR REPLACE MACRO ct_param_text(text, filter) AS nullif(nullif(CASE filter
    WHEN 'lower' THEN lower(text)
    WHEN 'basename' THEN regexp_extract(rtrim(text, '/'), '[^/]*$')
    WHEN 'noslash' THEN ltrim(text, '/')
    ELSE text
END, ''), '*');

-- The AWS partition of a region, for ARNs built from names.
CREATE OR REPLACE MACRO ct_partition(region) AS CASE
    WHEN starts_with(region, 'cn-') THEN 'aws-cn'
    WHEN starts_with(region, 'us-gov-') THEN 'aws-us-gov'
    WHEN starts_with(region, 'us-isob-') THEN 'aws-iso-b'
    WHEN starts_with(region, 'us-iso-') THEN 'aws-iso'
    ELSE 'aws'
END;

-- Every ARN-looking string in a JSON text (resources[], request parameters, response elements): quoted values,
-- and ARNs inside embedded documents such as policies, which end at their escaped quote. A `|` ends one too:
-- stream iterators and tokens put an ARN first and opaque data after it.
CREATE OR REPLACE MACRO ct_arns_in(text) AS
    CASE WHEN contains(text, 'arn:')
         THEN regexp_extract_all(text, 'arn:aws[a-z-]*:[a-z0-9-]+:[a-z0-9-]*:[a-z0-9-]*:[^"\\|[:space:]]+')
    END;

CREATE OR REPLACE MACRO ct_if_arn(text) AS CASE WHEN starts_with(text, 'arn:') THEN text END;

-- The record field a mapping rule's parameter starts from.
CREATE OR REPLACE MACRO ct_field(root, request, response, additional, service_details) AS CASE root
    WHEN 'responseElements' THEN response
    WHEN 'additionalEventData' THEN additional
    WHEN 'serviceEventDetails' THEN service_details
    ELSE request
END;

-- A rule's ARN from its parameter values (`vals`, in placeholder order, none NULL; a column, as it is used more than
-- once): a last value that is already an ARN of the rule's service is the resource (an ARN of another service
-- gives nothing); else the template's tokens filled with the values and the event's region, account and partition.
CREATE OR REPLACE MACRO ct_fill(service, tokens, vals, region, account) AS CASE
    WHEN starts_with(vals[-1], 'arn:')
        THEN CASE WHEN service IS NULL OR split_part(vals[-1], ':', 3) = service THEN vals[-1] END
    ELSE list_reduce(list_transform(tokens, lambda k: CASE k.ref
             WHEN 0 THEN k.lit WHEN -1 THEN region WHEN -2 THEN account WHEN -3 THEN ct_partition(region)
             ELSE vals[k.ref] END), lambda a, b: a || b)
END;

-- The typed columns of the copies, guardrails, replicas, stores and combined session views (queries/session/):
-- what those views need of the request and response, taken here so that no check parses JSON. One macro per column
-- of the `cloudtrail` table, called alike by cloudtrail.sql and cloudtrail_batch.sql; each is NULL but for the calls
-- named in it. A member is read by its name as CloudTrail logs it (camelCase) or as the API spells it (PascalCase).
CREATE OR REPLACE MACRO ct_member(j, name) AS
    coalesce(json_extract_string(j, '$.' || name), json_extract_string(j, '$.' || upper(name[1]) || name[2:]));

-- The copy and sharing calls (copies.sql): StartCopyJob, backup plans, snapshot and image copies and attributes.
CREATE OR REPLACE MACRO ct_is_copy_call(event_name) AS
    event_name IN ('StartCopyJob', 'CreateBackupPlan', 'UpdateBackupPlan', 'CopySnapshot', 'CopyImage', 'CopyDBSnapshot',
                   'CopyDBClusterSnapshot', 'ModifySnapshotAttribute', 'ModifyImageAttribute',
                   'ModifyDBSnapshotAttribute', 'ModifyDBClusterSnapshotAttribute');

-- Every scalar of a copy or sharing call's request and response (copies.sql's copy_call_fields), with its parent's
-- path and its own key in lower case (`$.backupplan.rules[0]`, `targetbackupvaultname`); an element of a list has
-- its position as its key and the list as its parent. Its arguments must be columns that are NULL but for those
-- calls (`CASE WHEN ct_is_copy_call(...) THEN ... END`, computed a step before): DuckDB runs the subquery once per
-- distinct pair of them, and the other records' JSON is neither walked nor compared.
CREATE OR REPLACE MACRO ct_copy_call_fields(request, response) AS (
    SELECT list({'part': n.part, 'parent': lower(n.path), 'name': lower(n.key),
                 'value': json_extract_string(n.atom, '$')} ORDER BY n.part, n.id)
    FROM (SELECT 'request' AS part, * FROM json_tree(request)
          UNION ALL
          SELECT 'response', * FROM json_tree(response)) AS n
    WHERE n.atom IS NOT NULL);

-- S3 CreateBucket: CreateBucketConfiguration.LocationConstraint as given ('EU', '' and all).
CREATE OR REPLACE MACRO ct_bucket_location_constraint(event_source, event_name, request) AS
    CASE WHEN event_source = 's3.amazonaws.com' AND event_name = 'CreateBucket'
         THEN coalesce(json_extract_string(request, '$.CreateBucketConfiguration.LocationConstraint'),
                       json_extract_string(request, '$.createBucketConfiguration.locationConstraint')) END;

-- EC2 CreateVolume: the new volume's id, from the response.
CREATE OR REPLACE MACRO ct_volume_id(event_name, response) AS
    CASE WHEN event_name = 'CreateVolume' THEN json_extract_string(response, '$.volumeId') END;

-- The RDS create calls' identifiers: a member of the request of CreateDBInstance, CreateDBCluster,
-- CreateDBInstanceReadReplica and CreateGlobalCluster.
CREATE OR REPLACE MACRO ct_rds_identifier(event_name, request, name) AS
    CASE WHEN event_name IN ('CreateDBInstance', 'CreateDBCluster', 'CreateDBInstanceReadReplica', 'CreateGlobalCluster')
         THEN ct_member(request, name) END;

-- DynamoDB UpdateTable, UpdateGlobalTable and CreateGlobalTable: a member of the request, and the regions of
-- replicaUpdates[].create and replicationGroup[], as given, in that order.
CREATE OR REPLACE MACRO ct_dynamodb_member(event_name, request, name) AS
    CASE WHEN event_name IN ('UpdateTable', 'UpdateGlobalTable', 'CreateGlobalTable') THEN ct_member(request, name) END;
CREATE OR REPLACE MACRO ct_replica_regions(event_name, request) AS
    CASE WHEN event_name IN ('UpdateTable', 'UpdateGlobalTable', 'CreateGlobalTable') THEN list_concat(
        coalesce(json_extract_string(request, '$.replicaUpdates[*].create.regionName'), []),
        coalesce(json_extract_string(request, '$.ReplicaUpdates[*].Create.RegionName'), []),
        coalesce(json_extract_string(request, '$.replicationGroup[*].regionName'), []),
        coalesce(json_extract_string(request, '$.ReplicationGroup[*].RegionName'), [])) END;

-- AWS Organizations: the policy a CreatePolicy, UpdatePolicy or DescribePolicy response describes, the unit a
-- CreateOrganizationalUnit response describes, and a member of any Organizations request.
CREATE OR REPLACE MACRO ct_org_policy(event_source, event_name, response) AS
    CASE WHEN event_source = 'organizations.amazonaws.com'
              AND event_name IN ('CreatePolicy', 'UpdatePolicy', 'DescribePolicy')
              AND json_extract(response, '$.policy') IS NOT NULL
         THEN {'id': json_extract_string(response, '$.policy.policySummary.id'),
               'type': json_extract_string(response, '$.policy.policySummary.type'),
               'name': json_extract_string(response, '$.policy.policySummary.name'),
               'content': json_extract_string(response, '$.policy.content')} END;
CREATE OR REPLACE MACRO ct_org_unit(event_source, event_name, response) AS
    CASE WHEN event_source = 'organizations.amazonaws.com' AND event_name = 'CreateOrganizationalUnit'
              AND json_extract(response, '$.organizationalUnit') IS NOT NULL
         THEN {'id': json_extract_string(response, '$.organizationalUnit.id'),
               'name': json_extract_string(response, '$.organizationalUnit.name')} END;
CREATE OR REPLACE MACRO ct_org_member(event_source, request, name) AS
    CASE WHEN event_source = 'organizations.amazonaws.com' THEN ct_member(request, name) END;
-- The typed columns the checks read in place of the request's and the response's JSON (issue 18: no JSON parsing at
-- check time), for IN-001, IN-002 and its trail history (queries/session/cloudtrail.sql), KU-004, RT-001, XR-003 and
-- the report's lifecycle rules. cloudtrail.sql and cloudtrail_batch.sql both call these, under a CASE on the event
-- name, so that the two paths give the same values and other events pay nothing. None raises on any JSON: a value of
-- the wrong shape reads as NULL, and a record is never set aside for it.

-- A member by its name as CloudTrail logs it (camelCase, `readWriteType`), else as the API and SDKs spell it
-- (PascalCase, `ReadWriteType`).
CREATE OR REPLACE MACRO ct_member_json(j, name) AS
    coalesce(json_extract(j, '$.' || name), json_extract(j, '$.' || upper(name[1]) || name[2:]));
CREATE OR REPLACE MACRO ct_member_text(j, name) AS
    coalesce(json_extract_string(j, '$.' || name), json_extract_string(j, '$.' || upper(name[1]) || name[2:]));
-- A member that is a list of strings (numbers as their text), else NULL.
CREATE OR REPLACE MACRO ct_member_strings(j, name) AS TRY_CAST(ct_member_json(j, name) AS VARCHAR[]);

-- RT-001 and the report: the rules of a PutBucketLifecycle(Configuration) request. `Rule` is an object when the
-- configuration has one rule, else an array; the days are NULL when not a whole number.
CREATE OR REPLACE MACRO ct_lifecycle_rules(request) AS list_transform(
    CASE json_type(request, '$.LifecycleConfiguration.Rule')
        WHEN 'ARRAY' THEN json_extract(request, '$.LifecycleConfiguration.Rule[*]')
        WHEN 'OBJECT' THEN [json_extract(request, '$.LifecycleConfiguration.Rule')]
        ELSE [] END,
    lambda r: {'id': json_extract_string(r, '$.ID'), 'status': json_extract_string(r, '$.Status'),
               'expiration_days': TRY_CAST(json_extract_string(r, '$.Expiration.Days') AS INTEGER),
               'expiration_date': json_extract_string(r, '$.Expiration.Date')});

-- S3 PutBucketReplication: each rule's destination bucket (Rule is an object or a list of them).
CREATE OR REPLACE MACRO ct_replication_destinations(event_name, request) AS
    CASE WHEN event_name = 'PutBucketReplication' THEN list_filter(list_concat(
        json_extract_string(request, '$.ReplicationConfiguration.Rule[*].Destination.Bucket'),
        [json_extract_string(request, '$.ReplicationConfiguration.Rule.Destination.Bucket')]), lambda b: b IS NOT NULL)
    END;

-- IN-001 and IN-002's trail history: the trail events, whose request names a trail. Not `IN (…)` nor list_contains:
-- DuckDB plans five names or more as a join, which loses the batch's row order (cloudtrail_batch.sql must keep it).
CREATE OR REPLACE MACRO ct_trail_event(event_name) AS regexp_full_match(event_name,
    'CreateTrail|UpdateTrail|DeleteTrail|StartLogging|StopLogging|PutEventSelectors|PutInsightSelectors');
-- The trail as the request names it (a name or an ARN): trailName, else name.
CREATE OR REPLACE MACRO ct_trail_name(request) AS
    coalesce(ct_member_text(request, 'trailName'), ct_member_text(request, 'name'));

-- IN-002: what a trail event sets of the trail's own settings, from the request, else the response (NULL: not set).
CREATE OR REPLACE MACRO ct_trail_settings(request, response) AS {
    'multi_region': TRY_CAST(coalesce(ct_member_text(request, 'isMultiRegionTrail'),
                                      ct_member_text(response, 'isMultiRegionTrail')) AS BOOLEAN),
    'global_service_events': TRY_CAST(coalesce(ct_member_text(request, 'includeGlobalServiceEvents'),
                                               ct_member_text(response, 'includeGlobalServiceEvents')) AS BOOLEAN),
    'log_file_validation': TRY_CAST(coalesce(ct_member_text(request, 'enableLogFileValidation'),
                                             ct_member_text(response, 'logFileValidationEnabled')) AS BOOLEAN),
    'log_file_validation_requested': TRY_CAST(ct_member_text(request, 'enableLogFileValidation') AS BOOLEAN),
    'kms_key_id': coalesce(ct_member_text(request, 'kmsKeyId'), ct_member_text(response, 'kmsKeyId')),
    's3_bucket_name': coalesce(ct_member_text(request, 's3BucketName'), ct_member_text(response, 's3BucketName')),
    's3_key_prefix': coalesce(ct_member_text(request, 's3KeyPrefix'), ct_member_text(response, 's3KeyPrefix'))};

-- IN-002: the selectors a PutEventSelectors puts (the request's, else the response's), basic and advanced, and the
-- Insights types a PutInsightSelectors asks for.
CREATE OR REPLACE MACRO ct_event_selectors(request, response) AS list_transform(
    TRY_CAST(coalesce(ct_member_json(request, 'eventSelectors'), ct_member_json(response, 'eventSelectors')) AS JSON[]),
    lambda s: {'read_write_type': ct_member_text(s, 'readWriteType'),
               'include_management_events': lower(ct_member_text(s, 'includeManagementEvents')) = 'true',
               'exclude_management_event_sources': ct_member_strings(s, 'excludeManagementEventSources'),
               'data_resources': list_transform(TRY_CAST(ct_member_json(s, 'dataResources') AS JSON[]),
                                                lambda d: {'type': ct_member_text(d, 'type'),
                                                           'values': ct_member_strings(d, 'values')})});
CREATE OR REPLACE MACRO ct_advanced_event_selectors(request, response) AS list_transform(
    TRY_CAST(coalesce(ct_member_json(request, 'advancedEventSelectors'), ct_member_json(response, 'advancedEventSelectors'))
             AS JSON[]),
    lambda s: {'name': ct_member_text(s, 'name'),
               'field_selectors': list_transform(TRY_CAST(ct_member_json(s, 'fieldSelectors') AS JSON[]),
                   lambda f: {'field': ct_member_text(f, 'field'), 'equals': ct_member_strings(f, 'equals'),
                              'starts_with': ct_member_strings(f, 'startsWith'),
                              'ends_with': ct_member_strings(f, 'endsWith'),
                              'not_equals': ct_member_strings(f, 'notEquals'),
                              'not_starts_with': ct_member_strings(f, 'notStartsWith'),
                              'not_ends_with': ct_member_strings(f, 'notEndsWith')})});
CREATE OR REPLACE MACRO ct_insight_types(request) AS list_transform(
    TRY_CAST(ct_member_json(request, 'insightSelectors') AS JSON[]), lambda i: ct_member_text(i, 'insightType'));
