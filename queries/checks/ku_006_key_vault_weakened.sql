-- id: KU-006
-- title: A Key Vault holding a classed key deleted, purged, or opened to more principals
-- family: key_use
-- severity: critical
-- gdpr: Art. 32
-- requires: any of azure_activity, azure_resource
-- policy: data_classes
-- report: key_weakening
-- description: A vault that holds a data class's keys (a key URI of the vault matches a class's `keys` or
--   `resources` pattern, or the vault's resource id matches one) was deleted or purged
--   (Microsoft.KeyVault/vaults/delete, locations/deletedVaults/purge/action in the activity log; VaultDelete,
--   VaultPurge in its AuditEvent log), had a key deleted or purged (KeyDelete, KeyPurge), or had its access
--   policy added to or replaced (vaults/accessPolicies/write). Deleting or purging makes the data the keys
--   protect unreadable, for good once purged; an access policy widens who can unwrap them. The principals
--   and permissions granted are read from the request body when the activity log carries it
--   (properties.requestbody); when it does not, the change is reported without them. Removing an access
--   policy is not reported.
-- reason: {action} on vault {vault} (holds keys of {data_class}): {what}
-- remediation: Recover the vault or key while it is soft-deleted (and turn on purge protection), review
--   the access policy granted (or move the vault to Azure RBAC), and confirm each change with its owner.
WITH vault_class AS (
    SELECT DISTINCT lower(regexp_extract(kc.key_id, '^https://([^./]+)\.vault\.', 1)) AS vault, kc.class_name
    FROM key_class AS kc WHERE regexp_matches(kc.key_id, '^https://[^./]+\.vault\.')
    UNION
    SELECT DISTINCT regexp_extract(rc.resource, '/providers/microsoft\.keyvault/vaults/([^/]+)', 1), rc.class_name
    FROM resource_class AS rc WHERE contains(rc.resource, '/providers/microsoft.keyvault/vaults/')
),
control_plane AS (
    SELECT az.evidence, az.first_seen, az.last_seen, az.actor, az.region, az.resource, az.action,
           regexp_extract(az.resource, '/(?:vaults|deletedvaults)/([^/]+)', 1) AS vault,
           CASE
               WHEN az.op = 'microsoft.keyvault/vaults/delete' THEN 'vault deleted'
               WHEN az.op = 'microsoft.keyvault/locations/deletedvaults/purge/action'
                   THEN 'deleted vault purged: its keys cannot be recovered'
               WHEN az.body IS NULL
                   THEN 'access policy ' || regexp_extract(az.resource, '/accesspolicies/([^/]+)$', 1)
                        || ': the activity log does not carry the request body, so who was granted what is not '
                        || 'known from the logs'
               ELSE 'access policy ' || regexp_extract(az.resource, '/accesspolicies/([^/]+)$', 1)
                    || ': object id(s) ' || array_to_string(list_distinct(coalesce(az.access_policy_object_ids, [])), ', ')
                    || ' granted key permissions '
                    || coalesce(nullif(array_to_string(list_sort(list_distinct(
                           coalesce(az.access_policy_key_permissions, []))), ', '), ''), 'none')
           END AS what
    FROM azure_changes AS az
    WHERE az.outcome = 'success'
      AND (az.op IN ('microsoft.keyvault/vaults/delete', 'microsoft.keyvault/locations/deletedvaults/purge/action')
           OR (az.op = 'microsoft.keyvault/vaults/accesspolicies/write'
               AND regexp_extract(az.resource, '/accesspolicies/([^/]+)$', 1) <> 'remove'))
),
data_plane AS (
    SELECT [e.event_uid] AS evidence, e.time AS first_seen, e.time AS last_seen, e.actor, e.region, e.resource,
           e.action, regexp_extract(e.resource, '/providers/microsoft\.keyvault/vaults/([^/]+)', 1) AS vault,
           CASE e.action
               WHEN 'VaultDelete' THEN 'vault deleted'
               WHEN 'VaultPurge' THEN 'deleted vault purged: its keys cannot be recovered'
               WHEN 'KeyDelete' THEN 'key ' || coalesce(regexp_extract(e.key_id, '/keys/([^/]+)', 1), e.key_id)
                                     || ' deleted'
               WHEN 'KeyPurge' THEN 'key ' || coalesce(regexp_extract(e.key_id, '/keys/([^/]+)', 1), e.key_id)
                                    || ' purged: it cannot be recovered'
           END AS what
    FROM events_geo AS e
    WHERE e.source = 'azure_resource' AND e.outcome = 'success'
      AND e.action IN ('VaultDelete', 'VaultPurge', 'KeyDelete', 'KeyPurge')
      AND contains(e.resource, '/providers/microsoft.keyvault/vaults/')
),
changes AS (
    SELECT * FROM control_plane UNION ALL SELECT * FROM data_plane
)
SELECT
    regexp_extract(c.resource, '^(.*/(?:vaults|deletedvaults)/[^/]+)', 1) AS resource,
    c.actor,
    c.region,
    any_value(r.jurisdiction) AS region_jurisdiction,
    CAST(NULL AS VARCHAR) AS counterpart_jurisdiction,
    min(c.first_seen) AS first_seen,
    max(c.last_seen) AS last_seen,
    sum(array_length(c.evidence)) AS event_count,
    c.action,
    c.vault,
    c.what,
    flatten(list(c.evidence ORDER BY c.first_seen, c.evidence)) AS evidence,
    vc.class_name AS data_class
FROM changes AS c
JOIN vault_class AS vc ON vc.vault = lower(c.vault)
LEFT JOIN policy_regions AS r ON r.region = checks.region_key(c.region)
GROUP BY regexp_extract(c.resource, '^(.*/(?:vaults|deletedvaults)/[^/]+)', 1), c.actor, c.region, c.action,
         c.vault, vc.class_name, c.what
