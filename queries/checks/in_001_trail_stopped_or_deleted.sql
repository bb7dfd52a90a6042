-- id: IN-001
-- title: CloudTrail logging stopped or a trail deleted
-- family: integrity
-- severity: critical
-- gdpr: Art. 30; Art. 32; Art. 5(2)
-- requires: cloudtrail
-- description: StopLogging or DeleteTrail was called. Either ends the audit trail this evidence rests on,
--   and is a classic first step of an attacker covering their tracks, so failed attempts (a wrong trail
--   name, access denied) are reported too, with their error.
-- reason: {actions} {result} by {actor} {origin}
-- remediation: Start logging again (StartLogging) or recreate the trail, find out who did it and why, and
--   deny cloudtrail:StopLogging and cloudtrail:DeleteTrail with a service control policy.
SELECT
    coalesce(e.resource, e.trail_name) AS resource,
    checks.principal(e.actor) AS actor,
    e.region,
    any_value(r.jurisdiction) AS region_jurisdiction,
    CAST(NULL AS VARCHAR) AS counterpart_jurisdiction,
    min(e.time) AS first_seen,
    max(e.time) AS last_seen,
    count(*) AS event_count,
    list(e.event_uid ORDER BY e.time, e.event_uid) AS evidence,
    array_to_string(list_sort(list_distinct(list(e.action))), ' and ') AS actions,
    CASE WHEN e.outcome = 'success' THEN 'succeeded'
         ELSE 'attempted and failed ('
              || nullif(array_to_string(list_sort(list_distinct(list(e.error_code))), ', '), '') || ')' END AS result,
    -- Say where the call came from as far as the record says: an address, an AWS service acting for the
    -- caller, what CloudTrail wrote instead of an address ("AWS Internal"), or nothing.
    CASE WHEN min(e.src_ip) IS NOT NULL THEN 'from ' || min(e.src_ip)
         WHEN min(e.user_identity_invoked_by) IS NOT NULL
             THEN 'through the AWS service ' || min(e.user_identity_invoked_by)
         WHEN ends_with(min(e.source_ip_address), '.amazonaws.com')
             THEN 'through the AWS service ' || min(e.source_ip_address)
         WHEN min(e.source_ip_address) IS NOT NULL
             THEN 'from "' || left(min(e.source_ip_address), 80) || '", which is not an address'
         ELSE 'from an unknown address' END
    || CASE WHEN min(e.src_ip) IS NULL
            THEN ' (' || coalesce(min(e.user_identity_type), 'unknown') || ' identity, user agent '
                 || coalesce(left(min(e.user_agent), 120), 'unknown') || ')' ELSE '' END AS origin
FROM cloudtrail_changes AS e
LEFT JOIN policy_regions AS r ON r.region = checks.region_key(e.region)
WHERE e.action IN ('StopLogging', 'DeleteTrail')
GROUP BY coalesce(e.resource, e.trail_name), checks.principal(e.actor), e.region, e.outcome
