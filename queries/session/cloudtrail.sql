-- The `checks` schema, CloudTrail's part (see common.sql for the load order and the event-like views).

-- CloudTrail's own fields (request parameters …) for the configuration changes the built-in checks judge,
-- in the window: read from Parquet once, then kept (when checks run) for every check that needs them.
CREATE OR REPLACE VIEW checks.cloudtrail_changes AS
SELECT event_uid, time, event_name, action, actor, region, resource, key_id, outcome, error_code, src_ip,
       source_ip_address, user_agent, user_identity_type, user_identity_invoked_by, request_parameters,
       -- The typed columns normalize writes for IN-001, KU-004, RT-001, XR-003 and the report.
       lifecycle_rules, replication_destinations, grantee_principal, pending_window_in_days, trail_name
FROM checks.cloudtrail
WHERE event_name IN ('StopLogging', 'DeleteTrail', 'UpdateTrail', 'PutEventSelectors',
                     'PutBucketReplication', 'PutBucketLifecycle', 'PutBucketLifecycleConfiguration',
                     'DeleteBucketLifecycle', 'ScheduleKeyDeletion', 'DisableKey', 'DisableKeyRotation',
                     'PutKeyPolicy', 'CreateGrant');

-- An advanced event selector's field selectors on one field (`name` in lower case; the field matched in any case).
CREATE OR REPLACE MACRO checks.selector_fields(field_selectors, name) AS
    list_filter(coalesce(field_selectors, []), lambda f: lower(f.field) = name);

-- Every successful change of a trail's configuration in the lake, of all time (not only the window): a change
-- in the window is judged against the trail's configuration before it. `trail` is the trail's ARN, from the
-- response, the request, or its name and the event's account and region (a trail is managed in its home
-- region).
CREATE OR REPLACE VIEW checks.trail_changes AS
SELECT event_uid, time, event_name, account, region, actor, src_ip, trail_settings, event_selectors,
       advanced_event_selectors, insight_types,
       coalesce(trail_arn, CASE WHEN starts_with(trail_name, 'arn:') THEN trail_name END,
                'arn:aws:cloudtrail:' || region || ':' || account || ':trail/' || trail_name) AS trail
FROM main.cloudtrail
WHERE event_name IN ('CreateTrail', 'UpdateTrail', 'DeleteTrail', 'PutEventSelectors', 'PutInsightSelectors')
  AND outcome = 'success' AND (trail_name IS NOT NULL OR trail_arn IS NOT NULL);
