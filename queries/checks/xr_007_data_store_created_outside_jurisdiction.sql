-- id: XR-007
-- title: A data store created outside its account's jurisdiction
-- family: cross_region
-- severity: medium
-- gdpr: Art. 44; Art. 25; Art. 30(1)(e)
-- requires: any of cloudtrail, azure_activity
-- policy: accounts
-- description: A bucket (CreateBucket), DynamoDB table (CreateTable), RDS instance or cluster
--   (CreateDBInstance, CreateDBCluster, CreateDBInstanceReadReplica), EBS volume (CreateVolume), backup vault
--   (CreateBackupVault) or Azure storage account (storageAccounts/write that created it: statusCode Created)
--   was created in a region whose jurisdiction differs from the one [[accounts]] binds its AWS account or
--   Azure subscription to, or outside that entry's allowed_regions. What is put there later is outside the
--   jurisdiction before any data class names it. A bucket's region is its LocationConstraint, else the
--   endpoint's. Stores of accounts [[accounts]] does not list are not judged.
-- reason: {kind} {resource} created in {region} ({store_jurisdiction}) by {actions}, but {owner_kind} {account}
--   belongs in {counterpart_jurisdiction}{allowed_regions_note}
-- remediation: Delete the store or move its data into an allowed region, and deny creation outside the
--   account's regions (an SCP with aws:RequestedRegion, an Azure Allowed locations assignment); or, if the
--   account may use that region, add it to the entry's allowed_regions.
SELECT
    s.store AS resource,
    checks.principal(s.actor) AS actor,
    s.region,
    r.jurisdiction AS region_jurisdiction,
    a.jurisdiction AS counterpart_jurisdiction,
    min(s.time) AS first_seen,
    max(s.time) AS last_seen,
    sum(array_length(s.evidence)) AS event_count,
    s.kind,
    coalesce(r.jurisdiction, 'no known jurisdiction') AS store_jurisdiction,
    array_to_string(list_sort(list_distinct(list(s.action))), ', ') AS actions,
    CASE WHEN starts_with(s.store, 'arn:') THEN 'account' ELSE 'subscription' END AS owner_kind,
    a.allowed_regions,
    CASE WHEN array_length(a.allowed_regions) > 0
         THEN ' (allowed regions: ' || array_to_string(a.allowed_regions, ', ') || ')' ELSE '' END
        AS allowed_regions_note,
    flatten(list(s.evidence ORDER BY s.time, s.evidence)) AS evidence,
    s.account
FROM checks.store_creations AS s
JOIN policy_accounts AS a ON a.account = lower(s.account)
LEFT JOIN policy_regions AS r ON r.region = checks.region_key(s.region)
WHERE s.region IS NOT NULL
  AND (r.jurisdiction IS DISTINCT FROM a.jurisdiction
       OR (array_length(a.allowed_regions) > 0 AND NOT list_contains(a.allowed_regions, checks.region_key(s.region))))
GROUP BY s.store, checks.principal(s.actor), s.region, s.kind, s.account, r.jurisdiction, a.jurisdiction,
         a.allowed_regions
