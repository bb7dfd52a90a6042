-- id: EG-005
-- title: Backups copied to another jurisdiction
-- family: egress
-- severity: high
-- gdpr: Art. 44; Art. 46; Art. 30(1)(e)
-- requires: any of cloudtrail, azure_activity
-- policy: data_classes
-- description: AWS Backup was told to copy the recovery points of a classed vault to a vault in a region whose
--   jurisdiction is neither the class's home nor one of its allowed transfers: a copy job (StartCopyJob, one
--   recovery point), or a backup plan whose rules copy every recovery point they make (CreateBackupPlan,
--   UpdateBackupPlan, a rule's copyActions). A plan is judged when it is written, before any copy runs, so the
--   finding comes a night before the first copy. The source vault is the job's sourceBackupVaultName or the
--   rule's targetBackupVaultName, in the call's account and region; it is classed when a class's resources match
--   its ARN (arn:aws:backup:REGION:ACCOUNT:backup-vault:NAME) or, for a job, the recovery point's ARN. The
--   destination's region is the one in its vault ARN. Parameter names are read case-insensitively. Azure:
--   cross-region restore turned on for a Recovery Services vault holding classed items (its id matches a
--   class's resources, or a protected item written to it names a classed source resource), whose paired region
--   (Microsoft's published pairs) is outside the home: the vault's backups become restorable there. The
--   activity log carries the request body only sometimes; an operation logged without it cannot be judged.
-- reason: {copied_by} vault {vault_name} (class {data_class}, home {home}{protected_items}){copied_to}
--   ({counterpart_jurisdiction})
-- remediation: Point the copy rule or job at a vault in the home jurisdiction, or declare the transfer with its
--   safeguard in the class's allowed_transfers and the processing activity. Copies already made stay in the
--   destination vault until their lifecycle deletes them: delete them there. Azure: turn cross-region restore
--   off on the vault (Backup properties), or keep classed items in a vault whose pair is in the home.
WITH judged AS (
    -- one row per call: a plan whose rules copy the same vault to the same destination names the rules
    SELECT event_uid, any_value(time) AS time, way, plan, nullif(array_to_string(list_sort(list_distinct(list(rule))), ', '), '')
               AS rules,
           source_vault, count(DISTINCT recovery_point) AS recovery_points, class_name, home, destination,
           dest_jurisdiction, checks.principal(any_value(actor)) AS actor, region
    FROM backup_copies
    WHERE dest_jurisdiction IS NOT NULL
      AND dest_jurisdiction <> home
      AND NOT checks.transfer_allowed(class_name, dest_jurisdiction)
    GROUP BY event_uid, way, plan, source_vault, class_name, home, destination, dest_jurisdiction, region
)
SELECT
    j.source_vault AS resource,
    j.actor,
    j.region,
    any_value(src.jurisdiction) AS region_jurisdiction,
    j.dest_jurisdiction AS counterpart_jurisdiction,
    min(j.time) AS first_seen,
    max(j.time) AS last_seen,
    count(*) AS event_count,
    list(j.event_uid ORDER BY j.time, j.event_uid) AS evidence,
    j.class_name AS data_class,
    j.destination AS dest_resource,
    j.home,
    split_part(j.source_vault, ':backup-vault:', 2) AS vault_name,
    CASE WHEN j.way = 'backup plan'
         THEN 'backup plan ' || coalesce(j.plan, '(unnamed)')
              || coalesce(' (rule ' || nullif(array_to_string(list_sort(list_distinct(list(j.rules))), ', '), '') || ')',
                          '')
              || ' copies every recovery point of'
         ELSE CAST(count(*) AS VARCHAR) || ' copy job(s) copy recovery points of' END AS copied_by,
    '' AS protected_items,
    ' to ' || j.destination AS copied_to
FROM judged AS j
LEFT JOIN policy_regions AS src ON src.region = checks.region_key(j.region)
GROUP BY j.way, j.plan, j.source_vault, j.class_name, j.home, j.destination, j.dest_jurisdiction, j.actor, j.region
UNION ALL
SELECT
    a.vault AS resource,
    checks.principal(a.actor) AS actor,
    a.region,
    any_value(src.jurisdiction) AS region_jurisdiction,
    a.dest_jurisdiction AS counterpart_jurisdiction,
    min(a.time) AS first_seen,
    max(a.time) AS last_seen,
    count(*) AS event_count,
    list(uid ORDER BY a.time, uid) AS evidence,
    a.class_name AS data_class,
    CAST(NULL AS VARCHAR) AS dest_resource,
    a.home,
    split_part(a.vault, '/vaults/', 2) AS vault_name,
    'cross-region restore turned on for Recovery Services' AS copied_by,
    coalesce(', protecting ' || nullif(array_to_string(list_sort(list_distinct(list_transform(flatten(list(a.classed_items)), lambda i: regexp_extract(i, '[^/]+$')))), ', '), ''), '')
        AS protected_items,
    ': its backups can be restored in its paired region ' || a.dest_region AS copied_to
FROM (SELECT *, unnest(evidence) AS uid FROM azure_backup_restores) AS a
LEFT JOIN policy_regions AS src ON src.region = checks.region_key(a.region)
WHERE a.dest_jurisdiction IS NOT NULL
  AND a.dest_jurisdiction <> a.home
  AND NOT checks.transfer_allowed(a.class_name, a.dest_jurisdiction)
GROUP BY a.vault, a.class_name, a.home, checks.principal(a.actor), a.region, a.dest_region, a.dest_jurisdiction
