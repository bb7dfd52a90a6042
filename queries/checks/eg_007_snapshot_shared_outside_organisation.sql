-- id: EG-007
-- title: Classed snapshots, images or DB snapshots shared outside the organisation
-- family: egress
-- severity: high
-- gdpr: Art. 5(1)(f); Art. 32; Art. 44
-- requires: cloudtrail
-- policy: classed_resources
-- description: A classed EBS snapshot, AMI, RDS DB snapshot or DB cluster snapshot was shared with an account that
--   is not one of the organisation's, or made public: ModifySnapshotAttribute (createVolumePermission add),
--   ModifyImageAttribute (launchPermission add), ModifyDBSnapshotAttribute or ModifyDBClusterSnapshotAttribute
--   (restore, valuesToAdd), to an account id or to `all`. The account can then copy the whole volume or
--   database into its own account and region, out of reach of the organisation's controls. The organisation's
--   accounts are those [organisation] accounts declares, else every account the lake's trails deliver for; the
--   reason says which. A share with an organisation or OU by ARN (AMIs) names no account and is not judged.
-- reason: {kind} {resource} (class {data_class}, home {home}) {sharing} (the organisation's accounts:
--   {organisation_accounts})
-- remediation: Remove the permission (ModifySnapshotAttribute / ModifyImageAttribute with remove,
--   ModifyDBSnapshotAttribute with valuesToRemove), find out whether the account copied the snapshot
--   (SharedSnapshotCopyInitiated in its trail, or ask), and turn on EBS and AMI block public access. If the
--   account is the organisation's, list it in [organisation] accounts.
SELECT
    s.resource,
    checks.principal(s.actor) AS actor,
    s.region,
    any_value(r.jurisdiction) AS region_jurisdiction,
    CAST(NULL AS VARCHAR) AS counterpart_jurisdiction,
    min(s.time) AS first_seen,
    max(s.time) AS last_seen,
    count(DISTINCT s.event_uid) AS event_count,
    list(s.event_uid ORDER BY s.time, s.event_uid) AS evidence,
    s.class_name AS data_class,
    s.grantee AS shared_with,
    s.kind,
    s.home,
    CASE WHEN s.grantee = 'all' THEN 'made public (shared with all), which any AWS account can copy'
         ELSE 'shared with account ' || s.grantee || ', which is not one of the organisation''s' END AS sharing,
    (SELECT any_value(basis) FROM org_accounts) AS organisation_accounts
FROM snapshot_shares AS s
LEFT JOIN policy_regions AS r ON r.region = checks.region_key(s.region)
WHERE s.outside
GROUP BY s.kind, s.resource, s.class_name, s.home, s.grantee, checks.principal(s.actor), s.region
