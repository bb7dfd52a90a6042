-- id: RT-003
-- title: Lifecycle management policy of a classed storage account keeps data longer than its retention, or was deleted
-- family: retention
-- severity: high
-- gdpr: Art. 5(1)(e); Art. 30(1)(f)
-- requires: azure_activity
-- policy: classed_resources
-- description: A storage account of a data class had its lifecycle management policy written
--   (Microsoft.Storage/storageAccounts/managementPolicies/write) with no enabled rule that deletes base
--   blobs, or whose longest delete age (daysAfterModificationGreaterThan, daysAfterCreationGreaterThan,
--   daysAfterLastAccessTimeGreaterThan of actions.baseBlob.delete) is longer than the class's
--   retention_days; or the policy was deleted (managementPolicies/delete). The rules are read from the
--   request body, which the activity log carries only for some writes (properties.requestbody, else
--   responseBody). A write without one is reported as a change whose retention cannot be judged from the
--   logs. Started records are joined to the record that says how the operation ended.
-- reason: {why}
-- remediation: Give the account an enabled lifecycle rule that deletes base blobs (and versions and
--   snapshots) at most retention_days after they were written, and document any legal hold that justifies
--   keeping data longer (`az storage account management-policy show` shows the policy in force).
WITH policies AS (
    SELECT az.*
    FROM azure_changes AS az
    WHERE az.op IN ('microsoft.storage/storageaccounts/managementpolicies/write',
                    'microsoft.storage/storageaccounts/managementpolicies/delete')
      AND az.outcome = 'success'
),
rules AS (
    SELECT p.correlation, p.resource, unnest(p.lifecycle_rules) AS rule
    FROM policies AS p
    WHERE p.lifecycle_rules IS NOT NULL
),
expiry AS (
    SELECT correlation, resource,
           max(greatest(rule.delete_after_modification_days, rule.delete_after_creation_days,
                        rule.delete_after_last_access_days)) FILTER (WHERE rule.enabled) AS max_days,
           count(*) AS rule_count
    FROM rules GROUP BY correlation, resource
),
judged AS (
    SELECT p.*, rc.class_name, rc.retention_days, x.max_days,
           CASE
               WHEN p.op = 'microsoft.storage/storageaccounts/managementpolicies/delete'
                   THEN 'lifecycle management policy deleted; ' || rc.class_name || ' data must be deleted after '
                        || CAST(rc.retention_days AS VARCHAR) || ' days'
               WHEN p.body IS NULL
                   THEN 'lifecycle management policy written, but the activity log does not carry its rules, '
                        || 'so whether ' || rc.class_name || ' data is deleted after '
                        || CAST(rc.retention_days AS VARCHAR) || ' days cannot be judged from the logs'
               WHEN x.max_days > rc.retention_days
                   THEN 'lifecycle management policy deletes blobs after '
                        || CAST(CAST(x.max_days AS BIGINT) AS VARCHAR) || ' days, longer than the '
                        || CAST(rc.retention_days AS VARCHAR) || ' days ' || rc.class_name || ' data may be kept'
               WHEN x.max_days IS NULL
                   THEN 'lifecycle management policy has no enabled rule deleting base blobs; ' || rc.class_name
                        || ' data must be deleted after ' || CAST(rc.retention_days AS VARCHAR) || ' days'
           END AS why
    FROM policies AS p
    JOIN resource_class AS rc ON rc.resource = p.resource
    LEFT JOIN expiry AS x ON x.correlation = p.correlation AND x.resource = p.resource
)
SELECT
    checks.resource_root(j.resource) AS resource,
    j.actor,
    j.region,
    any_value(r.jurisdiction) AS region_jurisdiction,
    CAST(NULL AS VARCHAR) AS counterpart_jurisdiction,
    min(j.first_seen) AS first_seen,
    max(j.last_seen) AS last_seen,
    sum(array_length(j.evidence)) AS event_count,
    j.why,
    j.retention_days,
    flatten(list(j.evidence ORDER BY j.first_seen, j.evidence)) AS evidence,
    j.class_name AS data_class
FROM judged AS j
LEFT JOIN policy_regions AS r ON r.region = checks.region_key(j.region)
WHERE j.why IS NOT NULL
GROUP BY checks.resource_root(j.resource), j.actor, j.region, j.why, j.class_name, j.retention_days
