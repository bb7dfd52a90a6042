-- id: XR-006
-- title: A replica of a classed database or storage account in another jurisdiction
-- family: cross_region
-- severity: high
-- gdpr: Art. 44; Art. 46; Art. 30(1)(e)
-- requires: any of cloudtrail, azure_activity
-- policy: data_classes
-- description: A copy of a data class's database or storage account was set up in a region outside the
--   class's home: a DynamoDB global table replica (UpdateTable or UpdateGlobalTable adding a replica,
--   CreateGlobalTable), an Aurora global database's secondary cluster (CreateDBCluster joining a global cluster
--   whose primary, or whose own name, is classed), a cross-region RDS read replica (CreateDBInstanceReadReplica,
--   CreateDBCluster with a replication source), or an Azure storage account switched to geo-redundant storage
--   (GRS, RA-GRS, GZRS, RA-GZRS) whose paired region, in Microsoft's published pairs, is outside the home. The
--   replica receives every write from then on. The Azure sku is read from the request body, which the activity
--   log carries only for some writes. A replica inside the home, or in a jurisdiction the class's
--   allowed_transfers name, is not reported.
-- reason: {kind} {source_name} (class {data_class}, home {home}) {how}{replica_name} in {dest_region}
--   ({replica_jurisdiction}), by {actions}
-- remediation: Remove the replica region (UpdateTable with replicaUpdates Delete, RemoveFromGlobalCluster and
--   delete the secondary, delete the read replica) or move the storage account to a redundancy without a
--   secondary region (LRS, ZRS), or to a pair inside the home; else declare the transfer with its safeguard in
--   the class's allowed_transfers.
SELECT
    coalesce(r.source, r.replica) AS resource,
    checks.principal(r.actor) AS actor,
    coalesce(r.source_region, r.region) AS region,
    any_value(r.source_jurisdiction) AS region_jurisdiction,
    r.replica_jurisdiction AS counterpart_jurisdiction,
    min(r.time) AS first_seen,
    max(r.time) AS last_seen,
    sum(array_length(r.evidence)) AS event_count,
    r.kind,
    coalesce(r.source, 'of unknown primary') AS source_name,
    r.home,
    r.how,
    coalesce(r.replica, '') AS replica_name,
    coalesce(r.replica_jurisdiction, 'no known jurisdiction') AS replica_jurisdiction,
    array_to_string(list_sort(list_distinct(list(r.action))), ', ') AS actions,
    flatten(list(r.evidence ORDER BY r.time, r.evidence)) AS evidence,
    r.class_name AS data_class,
    r.replica AS dest_resource,
    r.replica_region AS dest_region
FROM checks.db_replicas AS r
WHERE r.class_name IS NOT NULL
  AND r.replica_jurisdiction IS DISTINCT FROM r.home
  AND NOT checks.transfer_allowed(r.class_name, r.replica_jurisdiction)
GROUP BY r.source, checks.principal(r.actor), coalesce(r.source_region, r.region), r.kind, r.how, r.class_name, r.home, r.replica, r.replica_region,
         r.replica_jurisdiction
