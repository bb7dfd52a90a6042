-- The `checks` schema, CloudTrail's part (see common.sql for the load order and the event-like views).

-- CloudTrail's own fields (request parameters …) for the configuration changes the built-in checks judge,
-- in the window: read from Parquet once, then kept (when checks run) for every check that needs them.
CREATE OR REPLACE VIEW checks.cloudtrail_changes AS
SELECT event_uid, time, event_name, action, actor, region, resource, key_id, outcome, error_code, src_ip,
       source_ip_address, user_agent, user_identity_type, user_identity_invoked_by, request_parameters
FROM checks.cloudtrail
WHERE event_name IN ('StopLogging', 'DeleteTrail', 'UpdateTrail', 'PutEventSelectors',
                     'PutBucketReplication', 'PutBucketLifecycle', 'PutBucketLifecycleConfiguration',
                     'DeleteBucketLifecycle', 'ScheduleKeyDeletion', 'DisableKey', 'DisableKeyRotation',
                     'PutKeyPolicy', 'CreateGrant');

-- A request or response field by its name as CloudTrail logs it (camelCase, `readWriteType`) or as the API and
-- SDKs spell it (PascalCase, `ReadWriteType`).
CREATE OR REPLACE MACRO checks.ct_json(j, name) AS
    coalesce(json_extract(j, '$.' || name), json_extract(j, '$.' || upper(name[1]) || name[2:]));
CREATE OR REPLACE MACRO checks.ct_text(j, name) AS
    coalesce(json_extract_string(j, '$.' || name), json_extract_string(j, '$.' || upper(name[1]) || name[2:]));

-- Every successful change of a trail's configuration in the lake, of all time (not only the window): a change
-- in the window is judged against the trail's configuration before it. `trail` is the trail's ARN, from the
-- response, the request, or its name and the event's account and region (a trail is managed in its home
-- region).
CREATE OR REPLACE VIEW checks.trail_changes AS
WITH named AS (
    SELECT event_uid, time, event_name, account, region, actor, src_ip, request_parameters, response_elements,
           coalesce(checks.ct_text(request_parameters, 'trailName'), checks.ct_text(request_parameters, 'name'))
               AS given
    FROM main.cloudtrail
    WHERE event_name IN ('CreateTrail', 'UpdateTrail', 'DeleteTrail', 'PutEventSelectors', 'PutInsightSelectors')
      AND outcome = 'success'
)
SELECT *,
       coalesce(checks.ct_text(response_elements, 'trailARN'),
                CASE WHEN starts_with(given, 'arn:') THEN given END,
                format('arn:aws:cloudtrail:{}:{}:trail/{}', region, account, given)) AS trail
FROM named
WHERE given IS NOT NULL OR checks.ct_text(response_elements, 'trailARN') IS NOT NULL;
