-- The `checks` schema, CloudTrail's part (see common.sql for the load order and the event-like views).

-- CloudTrail's own fields (request parameters …) for the configuration changes the built-in checks judge,
-- in the window: read from Parquet once, then kept (when checks run) for every check that needs them.
CREATE OR REPLACE VIEW checks.cloudtrail_changes AS
SELECT event_uid, time, event_name, action, actor, region, resource, key_id, outcome, error_code, src_ip,
       request_parameters
FROM checks.cloudtrail
WHERE event_name IN ('StopLogging', 'DeleteTrail', 'UpdateTrail', 'PutEventSelectors',
                     'PutBucketReplication', 'PutBucketLifecycle', 'PutBucketLifecycleConfiguration',
                     'DeleteBucketLifecycle', 'ScheduleKeyDeletion', 'DisableKey', 'DisableKeyRotation',
                     'PutKeyPolicy', 'CreateGrant');
