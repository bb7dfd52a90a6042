-- id: IN-002
-- title: CloudTrail settings weakened
-- family: integrity
-- severity: high
-- gdpr: Art. 30; Art. 32
-- requires: cloudtrail
-- description: UpdateTrail turned off multi-region logging, global service events or log-file validation,
--   removed the trail's KMS encryption, or redirected delivery to another bucket; or PutEventSelectors
--   stopped management events or left the trail with no data events (no data resource with values and no
--   advanced selector for data events), the "disable logging through event selectors" technique.
-- remediation: Restore the trail's settings and data-event selectors, and deny cloudtrail:UpdateTrail and
--   cloudtrail:PutEventSelectors outside change control.
WITH changes AS (
    SELECT ct.*,
           CASE WHEN ct.event_name = 'UpdateTrail' THEN concat_ws('; ',
               CASE WHEN json_extract_string(ct.request_parameters, '$.isMultiRegionTrail') = 'false'
                    THEN 'multi-region logging turned off' END,
               CASE WHEN json_extract_string(ct.request_parameters, '$.includeGlobalServiceEvents') = 'false'
                    THEN 'global service events turned off' END,
               CASE WHEN json_extract_string(ct.request_parameters, '$.enableLogFileValidation') = 'false'
                    THEN 'log-file validation turned off' END,
               CASE WHEN json_extract_string(ct.request_parameters, '$.kmsKeyId') = ''
                    THEN 'KMS encryption removed' END,
               CASE WHEN json_extract_string(ct.request_parameters, '$.s3BucketName') IS NOT NULL
                    THEN 'delivery redirected to bucket ' || json_extract_string(ct.request_parameters, '$.s3BucketName') END)
           WHEN ct.event_name = 'PutEventSelectors' THEN concat_ws('; ',
               CASE WHEN list_contains(coalesce(json_extract_string(ct.request_parameters,
                        '$.eventSelectors[*].includeManagementEvents'), []), 'false')
                    THEN 'management events no longer recorded' END,
               -- A data resource with an empty `values` list selects nothing.
               CASE WHEN coalesce(len(json_extract_string(ct.request_parameters,
                        '$.eventSelectors[*].dataResources[*].values[*]')), 0) = 0
                     AND NOT list_contains(coalesce(json_extract_string(ct.request_parameters,
                        '$.advancedEventSelectors[*].fieldSelectors[*].equals[*]'), []), 'Data')
                    THEN 'no data events recorded' END)
           END AS what
    FROM cloudtrail_changes AS ct
    WHERE ct.event_name IN ('UpdateTrail', 'PutEventSelectors') AND ct.outcome = 'success'
)
SELECT
    coalesce(c.resource, json_extract_string(c.request_parameters, '$.name'),
             json_extract_string(c.request_parameters, '$.trailName')) AS resource,
    checks.principal(c.actor) AS actor,
    c.region,
    any_value(r.jurisdiction) AS region_jurisdiction,
    CAST(NULL AS VARCHAR) AS counterpart_jurisdiction,
    min(c.time) AS first_seen,
    max(c.time) AS last_seen,
    count(*) AS event_count,
    format('{}: {}', c.event_name, c.what) AS reason,
    list(c.event_uid ORDER BY c.time, c.event_uid) AS evidence
FROM changes AS c
LEFT JOIN policy_regions AS r ON r.region = checks.region_key(c.region)
WHERE c.what IS NOT NULL AND c.what <> ''
GROUP BY ALL
