-- Lifecycle rules put on (or removed from) each class's buckets in the window, with the expiration days
-- of their rules.
SELECT rc.class_name, rc.retention_days, checks.resource_root(ct.resource) AS bucket, ct.time, ct.event_name,
       ct.actor, ct.event_uid,
       list_transform(list_filter(coalesce(ct.lifecycle_rules, []), lambda r: r.expiration_days IS NOT NULL),
                      lambda r: CAST(r.expiration_days AS VARCHAR)) AS expiration_days
FROM checks.cloudtrail_changes AS ct
JOIN checks.resource_class AS rc ON rc.resource = checks.resource_root(ct.resource)
WHERE ct.event_name IN ('PutBucketLifecycle', 'PutBucketLifecycleConfiguration', 'DeleteBucketLifecycle')
  AND ct.outcome = 'success'
ORDER BY rc.class_name, ct.time
