-- id: XR-003
-- title: Replication configured towards another jurisdiction
-- family: cross_region
-- severity: high
-- gdpr: Art. 44; Art. 46; Art. 30(1)(e)
-- requires: cloudtrail
-- description: A bucket replication configuration was created or changed so that objects are copied to a
--   bucket in another jurisdiction. The source's jurisdiction is its data class's home (else the region's);
--   the destination's region comes from [resource_regions] in the config, else from S3 events on that
--   bucket in the lake. Destinations whose region is known from neither are not reported.
-- remediation: Point replication at a bucket in the same jurisdiction, or declare the transfer with its
--   safeguard in the class's allowed_transfers.
WITH replication AS (
    SELECT ct.event_uid, ct.time, checks.principal(ct.actor) AS actor, ct.region, ct.resource,
           unnest(list_distinct(list_concat(
               json_extract_string(ct.request_parameters, '$.ReplicationConfiguration.Rule[*].Destination.Bucket'),
               [json_extract_string(ct.request_parameters, '$.ReplicationConfiguration.Rule.Destination.Bucket')]
           ))) AS destination
    FROM cloudtrail_changes AS ct
    WHERE ct.event_name = 'PutBucketReplication' AND ct.outcome = 'success'
),
located AS (
    SELECT r.*,
           coalesce(rc.home, src.jurisdiction) AS source_jurisdiction,
           rc.class_name,
           loc.region AS destination_region,
           loc.located_by,
           dest.jurisdiction AS destination_jurisdiction
    FROM replication AS r
    LEFT JOIN resource_class AS rc ON rc.resource = checks.resource_root(r.resource)
    LEFT JOIN policy_regions AS src ON src.region = checks.region_key(r.region)
    LEFT JOIN resource_location AS loc ON loc.resource = checks.resource_root(r.destination)
    LEFT JOIN policy_regions AS dest ON dest.region = checks.region_key(loc.region)
    WHERE r.destination IS NOT NULL
)
SELECT
    checks.resource_root(resource) AS resource,
    actor,
    region,
    destination_jurisdiction AS jurisdiction,
    min(time) AS first_seen,
    max(time) AS last_seen,
    count(*) AS event_count,
    format('replication from {} ({}{}) to {} in {} ({}; region from the {})',
           checks.resource_root(resource), source_jurisdiction,
           coalesce(', class ' || class_name, ''), destination, destination_region,
           destination_jurisdiction, located_by) AS reason,
    list(event_uid ORDER BY time, event_uid) AS evidence,
    destination AS dest_resource
FROM located
WHERE destination_jurisdiction IS NOT NULL
  AND source_jurisdiction IS NOT NULL
  AND destination_jurisdiction <> source_jurisdiction
  AND (class_name IS NULL OR NOT checks.transfer_allowed(class_name, destination_jurisdiction))
GROUP BY ALL
