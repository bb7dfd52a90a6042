-- id: XR-003
-- title: Replication configured towards another jurisdiction
-- family: cross_region
-- severity: high
-- gdpr: Art. 44; Art. 46; Art. 30(1)(e)
-- requires: any of cloudtrail, azure_activity
-- description: A bucket replication configuration (PutBucketReplication), or an Azure storage object
--   replication policy (objectReplicationPolicies/write), was created or changed so that objects are copied
--   to a bucket or storage account in another jurisdiction. The source's jurisdiction is its data class's
--   home (else the region's). The destination's region comes from [resource_regions] in the config, else
--   from S3 events on that bucket in the lake; for Azure, from the destination account's location in the
--   source config's `locations` (the activity log names the destination only in the request body, when it
--   logs one). Destinations whose region is known from none of these are not reported.
-- reason: replication from {resource} ({source_jurisdiction}{class_part}) to {dest_resource} in {destination_region}
--   ({counterpart_jurisdiction}; region from the {located_by})
-- remediation: Point replication at a bucket or storage account in the same jurisdiction, or declare the transfer with its
--   safeguard in the class's allowed_transfers.
WITH s3_replication AS (
    SELECT [ct.event_uid] AS evidence, ct.time, ct.time AS last_time, checks.principal(ct.actor) AS actor,
           ct.region, checks.resource_root(ct.resource) AS resource,
           unnest(list_distinct(ct.replication_destinations)) AS destination,
           NULL AS known_region
    FROM cloudtrail_changes AS ct
    WHERE ct.event_name = 'PutBucketReplication' AND ct.outcome = 'success'
),
azure_replication AS (
    SELECT az.evidence, az.first_seen AS time, az.last_seen AS last_time, az.actor, az.region, az.resource,
           lower(coalesce(az.dest_resource, az.replication_destination_account)) AS destination,
           az.dest_region AS known_region
    FROM azure_changes AS az
    WHERE az.op = 'microsoft.storage/storageaccounts/objectreplicationpolicies/write' AND az.outcome = 'success'
),
replication AS (
    SELECT * FROM s3_replication UNION ALL SELECT * FROM azure_replication
),
located AS (
    SELECT r.*,
           coalesce(rc.home, src.jurisdiction) AS source_jurisdiction,
           src.jurisdiction AS served_jurisdiction,
           rc.class_name,
           coalesce(r.known_region, loc.region) AS destination_region,
           CASE WHEN r.known_region IS NOT NULL THEN 'source config' ELSE loc.located_by END AS located_by,
           dest.jurisdiction AS destination_jurisdiction
    FROM replication AS r
    LEFT JOIN resource_class AS rc ON rc.resource = r.resource
    LEFT JOIN policy_regions AS src ON src.region = checks.region_key(r.region)
    LEFT JOIN resource_location AS loc ON loc.resource = checks.resource_root(r.destination)
    LEFT JOIN policy_regions AS dest ON dest.region = checks.region_key(coalesce(r.known_region, loc.region))
    WHERE r.destination IS NOT NULL
)
SELECT
    checks.resource_root(resource) AS resource,
    actor,
    region,
    served_jurisdiction AS region_jurisdiction,
    destination_jurisdiction AS counterpart_jurisdiction,
    min(time) AS first_seen,
    max(last_time) AS last_seen,
    sum(array_length(evidence)) AS event_count,
    source_jurisdiction,
    class_name,
    coalesce(', class ' || class_name, '') AS class_part,
    destination_region,
    located_by,
    flatten(list(evidence ORDER BY time, evidence)) AS evidence,
    destination AS dest_resource
FROM located
WHERE destination_jurisdiction IS NOT NULL
  AND source_jurisdiction IS NOT NULL
  AND destination_jurisdiction <> source_jurisdiction
  AND (class_name IS NULL OR NOT checks.transfer_allowed(class_name, destination_jurisdiction))
GROUP BY ALL
