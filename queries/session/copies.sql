-- The `checks` schema, the copies of data that are not S3 or Azure Storage objects: AWS Backup copy jobs and
-- backup plans' copy rules, EC2 and RDS snapshot and image copies, and snapshots, images and DB snapshots shared
-- with other accounts (EG-005, EG-006, EG-007 and the report's transfers). Loaded after cloudtrail.sql and
-- azure.sql (see common.sql for the load order and the event-like views).
--
-- Parameter names are matched case-insensitively: CloudTrail logs most of them in camelCase (`sourceSnapshotId`),
-- the APIs and SDKs spell them in PascalCase (`SourceSnapshotId`), and a record may nest them (backup plan rules).
-- Normalize walks the request and response once (the lake's `copy_call_fields`, one element per scalar); the checks
-- read the views below.

CREATE OR REPLACE MACRO checks.aws_partition(r) AS
    CASE WHEN starts_with(r, 'cn-') THEN 'aws-cn' WHEN starts_with(r, 'us-gov-') THEN 'aws-us-gov' ELSE 'aws' END;

-- Every scalar of the request and response of the successful copy and sharing calls in the window, with its
-- parent's path and its own key in lower case (`$.backupplan.rules[0]`, `targetbackupvaultname`). An element
-- of a list has its position as its key and the list as its parent (`$.valuestoadd`, `0`).
CREATE OR REPLACE VIEW checks.copy_call_fields AS
WITH calls AS (
    SELECT event_uid, unnest(copy_call_fields) AS f
    FROM checks.cloudtrail
    WHERE outcome = 'success'
      AND event_name IN ('StartCopyJob', 'CreateBackupPlan', 'UpdateBackupPlan', 'CopySnapshot', 'CopyImage',
                         'CopyDBSnapshot', 'CopyDBClusterSnapshot', 'ModifySnapshotAttribute', 'ModifyImageAttribute',
                         'ModifyDBSnapshotAttribute', 'ModifyDBClusterSnapshotAttribute')
)
SELECT event_uid, f.part AS part, f.parent AS parent, f.name AS name, f.value AS value
FROM calls;

-- Each copy AWS Backup was told to make, one row per source vault, destination vault and data class of the
-- source: a copy job (StartCopyJob: one recovery point, now) or a backup plan's copy rule (CreateBackupPlan,
-- UpdateBackupPlan: every recovery point the rule makes, from then on; the plan is judged when it is written,
-- before any copy runs). The source vault is the job's `sourceBackupVaultName` or the rule's
-- `targetBackupVaultName`, in the call's account and region; its class comes from the vault's ARN or, for a
-- job, the recovery point's (an EBS snapshot's ARN, for instance). The destination's region is its ARN's.
CREATE OR REPLACE VIEW checks.backup_copies AS
WITH calls AS (
    SELECT event_uid, time, event_name, account, region, actor
    FROM checks.cloudtrail
    WHERE event_source = 'backup.amazonaws.com' AND outcome = 'success'
      AND event_name IN ('StartCopyJob', 'CreateBackupPlan', 'UpdateBackupPlan')
),
request AS (
    SELECT * FROM checks.copy_call_fields WHERE part = 'request'
),
jobs AS (
    SELECT c.event_uid, 'copy job' AS way, CAST(NULL AS VARCHAR) AS plan, CAST(NULL AS VARCHAR) AS rule,
           max(f.value) FILTER (WHERE f.name = 'sourcebackupvaultname') AS vault,
           max(f.value) FILTER (WHERE f.name = 'recoverypointarn') AS recovery_point,
           max(f.value) FILTER (WHERE f.name = 'destinationbackupvaultarn') AS destination
    FROM calls AS c JOIN request AS f ON f.event_uid = c.event_uid AND f.parent = '$'
    WHERE c.event_name = 'StartCopyJob'
    GROUP BY c.event_uid
),
plan_names AS (
    SELECT event_uid, max(value) FILTER (WHERE parent = '$.backupplan' AND name = 'backupplanname') AS plan,
           max(value) FILTER (WHERE parent = '$' AND name = 'backupplanid') AS plan_id
    FROM request
    GROUP BY event_uid
),
rules AS (
    SELECT event_uid, regexp_extract(parent, '\[([0-9]+)\]$', 1) AS rule_index,
           max(value) FILTER (WHERE name = 'rulename') AS rule,
           max(value) FILTER (WHERE name = 'targetbackupvaultname') AS vault
    FROM request
    WHERE regexp_full_match(parent, '\$\.backupplan\.rules\[[0-9]+\]')
    GROUP BY ALL
),
copy_actions AS (
    SELECT event_uid, regexp_extract(parent, '^\$\.backupplan\.rules\[([0-9]+)\]', 1) AS rule_index,
           value AS destination
    FROM request
    WHERE name = 'destinationbackupvaultarn'
      AND regexp_full_match(parent, '\$\.backupplan\.rules\[[0-9]+\]\.copyactions\[[0-9]+\]')
),
plans AS (
    SELECT c.event_uid, 'backup plan' AS way, coalesce(p.plan, p.plan_id) AS plan, r.rule, r.vault,
           CAST(NULL AS VARCHAR) AS recovery_point, a.destination
    FROM calls AS c
    JOIN plan_names AS p ON p.event_uid = c.event_uid
    JOIN rules AS r ON r.event_uid = c.event_uid
    JOIN copy_actions AS a ON a.event_uid = c.event_uid AND a.rule_index = r.rule_index
    WHERE c.event_name IN ('CreateBackupPlan', 'UpdateBackupPlan')
),
copies AS (
    SELECT c.*, x.way, x.plan, x.rule, x.recovery_point, x.destination,
           CASE WHEN starts_with(x.vault, 'arn:') THEN x.vault
                ELSE 'arn:' || checks.aws_partition(c.region) || ':backup:' || c.region || ':' || c.account
                     || ':backup-vault:' || x.vault END AS source_vault,
           nullif(split_part(x.destination, ':', 4), '') AS dest_region
    FROM calls AS c
    JOIN (SELECT * FROM jobs UNION ALL SELECT * FROM plans) AS x ON x.event_uid = c.event_uid
    WHERE x.vault IS NOT NULL AND starts_with(x.destination, 'arn:')
)
SELECT DISTINCT x.*, d.class_name, d.home, dest.jurisdiction AS dest_jurisdiction
FROM copies AS x
JOIN policy_class_patterns AS p
  ON p.kind = 'resource' AND ((x.source_vault LIKE p.like_pattern ESCAPE '!' AND (p.like_exact OR regexp_matches(x.source_vault, p.regex))) OR coalesce(x.recovery_point LIKE p.like_pattern ESCAPE '!' AND (p.like_exact OR regexp_matches(x.recovery_point, p.regex)), false))
