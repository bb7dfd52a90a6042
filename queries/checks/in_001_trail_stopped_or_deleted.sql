-- id: IN-001
-- title: CloudTrail logging stopped or a trail deleted
-- family: integrity
-- severity: critical
-- gdpr: Art. 30; Art. 32; Art. 5(2)
-- requires: cloudtrail
-- description: StopLogging or DeleteTrail was called. Either ends the audit trail this evidence rests on,
--   and is a classic first step of an attacker covering their tracks, so failed attempts (a wrong trail
--   name, access denied) are reported too, with their error.
-- remediation: Start logging again (StartLogging) or recreate the trail, find out who did it and why, and
--   deny cloudtrail:StopLogging and cloudtrail:DeleteTrail with a service control policy.
SELECT
    coalesce(e.resource, json_extract_string(e.request_parameters, '$.name')) AS resource,
    checks.principal(e.actor) AS actor,
    e.region,
    any_value(r.jurisdiction) AS region_jurisdiction,
    CAST(NULL AS VARCHAR) AS counterpart_jurisdiction,
    min(e.time) AS first_seen,
    max(e.time) AS last_seen,
    count(*) AS event_count,
    format('{} {} by {} from {}', string_agg(DISTINCT e.action, ' and ' ORDER BY e.action),
           CASE WHEN e.outcome = 'success' THEN 'succeeded'
                ELSE 'attempted and failed (' || string_agg(DISTINCT e.error_code, ', ') || ')' END,
           checks.principal(e.actor), coalesce(min(e.src_ip), 'an AWS service')) AS reason,
    list(e.event_uid ORDER BY e.time, e.event_uid) AS evidence
FROM cloudtrail_changes AS e
LEFT JOIN policy_regions AS r ON r.region = checks.region_key(e.region)
WHERE e.action IN ('StopLogging', 'DeleteTrail')
GROUP BY coalesce(e.resource, json_extract_string(e.request_parameters, '$.name')), checks.principal(e.actor), e.region, e.outcome
