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
           outcome, error_code, src_ip, dest_resource, dest_region,
           coalesce(nullif(correlation_id, ''), event_uid) AS correlation,
           lower(coalesce(status, result_type, '')) AS phase,
           json_extract_string(properties, ['$.requestbody', '$.requestBody', '$.responseBody']) AS bodies,
           json_extract_string(properties, '$.statusCode') AS status_code
    FROM checks.azure_activity
    WHERE regexp_matches(lower(operation_name), '^microsoft\.(keyvault/(vaults/(delete|write|accesspolicies/write)|locations/deletedvaults/purge/action)|storage/storageaccounts/(managementpolicies|objectreplicationpolicies)/(write|delete)|insights/diagnosticsettings/(write|delete)|storage/storageaccounts/write|authorization/(policyassignments/delete|policyexemptions/write)|recoveryservices/vaults/(write|backupstorageconfig/write))$')
)
SELECT
    min(action) AS action, op, resource, correlation,
    min(actor) AS actor, min(region) AS region, min(src_ip) AS src_ip,
    min(time) AS first_seen, max(time) AS last_seen,
    -- an operation whose records include a failure failed; one only Started has not been seen to finish
    CASE WHEN bool_or(outcome = 'failure') THEN 'failure'
         WHEN bool_and(phase IN ('started', 'start')) THEN 'started' ELSE 'success' END AS outcome,
    string_agg(DISTINCT error_code, ', ') AS error_code,
    -- the HTTP status of the finished operation (Created: a PUT that made the resource)
    string_agg(DISTINCT status_code, ', ') AS status_code,
    min(dest_resource) AS dest_resource, min(dest_region) AS dest_region,
    -- the request body as JSON, when one of the records carries it
    coalesce(min(CASE WHEN json_valid(bodies[1]) AND bodies[1] NOT IN ('', '{}') THEN json(bodies[1]) END),
             min(CASE WHEN json_valid(bodies[2]) AND bodies[2] NOT IN ('', '{}') THEN json(bodies[2]) END),
             min(CASE WHEN json_valid(bodies[3]) AND bodies[3] NOT IN ('', '{}') THEN json(bodies[3]) END)) AS body,
    count(*) AS records,
    list(event_uid ORDER BY time, event_uid) AS evidence
FROM records
GROUP BY op, resource, correlation;