JOIN policy_data_classes AS d ON d.class_name = p.class_name
LEFT JOIN policy_regions AS dest ON dest.region = checks.region_key(x.dest_region);

-- Each snapshot or image copied, one row per class of its source: EC2 CopySnapshot and CopyImage, RDS
-- CopyDBSnapshot and CopyDBClusterSnapshot. CloudTrail logs a copy in the destination region, so the copy is in
-- the event's region; the source is the event's resource (the resource mapping table builds it from
-- `sourceRegion` and `sourceSnapshotId` / `sourceImageId`, or takes the source ARN RDS is given for a copy from
-- another region), and its region is its ARN's. The copy's own ARN comes from the response, when it has one.
CREATE OR REPLACE VIEW checks.snapshot_copies AS
WITH calls AS (
    SELECT event_uid, time, event_name, account, region, actor, resource AS source
    FROM checks.cloudtrail
    WHERE outcome = 'success' AND resource IS NOT NULL
      AND (event_source = 'ec2.amazonaws.com' AND event_name IN ('CopySnapshot', 'CopyImage')
           OR event_source = 'rds.amazonaws.com' AND event_name IN ('CopyDBSnapshot', 'CopyDBClusterSnapshot'))
),
named AS (
    SELECT c.event_uid,
           max(f.value) FILTER (WHERE f.part = 'response' AND f.parent = '$' AND f.name IN ('snapshotid', 'imageid'))
               AS new_id,
           max(f.value) FILTER (WHERE f.part = 'response' AND f.name IN ('dbsnapshotarn', 'dbclustersnapshotarn'))
               AS new_arn,
           max(f.value) FILTER (WHERE f.part = 'request' AND f.parent = '$'
                                  AND f.name IN ('targetdbsnapshotidentifier', 'targetdbclustersnapshotidentifier'))
               AS target
    FROM calls AS c LEFT JOIN checks.copy_call_fields AS f ON f.event_uid = c.event_uid
    GROUP BY c.event_uid
),
copies AS (
    SELECT c.*,
           CASE c.event_name WHEN 'CopySnapshot' THEN 'EBS snapshot' WHEN 'CopyImage' THEN 'AMI'
                             WHEN 'CopyDBSnapshot' THEN 'DB snapshot' ELSE 'DB cluster snapshot' END AS kind,
           nullif(split_part(c.source, ':', 4), '') AS source_region,
           c.region AS dest_region,
           coalesce(n.new_arn, CASE
               WHEN c.event_name = 'CopySnapshot' AND n.new_id IS NOT NULL
                   THEN 'arn:' || checks.aws_partition(c.region) || ':ec2:' || c.region || '::snapshot/' || n.new_id
               WHEN c.event_name = 'CopyImage' AND n.new_id IS NOT NULL
                   THEN 'arn:' || checks.aws_partition(c.region) || ':ec2:' || c.region || '::image/' || n.new_id
               WHEN n.target IS NOT NULL
                   THEN 'arn:' || checks.aws_partition(c.region) || ':rds:' || c.region || ':' || c.account || ':'
                        || CASE WHEN c.event_name = 'CopyDBSnapshot' THEN 'snapshot' ELSE 'cluster-snapshot' END
                        || ':' || lower(n.target) END) AS destination
    FROM calls AS c JOIN named AS n ON n.event_uid = c.event_uid
)
SELECT x.*, rc.class_name, rc.home, src.jurisdiction AS source_jurisdiction, dest.jurisdiction AS dest_jurisdiction
FROM copies AS x
JOIN checks.resource_class AS rc ON rc.resource = x.source
LEFT JOIN policy_regions AS src ON src.region = checks.region_key(x.source_region)
LEFT JOIN policy_regions AS dest ON dest.region = checks.region_key(x.dest_region);

