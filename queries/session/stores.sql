-- The `checks` schema: data stores created in the window, and where (see common.sql for the load order).
-- XR-007 judges them against the [[accounts]] they were created in (policy_accounts).
--
-- checks.store_creations: one row per store a successful call created:
--   S3 CreateBucket           the bucket; its region is CreateBucketConfiguration.LocationConstraint (EU is
--                             eu-west-1), else the region of the endpoint called (awsRegion)
--   DynamoDB CreateTable      the table, in awsRegion (Glue's CreateTable makes catalog entries, not stores)
--   RDS CreateDBInstance, CreateDBCluster, CreateDBInstanceReadReplica   the instance or cluster, in awsRegion
--   EC2 CreateVolume          the volume, in awsRegion (its availability zone's region)
--   Backup CreateBackupVault  the vault, in awsRegion
--   Azure                     Microsoft.Storage/storageAccounts/write whose finished record has statusCode
--                             Created (a PUT that made the account; an update says OK), at the request body's
--                             location, else the record's
-- `account` is the AWS account (recipientAccountId) or the Azure subscription id, in lower case.
CREATE OR REPLACE VIEW checks.store_creations AS
WITH ct AS (
    SELECT event_uid, time, event_source, event_name, account, region, actor, src_ip, resource,
           bucket_location_constraint, volume_id, db_cluster_identifier, db_instance_identifier
    FROM checks.cloudtrail
    WHERE outcome = 'success'
      AND (event_source, event_name) IN (
          ('s3.amazonaws.com', 'CreateBucket'), ('dynamodb.amazonaws.com', 'CreateTable'),
          ('rds.amazonaws.com', 'CreateDBInstance'), ('rds.amazonaws.com', 'CreateDBCluster'),
          ('rds.amazonaws.com', 'CreateDBInstanceReadReplica'), ('ec2.amazonaws.com', 'CreateVolume'),
          ('backup.amazonaws.com', 'CreateBackupVault'))
),
aws AS (
    SELECT [event_uid] AS evidence, time, event_name AS action, account,
           CASE WHEN event_name = 'CreateBucket'
                THEN coalesce(CASE upper(bucket_location_constraint)
                                  WHEN 'EU' THEN 'eu-west-1' WHEN '' THEN NULL
                                  ELSE lower(bucket_location_constraint) END,
                              region)
                ELSE region END AS region,
           actor, src_ip,
           CASE event_source WHEN 's3.amazonaws.com' THEN 'bucket' WHEN 'dynamodb.amazonaws.com' THEN 'DynamoDB table'
                WHEN 'ec2.amazonaws.com' THEN 'EBS volume' WHEN 'backup.amazonaws.com' THEN 'backup vault'
                WHEN 'rds.amazonaws.com' THEN CASE WHEN event_name = 'CreateDBCluster' THEN 'RDS cluster'
                                                   ELSE 'RDS instance' END END AS kind,
           CASE WHEN event_name = 'CreateDBCluster'
                THEN 'arn:' || split_part(coalesce(resource, 'arn:aws'), ':', 2) || ':rds:' || region || ':' || account
                     || ':cluster:' || lower(db_cluster_identifier)
                WHEN event_source = 'rds.amazonaws.com'
                THEN 'arn:' || split_part(coalesce(resource, 'arn:aws'), ':', 2) || ':rds:' || region || ':' || account
                     || ':db:' || lower(db_instance_identifier)
                WHEN event_name = 'CreateVolume'
                THEN coalesce('arn:aws:ec2:' || region || ':' || account || ':volume/' || volume_id, resource)
                ELSE resource END AS store
    FROM ct
),
azure AS (
    SELECT az.evidence, az.first_seen AS time, az.action, split_part(az.resource, '/', 3) AS account,
           coalesce(checks.region_key(az.body_location), az.region) AS region,
           az.actor, az.src_ip, 'storage account' AS kind, az.resource AS store
    FROM checks.azure_changes AS az
    WHERE az.op = 'microsoft.storage/storageaccounts/write' AND az.outcome = 'success'
      AND contains(lower(coalesce(az.status_code, '')), 'created')
)
SELECT * FROM aws WHERE store IS NOT NULL
UNION ALL
SELECT * FROM azure;
