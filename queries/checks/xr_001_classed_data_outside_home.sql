-- id: XR-001
-- title: Classed data served from a region outside its home jurisdiction
-- family: cross_region
-- severity: high
-- gdpr: Art. 44; Art. 46; Art. 30(1)(e)
-- requires: any of cloudtrail, azure_resource, azure_activity
-- policy: classed_resources
-- description: An event on a resource of a data class was served in a region whose jurisdiction is
--   not the class's home and not one of its allowed transfers. S3 object events carry the bucket's
--   region, Azure Storage logs the account's location, so this is where the data is stored or processed;
--   a copy (CopyObject, CopyBlob) counts in the region it wrote to. Azure resource ids are matched in
--   lower case, as the lake stores them.
-- reason: {data_class} data (home {home}) was {access} in {region} ({region_jurisdiction}), which is not an
--   allowed transfer for the class
-- remediation: Move the resource (bucket, storage account) to a region in its home jurisdiction, or declare the transfer with its
--   safeguard in the class's allowed_transfers and the processing activity.
SELECT
    checks.resource_root(e.resource) AS resource,
    checks.principal(e.actor) AS actor,
    e.region,
    e.jurisdiction AS region_jurisdiction,
    CAST(NULL AS VARCHAR) AS counterpart_jurisdiction,
    min(e.time) AS first_seen,
    max(e.time) AS last_seen,
    count(*) AS event_count,
    rc.home,
    CASE WHEN bool_or(e.dest_resource IS NOT NULL) THEN 'copied or accessed' ELSE 'accessed' END AS access,
    list(e.event_uid ORDER BY e.time, e.event_uid) AS evidence,
    rc.class_name AS data_class
FROM events_geo AS e
JOIN resource_class AS rc ON rc.resource = e.resource
WHERE e.jurisdiction IS NOT NULL
  AND e.jurisdiction <> rc.home
  AND NOT checks.transfer_allowed(rc.class_name, e.jurisdiction)
GROUP BY rc.class_name, rc.home, checks.resource_root(e.resource), checks.principal(e.actor), e.region, e.jurisdiction
