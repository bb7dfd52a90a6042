-- Lifecycle rules put on (or removed from) each class's buckets in the window, with the expiration days
-- read from the request.
SELECT rc.class_name, rc.retention_days, checks.resource_root(ct.resource) AS bucket, ct.time, ct.event_name,
       ct.actor, ct.event_uid,
       list_concat(
           json_extract_string(ct.request_parameters, '$.LifecycleConfiguration.Rule[*].Expiration.Days'),
           [json_extract_string(ct.request_parameters, '$.LifecycleConfiguration.Rule.Expiration.Days')]
       ).list_filter(lambda d: d IS NOT NULL) AS expiration_days
FROM checks.cloudtrail_changes AS ct
JOIN checks.resource_class AS rc ON rc.resource = checks.resource_root(ct.resource)
WHERE ct.event_name IN ('PutBucketLifecycle', 'PutBucketLifecycleConfiguration', 'DeleteBucketLifecycle')
  AND ct.outcome = 'success'
ORDER BY rc.class_name, ct.time
