-- id: IN-002
-- title: CloudTrail settings weakened
-- family: integrity
-- severity: high
-- gdpr: Art. 30; Art. 32
-- requires: cloudtrail
-- description: A change in the window to a trail's settings (CreateTrail, UpdateTrail, PutEventSelectors,
--   PutInsightSelectors), compared with the trail's last known configuration in the lake (all of its
--   history, not only the window), that records less: management events off, or only their reads or only
--   their writes where it had both (readWriteType ReadOnly or WriteOnly, an advanced selector's readOnly
--   field); management events of kms.amazonaws.com or rdsdata.amazonaws.com excluded
--   (excludeManagementEventSources, or an advanced selector's eventSource notEquals), which blinds the key-use
--   checks; data events no longer recorded for a resource, or no longer their reads or writes; Insights
--   types removed; multi-region logging, global service events or log-file validation turned off; KMS
--   encryption removed; delivery redirected to another bucket or prefix. For a trail whose configuration the
--   lake has not seen before, only settings weak in themselves are reported: management events off, only
--   their reads, kms or rdsdata excluded, log-file validation turned off. The common management-events-only
--   selector (readWriteType All, includeManagementEvents true, no data resources) is not.
-- reason: {event_name}: {what}
-- remediation: Restore the trail's settings and selectors, and deny cloudtrail:UpdateTrail,
--   cloudtrail:PutEventSelectors and cloudtrail:PutInsightSelectors outside change control.
WITH judged_selectors AS (
    -- What each selector of a PutEventSelectors (basic or advanced; a put replaces all of them) records:
    -- management events (reads, writes, excluded sources) or data events (the resources it scopes as "type
    -- value", reads, writes).
    SELECT t.event_uid,
           coalesce(s.selector.include_management_events, true) AS management,
           coalesce(lower(s.selector.read_write_type), 'all') IN ('all', 'readonly') AS reads,
           coalesce(lower(s.selector.read_write_type), 'all') IN ('all', 'writeonly') AS writes,
           list_transform(coalesce(s.selector.exclude_management_event_sources, []), lambda v: lower(v)) AS excluded,
           -- A data resource with an empty `values` list selects nothing.
           flatten(list_transform(coalesce(s.selector.data_resources, []),
                                  lambda d: list_transform(coalesce(d.values, []), lambda v: d.type || ' ' || v))) AS scopes
    FROM trail_changes AS t, unnest(t.event_selectors) AS s(selector)
    WHERE t.event_name = 'PutEventSelectors'
    UNION ALL
    -- An advanced selector's conditions: the equals and notEquals values of its fields, in lower case.
    SELECT a.event_uid, list_contains(a.categories, 'management'),
           array_length(a.read_only) = 0 OR list_contains(a.read_only, 'true'),
           array_length(a.read_only) = 0 OR list_contains(a.read_only, 'false'),
           a.not_sources,
           CASE WHEN list_contains(a.categories, 'data')
                THEN list_transform(a.types, lambda t: t || coalesce(' ' || nullif(array_to_string(list_sort(a.arns), ','), ''), ''))
                ELSE [] END
    FROM (
        SELECT t.event_uid,
               flatten(list_transform(checks.selector_fields(s.selector.field_selectors, 'eventcategory'),
                                      lambda f: list_transform(coalesce(f.equals, []), lambda v: lower(v)))) AS categories,
               flatten(list_transform(checks.selector_fields(s.selector.field_selectors, 'readonly'),
                                      lambda f: list_transform(coalesce(f.equals, []), lambda v: lower(v)))) AS read_only,
               flatten(list_transform(checks.selector_fields(s.selector.field_selectors, 'eventsource'),
                                      lambda f: list_transform(coalesce(f.not_equals, []), lambda v: lower(v)))) AS not_sources,
               flatten(list_transform(checks.selector_fields(s.selector.field_selectors, 'resources.type'),
                                      lambda f: coalesce(f.equals, []) || coalesce(f.starts_with, []))) AS types,
               flatten(list_transform(checks.selector_fields(s.selector.field_selectors, 'resources.arn'),
                                      lambda f: coalesce(f.equals, []) || coalesce(f.starts_with, []))) AS arns
        FROM trail_changes AS t, unnest(t.advanced_event_selectors) AS s(selector)
        WHERE t.event_name = 'PutEventSelectors'
    ) AS a
),
selector_state AS (
    -- What a PutEventSelectors leaves the trail recording. A source counts as excluded when every
    -- management selector excludes it.
    SELECT event_uid,
           coalesce(bool_or(reads) FILTER (WHERE management), false) AS mgmt_reads,
           coalesce(bool_or(writes) FILTER (WHERE management), false) AS mgmt_writes,
           list_filter([CASE WHEN bool_and(list_contains(excluded, 'kms.amazonaws.com')) FILTER (WHERE management)
                             THEN 'kms.amazonaws.com' END,
                        CASE WHEN bool_and(list_contains(excluded, 'rdsdata.amazonaws.com')) FILTER (WHERE management)
                             THEN 'rdsdata.amazonaws.com' END], lambda x: x IS NOT NULL) AS excluded,
           list_sort(list_distinct(flatten(list(scopes)))) AS scopes,
           coalesce(bool_or(reads) FILTER (WHERE array_length(scopes) > 0), false) AS data_reads,
           coalesce(bool_or(writes) FILTER (WHERE array_length(scopes) > 0), false) AS data_writes
    FROM judged_selectors GROUP BY event_uid
),
facts AS (
    -- What each change sets (NULL: left as it was). CreateTrail starts from CloudTrail's defaults: all
    -- management events, no data events, single-region, global service events, no log-file validation.
    SELECT t.*, lower(t.trail) AS trail_key,
           sum(CASE WHEN t.event_name = 'CreateTrail' THEN 1 ELSE 0 END)
               OVER (PARTITION BY lower(t.trail) ORDER BY t.time, t.event_uid ROWS UNBOUNDED PRECEDING) AS generation,
           CASE WHEN t.event_name = 'CreateTrail' THEN true WHEN s.event_uid IS NOT NULL THEN s.mgmt_reads END AS mgmt_reads,
           CASE WHEN t.event_name = 'CreateTrail' THEN true WHEN s.event_uid IS NOT NULL THEN s.mgmt_writes END AS mgmt_writes,
           CASE WHEN t.event_name = 'CreateTrail' THEN [] WHEN s.event_uid IS NOT NULL THEN s.excluded END AS excluded,
           CASE WHEN t.event_name = 'CreateTrail' THEN [] WHEN s.event_uid IS NOT NULL THEN s.scopes END AS scopes,
           CASE WHEN t.event_name = 'CreateTrail' THEN false WHEN s.event_uid IS NOT NULL THEN s.data_reads END AS data_reads,
           CASE WHEN t.event_name = 'CreateTrail' THEN false WHEN s.event_uid IS NOT NULL THEN s.data_writes END AS data_writes,
           CASE WHEN t.event_name = 'PutInsightSelectors' THEN list_sort(coalesce(t.insight_types, []))
                WHEN t.event_name = 'CreateTrail' THEN [] END AS insights,
           coalesce(t.trail_settings.multi_region, CASE WHEN t.event_name = 'CreateTrail' THEN false END) AS multi_region,
           coalesce(t.trail_settings.global_service_events, CASE WHEN t.event_name = 'CreateTrail' THEN true END)
               AS global_events,
           coalesce(t.trail_settings.log_file_validation, CASE WHEN t.event_name = 'CreateTrail' THEN false END)
               AS validation,
           t.trail_settings.log_file_validation_requested AS validation_asked,
           coalesce(t.trail_settings.kms_key_id, CASE WHEN t.event_name = 'CreateTrail' THEN '' END) AS kms_key,
           CASE WHEN t.event_name IN ('CreateTrail', 'UpdateTrail') THEN t.trail_settings.s3_bucket_name END AS bucket,
           CASE WHEN t.event_name IN ('CreateTrail', 'UpdateTrail')
                THEN coalesce(t.trail_settings.s3_key_prefix, CASE WHEN t.event_name = 'CreateTrail' THEN '' END) END AS prefix
    FROM trail_changes AS t LEFT JOIN selector_state AS s USING (event_uid)
    WHERE t.event_name <> 'DeleteTrail'
),
history AS (
    -- The trail's last known value of each setting before the change, within the same trail (a trail created
    -- again after DeleteTrail starts anew).
    SELECT f.*,
           last_value(f.mgmt_reads IGNORE NULLS) OVER before AS was_mgmt_reads,
           last_value(f.mgmt_writes IGNORE NULLS) OVER before AS was_mgmt_writes,
           last_value(f.excluded IGNORE NULLS) OVER before AS was_excluded,
           last_value(f.scopes IGNORE NULLS) OVER before AS was_scopes,
           last_value(f.data_reads IGNORE NULLS) OVER before AS was_data_reads,
           last_value(f.data_writes IGNORE NULLS) OVER before AS was_data_writes,
           last_value(f.insights IGNORE NULLS) OVER before AS was_insights,
           last_value(f.multi_region IGNORE NULLS) OVER before AS was_multi_region,
           last_value(f.global_events IGNORE NULLS) OVER before AS was_global_events,
           last_value(f.validation IGNORE NULLS) OVER before AS was_validation,
           last_value(f.kms_key IGNORE NULLS) OVER before AS was_kms_key,
           last_value(f.bucket IGNORE NULLS) OVER before AS was_bucket,
           last_value(f.prefix IGNORE NULLS) OVER before AS was_prefix,
           last_value(CASE WHEN f.mgmt_reads IS NOT NULL OR f.multi_region IS NOT NULL OR f.insights IS NOT NULL
                           THEN f.event_uid END IGNORE NULLS) OVER before AS was_uid
    FROM facts AS f
    WINDOW before AS (PARTITION BY f.trail_key, f.generation ORDER BY f.time, f.event_uid
                      ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)
),
changes AS (
    SELECT h.*, nullif(concat_ws('; ',
        -- Management events.
        CASE WHEN h.mgmt_reads IS NOT NULL AND NOT h.mgmt_reads AND NOT h.mgmt_writes
                  AND (h.was_mgmt_reads IS NULL OR h.was_mgmt_reads OR h.was_mgmt_writes)
             THEN CASE WHEN h.was_mgmt_reads IS NULL THEN 'management events not recorded'
                       ELSE 'management events no longer recorded' END END,
        CASE WHEN h.mgmt_reads AND NOT h.mgmt_writes AND (h.was_mgmt_writes IS NULL OR h.was_mgmt_writes)
             THEN CASE WHEN h.was_mgmt_writes IS NULL THEN 'only read-only management events recorded'
                       ELSE 'management write events no longer recorded (read-only)' END END,
        CASE WHEN h.mgmt_writes AND NOT h.mgmt_reads AND h.was_mgmt_reads
             THEN 'management read events no longer recorded (write-only)' END,
        CASE WHEN (h.mgmt_reads OR h.mgmt_writes)
                  AND array_length(list_filter(h.excluded, lambda x: NOT list_contains(coalesce(h.was_excluded, []), x))) > 0
             THEN 'management events of '
                  || array_to_string(list_filter(h.excluded,
                                                 lambda x: NOT list_contains(coalesce(h.was_excluded, []), x)), ', ')
                  || CASE WHEN h.was_excluded IS NULL THEN ' not ' ELSE ' no longer ' END
                  || 'recorded (excludeManagementEventSources)' END,
        -- Data events, against what the trail recorded before (none is weak in itself).
        CASE WHEN array_length(list_filter(h.was_scopes, lambda x: NOT list_contains(h.scopes, x))) > 0
             THEN 'data events no longer recorded for '
                  || array_to_string(list_filter(h.was_scopes, lambda x: NOT list_contains(h.scopes, x)), ', ') END,
        CASE WHEN array_length(list_filter(h.scopes, lambda x: list_contains(h.was_scopes, x))) > 0
                  AND h.was_data_writes AND NOT h.data_writes
             THEN 'data write events no longer recorded (read-only)' END,
        CASE WHEN array_length(list_filter(h.scopes, lambda x: list_contains(h.was_scopes, x))) > 0
                  AND h.was_data_reads AND NOT h.data_reads
             THEN 'data read events no longer recorded (write-only)' END,
        CASE WHEN array_length(list_filter(h.was_insights, lambda x: NOT list_contains(h.insights, x))) > 0
             THEN 'Insights no longer recorded: '
                  || array_to_string(list_filter(h.was_insights, lambda x: NOT list_contains(h.insights, x)), ', ') END,
        -- The trail's own settings.
        CASE WHEN h.was_multi_region AND NOT h.multi_region THEN 'multi-region logging turned off' END,
        CASE WHEN h.was_global_events AND NOT h.global_events THEN 'global service events turned off' END,
        CASE WHEN h.was_validation AND NOT h.validation OR h.was_validation IS NULL AND NOT h.validation_asked
             THEN 'log-file validation turned off' END,
        CASE WHEN h.kms_key = '' AND h.was_kms_key <> '' THEN 'KMS encryption removed' END,
        CASE WHEN h.bucket <> h.was_bucket THEN 'delivery redirected from bucket ' || h.was_bucket || ' to ' || h.bucket END,
        CASE WHEN coalesce(h.bucket, h.was_bucket) = h.was_bucket AND h.prefix <> h.was_prefix
             THEN 'delivery redirected from prefix "' || h.was_prefix || '" to "' || h.prefix || '" of bucket '
                  || h.was_bucket END), '') AS what
    FROM history AS h
    WHERE h.time >= getvariable('window_since') AND h.time < getvariable('window_until')
)
SELECT
    c.trail AS resource,
    checks.principal(c.actor) AS actor,
    c.region,
    any_value(r.jurisdiction) AS region_jurisdiction,
    CAST(NULL AS VARCHAR) AS counterpart_jurisdiction,
    min(c.time) AS first_seen,
    max(c.time) AS last_seen,
    count(*) AS event_count,
    list_transform(list_sort(list_distinct(flatten(list([{'time': c.time, 'uid': c.event_uid}]
        || CASE WHEN c.was_uid IS NOT NULL THEN [{'time': p.time, 'uid': c.was_uid}] ELSE [] END)))),
        lambda e: e.uid) AS evidence,
    c.event_name,
    c.what
FROM changes AS c
LEFT JOIN trail_changes AS p ON p.event_uid = c.was_uid
LEFT JOIN policy_regions AS r ON r.region = checks.region_key(c.region)
WHERE c.what IS NOT NULL
GROUP BY c.trail, checks.principal(c.actor), c.region, c.event_name, c.what
