-- The `checks` schema, Azure's part (see common.sql for the load order and the event-like views).

-- Azure control-plane changes the built-in checks judge (Key Vault deletion, purge and access policies,
-- storage lifecycle and object replication policies, diagnostic settings, storage account writes, policy
-- assignment deletions and exemptions, Recovery Services vault and backup storage settings), from the activity
-- log in the window: one row per operation. Azure logs an operation as several records (Started, then Succeeded or
-- Failed) sharing a correlation id; the request body, when the activity log carries it at all
-- (properties.requestbody, else responseBody), is on one of them, so the records are judged together.
CREATE OR REPLACE VIEW checks.azure_changes AS
WITH records AS (
    SELECT event_uid, time, operation_name AS action, lower(operation_name) AS op, actor, region, resource,
           outcome, error_code, src_ip, dest_resource, dest_region, status_code,
           coalesce(nullif(correlation_id, ''), event_uid) AS correlation,
           lower(coalesce(status, result_type, '')) AS phase,
           -- the body to judge the operation by: a requestbody before a requestBody before a responseBody, then the
           -- least text, whichever record carries it
           CASE body_field WHEN 'requestbody' THEN '1' WHEN 'requestBody' THEN '2' WHEN 'responseBody' THEN '3' END
               || CAST(body AS VARCHAR) AS body_rank,
           {'body': body, 'body_location': body_location, 'body_sku_name': body_sku_name,
            'lifecycle_rules': lifecycle_rules, 'diagnostic_logs': diagnostic_logs,
            'diagnostic_destination': diagnostic_destination, 'access_policy_object_ids': access_policy_object_ids,
            'access_policy_key_permissions': access_policy_key_permissions,
            'cross_region_restore': cross_region_restore, 'policy_display_name': policy_display_name,
            'policy_exemption_category': policy_exemption_category, 'policy_assignment_id': policy_assignment_id,
            'replication_destination_account': replication_destination_account} AS facts
    FROM checks.azure_activity
    WHERE regexp_matches(lower(operation_name), '^microsoft\.(keyvault/(vaults/(delete|write|accesspolicies/write)|locations/deletedvaults/purge/action)|storage/storageaccounts/(managementpolicies|objectreplicationpolicies)/(write|delete)|insights/diagnosticsettings/(write|delete)|storage/storageaccounts/write|authorization/(policyassignments/delete|policyexemptions/write)|recoveryservices/vaults/(write|backupstorageconfig/write))$')
),
operations AS (
    SELECT
        min(action) AS action, op, resource, correlation,
        min(actor) AS actor, min(region) AS region, min(src_ip) AS src_ip,
        min(time) AS first_seen, max(time) AS last_seen,
        -- an operation whose records include a failure failed; one only Started has not been seen to finish
        CASE WHEN bool_or(outcome = 'failure') THEN 'failure'
             WHEN bool_and(phase IN ('started', 'start')) THEN 'started' ELSE 'success' END AS outcome,
        CASE WHEN count(error_code) > 0 THEN array_to_string(list_sort(list_distinct(list(error_code))), ', ') END
            AS error_code,
        -- the HTTP status of the finished operation (Created: a PUT that made the resource)
        CASE WHEN count(status_code) > 0 THEN array_to_string(list_sort(list_distinct(list(status_code))), ', ') END
            AS status_code,
        min(dest_resource) AS dest_resource, min(dest_region) AS dest_region,
        arg_min(facts, body_rank) AS facts,
        count(*) AS records,
        list(event_uid ORDER BY time, event_uid) AS evidence
    FROM records
    GROUP BY op, resource, correlation
)
SELECT action, op, resource, correlation, actor, region, src_ip, first_seen, last_seen, outcome, error_code,
       status_code, dest_resource, dest_region,
       -- the body (JSON text) when one of the records carries it, and what the checks read of it
       facts.body AS body, facts.body_location AS body_location, facts.body_sku_name AS body_sku_name,
       facts.lifecycle_rules AS lifecycle_rules, facts.diagnostic_logs AS diagnostic_logs,
       facts.diagnostic_destination AS diagnostic_destination,
       facts.access_policy_object_ids AS access_policy_object_ids,
       facts.access_policy_key_permissions AS access_policy_key_permissions,
       facts.cross_region_restore AS cross_region_restore, facts.policy_display_name AS policy_display_name,
       facts.policy_exemption_category AS policy_exemption_category,
       facts.policy_assignment_id AS policy_assignment_id,
       facts.replication_destination_account AS replication_destination_account,
       records, evidence
FROM operations;
