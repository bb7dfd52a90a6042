-- id: EG-006
-- title: Snapshots and images copied to another jurisdiction
-- family: egress
-- severity: high
-- gdpr: Art. 44; Art. 46; Art. 30(1)(e)
-- requires: cloudtrail
-- policy: classed_resources
-- description: A classed EBS snapshot, AMI, RDS DB snapshot or DB cluster snapshot was copied (EC2 CopySnapshot,
--   CopyImage; RDS CopyDBSnapshot, CopyDBClusterSnapshot) into a region whose jurisdiction is neither the class's
--   home nor one of its allowed transfers. CloudTrail logs a copy in the destination region, with the source in
--   sourceRegion and sourceSnapshotId / sourceImageId (EC2) or a source ARN (RDS, for a copy from another
--   region): the class comes from the source, the destination is the event's region. A snapshot is classed when
--   a class's resources match its ARN (arn:aws:ec2:REGION::snapshot/ID, arn:aws:rds:REGION:ACCOUNT:snapshot:NAME).
-- reason: {kind} {resource} (class {data_class}, home {home}) copied from {copied_from} to {copies} in {region}
--   ({region_jurisdiction})
-- remediation: Delete the copy in the foreign region (DeleteSnapshot, DeregisterImage, DeleteDBSnapshot), and
--   restrict ec2:CopySnapshot, ec2:CopyImage and rds:CopyDBSnapshot to the home regions (an SCP on
--   aws:RequestedRegion), or declare the transfer with its safeguard in the class's allowed_transfers.
SELECT
    source AS resource,
    checks.principal(actor) AS actor,
    dest_region AS region,
    dest_jurisdiction AS region_jurisdiction,
    any_value(source_jurisdiction) AS counterpart_jurisdiction,
    min(time) AS first_seen,
    max(time) AS last_seen,
    count(*) AS event_count,
    list(event_uid ORDER BY time, event_uid) AS evidence,
    class_name AS data_class,
    kind,
    home,
    coalesce(source_region, 'its region') AS copied_from,
    coalesce(nullif(array_to_string(list_sort(list_distinct(list(destination))), ', '), ''), 'a copy') AS copies
FROM snapshot_copies
WHERE dest_jurisdiction IS NOT NULL
  AND dest_jurisdiction <> home
  AND NOT checks.transfer_allowed(class_name, dest_jurisdiction)
GROUP BY kind, source, source_region, class_name, home, checks.principal(actor), dest_region, dest_jurisdiction
