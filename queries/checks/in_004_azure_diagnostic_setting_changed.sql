-- id: IN-004
-- title: An Azure diagnostic setting deleted or weakened
-- family: integrity
-- severity: high
-- gdpr: Art. 30; Art. 32; Art. 5(2)
-- requires: azure_activity
-- description: A diagnostic setting, which sends a resource's logs (Key Vault AuditEvent, Storage reads,
--   writes and deletes …) to a storage account, workspace or event hub, was deleted
--   (Microsoft.Insights/diagnosticSettings/delete; failed attempts too), or written so that a log category
--   or category group is disabled, no log is enabled, or no destination is left. Either ends the resource
--   log this evidence rests on. The new settings are read from the request body, which the activity log
--   carries only for some writes (properties.requestbody, else responseBody); a write without one is
--   reported as a change whose effect cannot be judged from the logs. A write that enables every category
--   it names and has a destination is not reported.
-- reason: diagnostic setting {setting} of {monitored_type} {what} by {changed_by} from {changed_from}
-- remediation: Restore the diagnostic setting (every audit category to the export destination), find out
--   who changed it and why, and deny Microsoft.Insights/diagnosticSettings/* writes and deletes outside
--   change control (an Azure Policy DeployIfNotExists keeps them in place).
WITH settings AS (
    SELECT az.*,
           split_part(az.resource, '/providers/microsoft.insights/diagnosticsettings/', 1) AS monitored,
           regexp_extract(az.resource, '/diagnosticsettings/([^/]+)$', 1) AS setting,
           list_transform(coalesce(az.diagnostic_logs, []),
                          lambda l: {'name': coalesce(l.category, l.category_group), 'enabled': l.enabled}) AS logs,
           az.diagnostic_destination AS destination
    FROM azure_changes AS az
    WHERE az.op IN ('microsoft.insights/diagnosticsettings/write', 'microsoft.insights/diagnosticsettings/delete')
      AND az.outcome IN ('success', 'failure')
),
judged AS (
    SELECT s.*,
           CASE
               WHEN s.op = 'microsoft.insights/diagnosticsettings/delete' AND s.outcome = 'success'
                   THEN 'deleted'
               WHEN s.op = 'microsoft.insights/diagnosticsettings/delete'
                   THEN 'deletion attempted and failed (' || coalesce(s.error_code, 'no error code') || ')'
               WHEN s.outcome = 'failure' THEN NULL
               WHEN s.body IS NULL
                   THEN 'changed, but the activity log does not carry the new settings, so their effect cannot be judged from the logs'
               ELSE nullif(concat_ws('; ',
                   CASE WHEN array_length(list_filter(s.logs, lambda l: NOT l.enabled)) > 0
                        THEN 'log categories disabled: ' || array_to_string(
                             list_transform(list_filter(s.logs, lambda l: NOT l.enabled), lambda l: l.name), ', ') END,
                   CASE WHEN array_length(list_filter(s.logs, lambda l: l.enabled)) = 0 THEN 'no log category enabled' END,
                   CASE WHEN s.destination IS NULL THEN 'no destination' END), '')
           END AS what
    FROM settings AS s
)
SELECT
    j.monitored AS resource,
    j.actor,
    j.region,
    any_value(r.jurisdiction) AS region_jurisdiction,
    CAST(NULL AS VARCHAR) AS counterpart_jurisdiction,
    min(j.first_seen) AS first_seen,
    max(j.last_seen) AS last_seen,
    sum(array_length(j.evidence)) AS event_count,
    flatten(list(j.evidence ORDER BY j.first_seen, j.evidence)) AS evidence,
    j.setting,
    regexp_extract(j.monitored, '/providers/([^/]+/[^/]+/[^/]+)', 1) AS monitored_type,
    j.what,
    coalesce(j.actor, 'an unknown caller') AS changed_by,
    coalesce(min(j.src_ip), 'an Azure service') AS changed_from
FROM judged AS j
LEFT JOIN policy_regions AS r ON r.region = checks.region_key(j.region)
WHERE j.what IS NOT NULL
GROUP BY j.monitored, j.setting, j.actor, j.region, j.what
