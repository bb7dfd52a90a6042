-- id: RT-001
-- title: Lifecycle of a classed bucket keeps data longer than its retention, or was removed
-- family: retention
-- severity: high
-- gdpr: Art. 5(1)(e); Art. 30(1)(f)
-- requires: cloudtrail
-- policy: classed_resources
-- description: A lifecycle configuration was put on a bucket of a data class whose longest enabled
--   expiration is longer than the class's retention_days, or that has no enabled expiration at all; or the
--   bucket's lifecycle configuration was deleted. The days are read from the request itself
--   (LifecycleConfiguration.Rule[].Expiration.Days).
-- reason: {why}
-- remediation: Set an enabled expiration rule of at most retention_days on the bucket (and on noncurrent
--   versions), and document any legal hold that justifies keeping data longer.
WITH lifecycle AS (
    SELECT ct.event_uid, ct.time, checks.principal(ct.actor) AS actor, ct.region, ct.resource, ct.event_name, ct.lifecycle_rules
    FROM cloudtrail_changes AS ct
    WHERE ct.event_name IN ('PutBucketLifecycle', 'PutBucketLifecycleConfiguration', 'DeleteBucketLifecycle')
      AND ct.outcome = 'success'
),
rules AS (
    SELECT l.event_uid, unnest(l.lifecycle_rules) AS rule
    FROM lifecycle AS l WHERE l.event_name <> 'DeleteBucketLifecycle'
),
expiry AS (
    SELECT event_uid,
           max(rule.expiration_days) FILTER (WHERE coalesce(rule.status, 'Enabled') = 'Enabled') AS max_days,
           bool_or(rule.expiration_date IS NOT NULL AND coalesce(rule.status, 'Enabled') = 'Enabled') AS has_date
    FROM rules GROUP BY event_uid
),
judged AS (
    SELECT l.*, rc.class_name, rc.retention_days, x.max_days,
           CASE
               WHEN l.event_name = 'DeleteBucketLifecycle'
                   THEN 'lifecycle configuration deleted; ' || rc.class_name || ' data must expire after '
                        || CAST(rc.retention_days AS VARCHAR) || ' days'
               WHEN x.max_days > rc.retention_days
                   THEN 'lifecycle expires objects after ' || CAST(x.max_days AS VARCHAR) || ' days, longer than the '
                        || CAST(rc.retention_days AS VARCHAR) || ' days ' || rc.class_name || ' data may be kept'
               WHEN x.max_days IS NULL AND NOT coalesce(x.has_date, false)
                   THEN 'lifecycle has no enabled expiration; ' || rc.class_name || ' data must expire after '
                        || CAST(rc.retention_days AS VARCHAR) || ' days'
           END AS why
    FROM lifecycle AS l
    JOIN resource_class AS rc ON rc.resource = checks.resource_root(l.resource)
    LEFT JOIN expiry AS x USING (event_uid)
)
SELECT
    checks.resource_root(j.resource) AS resource,
    j.actor AS actor,
    j.region,
    r.jurisdiction AS region_jurisdiction,
    CAST(NULL AS VARCHAR) AS counterpart_jurisdiction,
    min(j.time) AS first_seen,
    max(j.time) AS last_seen,
    count(*) AS event_count,
    j.why,
    j.retention_days,
    list(j.event_uid ORDER BY j.time, j.event_uid) AS evidence,
    j.class_name AS data_class
FROM judged AS j
LEFT JOIN policy_regions AS r ON r.region = checks.region_key(j.region)
WHERE j.why IS NOT NULL
GROUP BY checks.resource_root(j.resource), j.actor, j.region, r.jurisdiction, j.why, j.class_name, j.retention_days
