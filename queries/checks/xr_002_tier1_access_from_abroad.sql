-- id: XR-002
-- title: Tier-1 data accessed from a country outside its home jurisdiction
-- family: cross_region
-- severity: high
-- gdpr: Art. 44; Art. 32
-- requires: any of cloudtrail, azure_resource, azure_activity
-- policy: tier1_classes, classed_resources
-- description: A caller whose source address is registered to a country outside a tier-1 class's home
--   jurisdiction (and outside its allowed transfers) accessed the class's data: an S3 object, an Azure
--   blob or storage account. AWS service principals and private addresses are ignored; the country is the
--   offline registry lookup of the caller's address (callerIpAddress for Azure) made at ingest.
-- remediation: Confirm who the caller is and why they reach tier-1 data from abroad; restrict access with
--   aws:SourceIp or VPC endpoint conditions (Azure: storage firewall rules or private endpoints), or declare the transfer and its safeguard.
SELECT
    checks.resource_root(e.resource) AS resource,
    checks.principal(e.actor) AS actor,
    e.region,
    e.src_jurisdiction AS jurisdiction,
    min(e.time) AS first_seen,
    max(e.time) AS last_seen,
    count(*) AS event_count,
    format('tier-1 {} data (home {}) was accessed from {} ({}), address {}{}',
           rc.class_name, rc.home, e.src_country, e.src_jurisdiction, min(e.src_ip),
           CASE WHEN count(DISTINCT e.src_ip) > 1
                THEN format(' and {} other address(es)', count(DISTINCT e.src_ip) - 1) ELSE '' END) AS reason,
    list(e.event_uid ORDER BY e.time, e.event_uid) AS evidence,
    rc.class_name AS data_class,
    e.src_country
FROM events_geo AS e
JOIN resource_class AS rc ON rc.resource = e.resource
WHERE rc.tier = 1
  AND e.src_jurisdiction IS NOT NULL
  AND e.src_jurisdiction <> rc.home
  AND NOT checks.transfer_allowed(rc.class_name, e.src_jurisdiction)
  AND NOT checks.is_service_actor(e.actor)
GROUP BY rc.class_name, rc.home, checks.resource_root(e.resource), checks.principal(e.actor), e.region, e.src_country,
         e.src_jurisdiction
