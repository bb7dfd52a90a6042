-- id: XR-002
-- title: Tier-1 data accessed from a country outside its home jurisdiction
-- family: cross_region
-- severity: high
-- gdpr: Art. 44; Art. 32
-- requires: any of cloudtrail, azure_resource, azure_activity
-- policy: tier1_classes, classed_resources
-- description: A caller outside a tier-1 class's home jurisdiction (and outside its allowed transfers)
--   accessed the class's data: an S3 object, an Azure blob or storage account. Where the caller is: the
--   cloud region its address is published in (AWS, Azure and Google Cloud ranges: an EC2 instance in
--   eu-west-1 is in the EU), else the country its address is registered to (the offline registry lookup of
--   sourceIPAddress, callerIpAddress for Azure, made at ingest). AWS service principals and private
--   addresses are ignored.
-- reason: tier-1 {data_class} data (home {home}) was accessed from {caller}, address {src_ip}{other_addresses}
-- remediation: Confirm who the caller is and why they reach tier-1 data from abroad; restrict access with
--   aws:SourceIp or VPC endpoint conditions (Azure: storage firewall rules or private endpoints), or declare the transfer and its safeguard.
WITH accessed AS (
    SELECT e.*, rc.class_name, rc.home,
           e.src_place AS caller
    FROM events_geo AS e
    JOIN resource_class AS rc ON rc.resource = e.resource
    WHERE rc.tier = 1
      AND e.src_jurisdiction IS NOT NULL
      AND e.src_jurisdiction <> rc.home
      AND NOT checks.transfer_allowed(rc.class_name, e.src_jurisdiction)
      AND NOT checks.is_service_actor(e.actor)
)
SELECT
    checks.resource_root(a.resource) AS resource,
    checks.principal(a.actor) AS actor,
    a.region,
    a.jurisdiction AS region_jurisdiction,
    a.src_jurisdiction AS counterpart_jurisdiction,
    min(a.time) AS first_seen,
    max(a.time) AS last_seen,
    count(*) AS event_count,
    a.home,
    a.caller,
    min(a.src_ip) AS src_ip,
    CASE WHEN count(DISTINCT a.src_ip) > 1
         THEN ' and ' || CAST(count(DISTINCT a.src_ip) - 1 AS VARCHAR) || ' other address(es)' ELSE '' END
        AS other_addresses,
    list(a.event_uid ORDER BY a.time, a.event_uid) AS evidence,
    a.class_name AS data_class,
    a.src_country,
    a.src_cloud,
    a.src_cloud_region,
    a.src_cloud_service
FROM accessed AS a
GROUP BY a.class_name, a.home, checks.resource_root(a.resource), checks.principal(a.actor), a.region, a.jurisdiction,
         a.src_jurisdiction, a.caller, a.src_country, a.src_cloud, a.src_cloud_region, a.src_cloud_service
