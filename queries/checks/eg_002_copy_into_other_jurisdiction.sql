-- id: EG-002
-- title: Classed objects copied into a resource in another jurisdiction
-- family: egress
-- severity: high
-- gdpr: Art. 44; Art. 46
-- requires: any of cloudtrail, azure_resource
-- policy: classed_resources
-- description: CopyObject or UploadPartCopy (S3), or CopyBlob, Copy/Put Blob from URL (Azure Storage), read
--   an object of a data class and wrote it to a bucket or storage account in a jurisdiction other than the
--   class's home and its allowed transfers. The destination's region is the region that served the copy
--   (S3 serves a copy in the destination bucket's region; Azure logs a copy in the destination account,
--   with its location). An Azure copy's source is its URL (https://ACCOUNT.blob.core.windows.net/…), so
--   a class must list that URL pattern to be recognised as the source.
-- reason: {copied_objects} object(s) of {data_class} data (home {home}) copied from {source_resource} to
--   {resource} in {region} ({region_jurisdiction})
-- remediation: Delete the copies outside the home jurisdiction and restrict s3:PutObject on foreign
--   buckets (Azure: allowed copy scope on the storage account) for principals that can read the class, or declare the transfer.
SELECT
    checks.resource_root(e.dest_resource) AS resource,
    checks.principal(e.actor) AS actor,
    e.dest_region AS region,
    e.dest_jurisdiction AS region_jurisdiction,
    any_value(e.jurisdiction) AS counterpart_jurisdiction,
    min(e.time) AS first_seen,
    max(e.time) AS last_seen,
    count(*) AS event_count,
    list(e.event_uid ORDER BY e.time, e.event_uid) AS evidence,
    rc.class_name AS data_class,
    rc.home,
    checks.resource_root(e.resource) AS source_resource,
    count(DISTINCT e.resource) AS copied_objects
FROM events_geo AS e
JOIN resource_class AS rc ON rc.resource = e.resource
WHERE e.action IN ('CopyObject', 'UploadPartCopy', 'CopyBlob', 'CopyBlobFromURL', 'PutBlobFromURL',
                   'PutBlockFromURL', 'StartCopyFromURL')
  AND e.dest_resource IS NOT NULL
  AND e.outcome = 'success'
  AND e.dest_jurisdiction IS NOT NULL
  AND e.dest_jurisdiction <> rc.home
  AND NOT checks.transfer_allowed(rc.class_name, e.dest_jurisdiction)
GROUP BY rc.class_name, rc.home, checks.resource_root(e.resource), checks.resource_root(e.dest_resource),
         checks.principal(e.actor), e.dest_region, e.dest_jurisdiction