-- The accounts of the organisation: those [organisation] accounts declares, else every account the lake's
-- trails deliver for (each CloudTrail record's recipient account, else its account). `basis` says which.
CREATE OR REPLACE VIEW checks.org_accounts AS
SELECT account, 'declared in [organisation] accounts' AS basis FROM policy_org_accounts
UNION
SELECT coalesce(recipient_account_id, account), 'the accounts the lake''s trails deliver for'
FROM main.cloudtrail
WHERE NOT EXISTS (SELECT 1 FROM policy_org_accounts) AND coalesce(recipient_account_id, account) IS NOT NULL;

-- Each account (or `all`: public) a classed snapshot, image or DB snapshot was shared with, one row per grantee
-- and class: ModifySnapshotAttribute (`createVolumePermission.add.items[].userId` or `.group`),
-- ModifyImageAttribute (`launchPermission.add.items[]`), ModifyDBSnapshotAttribute and
-- ModifyDBClusterSnapshotAttribute (`attributeName` restore, `valuesToAdd[]`). `outside` says whether the grantee
-- is not one of the organisation's accounts. An AMI shared with an organisation or OU by ARN names no account and
-- is not listed.
CREATE OR REPLACE VIEW checks.snapshot_shares AS
WITH calls AS (
    SELECT event_uid, time, event_name, account, region, actor, resource
    FROM checks.cloudtrail
    WHERE outcome = 'success' AND resource IS NOT NULL
      AND (event_source = 'ec2.amazonaws.com' AND event_name IN ('ModifySnapshotAttribute', 'ModifyImageAttribute')
           OR event_source = 'rds.amazonaws.com'
              AND event_name IN ('ModifyDBSnapshotAttribute', 'ModifyDBClusterSnapshotAttribute'))
),
request AS (
    SELECT * FROM checks.copy_call_fields WHERE part = 'request'
),
restore_attribute AS (
    SELECT DISTINCT event_uid FROM request WHERE parent = '$' AND name = 'attributename' AND lower(value) = 'restore'
),
grantees AS (
    SELECT f.event_uid, CASE WHEN lower(f.value) = 'all' THEN 'all' ELSE f.value END AS grantee
    FROM request AS f
    WHERE f.name IN ('userid', 'group')
      AND regexp_full_match(f.parent, '\$\.(createvolumepermission|launchpermission)\.add\.items\[[0-9]+\]')
    UNION
    SELECT f.event_uid, CASE WHEN lower(f.value) = 'all' THEN 'all' ELSE f.value END
    FROM request AS f JOIN restore_attribute USING (event_uid)
    WHERE f.parent = '$.valuestoadd'
)
SELECT c.*, g.grantee,
       CASE c.event_name WHEN 'ModifySnapshotAttribute' THEN 'EBS snapshot' WHEN 'ModifyImageAttribute' THEN 'AMI'
                         WHEN 'ModifyDBSnapshotAttribute' THEN 'DB snapshot' ELSE 'DB cluster snapshot' END AS kind,
       g.grantee = 'all' OR g.grantee NOT IN (SELECT account FROM checks.org_accounts) AS outside,
       rc.class_name, rc.home
FROM calls AS c
JOIN grantees AS g ON g.event_uid = c.event_uid
JOIN checks.resource_class AS rc ON rc.resource = c.resource;

-- Each Recovery Services vault holding classed items on which Azure Backup's cross-region restore was turned on,
-- one row per operation and class: the vault's backups become restorable in its paired region (Microsoft's
-- published pairs, policy_region_pairs), so the copy Azure keeps there is data the controller can use abroad.
-- Two operations turn it on: the backup storage configuration (`backupstorageconfig/write`, body
-- `properties.crossRegionRestoreFlag: true`) and, in newer API versions, the vault itself (`vaults/write`,
-- `properties.redundancySettings.crossRegionRestore: "Enabled"`). The activity log carries the request body
-- only sometimes: without it the operation cannot be judged and is not reported. A vault holds classed items when
-- its own id matches a class's resources, or when a protected item written to it at any time in the lake
-- (`backupFabrics/protectionContainers/protectedItems/write`) names a classed `sourceResourceId`.
CREATE OR REPLACE VIEW checks.azure_backup_restores AS
WITH enabled AS (
    SELECT evidence, first_seen AS time, action, actor, region,
           regexp_extract(resource, '^(.*/providers/microsoft\.recoveryservices/vaults/[^/]+)', 1) AS vault
    FROM checks.azure_changes
    WHERE outcome = 'success'
      AND (op = 'microsoft.recoveryservices/vaults/backupstorageconfig/write'
           AND lower(coalesce(cross_region_restore, '')) = 'true'
           OR op = 'microsoft.recoveryservices/vaults/write'
           AND lower(coalesce(cross_region_restore, '')) = 'enabled')
),
protected_items AS (
    SELECT DISTINCT
           lower(regexp_extract(resource, '^(.*/providers/microsoft\.recoveryservices/vaults/[^/]+)', 1)) AS vault,
           lower(backup_source_resource_id) AS item
    FROM main.azure_activity
    WHERE lower(operation_name)
          = 'microsoft.recoveryservices/vaults/backupfabrics/protectioncontainers/protecteditems/write'
      AND outcome = 'success'
      AND body_field = 'requestbody'
),
classed AS (
    SELECT DISTINCT e.vault, p.class_name, CAST(NULL AS VARCHAR) AS item
    FROM enabled AS e JOIN policy_class_patterns AS p ON p.kind = 'resource' AND e.vault LIKE p.like_pattern ESCAPE '!' AND (p.like_exact OR regexp_matches(e.vault, p.regex))
    UNION
    SELECT DISTINCT i.vault, p.class_name, i.item
    FROM protected_items AS i JOIN policy_class_patterns AS p ON p.kind = 'resource' AND i.item LIKE p.like_pattern ESCAPE '!' AND (p.like_exact OR regexp_matches(i.item, p.regex))
)
SELECT e.evidence, e.time, e.action, e.actor, e.region, e.vault, c.class_name, d.home,
       list(DISTINCT c.item) FILTER (WHERE c.item IS NOT NULL) AS classed_items,
       pair.paired_region AS dest_region, dest.jurisdiction AS dest_jurisdiction
FROM enabled AS e
JOIN classed AS c ON c.vault = lower(e.vault)
JOIN policy_data_classes AS d ON d.class_name = c.class_name
LEFT JOIN policy_region_pairs AS pair ON pair.region = checks.region_key(e.region)
LEFT JOIN policy_regions AS dest ON dest.region = checks.region_key(pair.paired_region)
GROUP BY ALL;
