-- id: RT-002
-- title: Classed objects read after their retention expired
-- family: retention
-- severity: high
-- gdpr: Art. 5(1)(e); Art. 17
-- requires: cloudtrail
-- policy: classed_resources
-- report: read_after_expiry
-- description: A GetObject in the window read an object of a data class whose latest write in the lake
--   (PutObject, CompleteMultipartUpload, or the destination of CopyObject), at any time before the read, is
--   older than the class's retention_days. The object should have been erased. Objects whose write is
--   not in the lake are not judged.
-- reason: {data_class} object written {written:%Y-%m-%d} was read {days_later} day(s) later, past its retention of
--   {retention_days} days
-- remediation: Erase the object and fix the bucket's lifecycle so it expires at retention_days; check
--   whether the reader still needed it (a legal hold must be documented).
WITH reads AS (
    SELECT e.event_uid, e.time, checks.principal(e.actor) AS actor, e.region, e.resource, rc.class_name, rc.retention_days
    FROM events_geo AS e
    JOIN resource_class AS rc ON rc.resource = e.resource
    WHERE e.action = 'GetObject' AND e.outcome = 'success' AND contains(e.resource, '/')
),
writes AS (
    SELECT coalesce(w.dest_resource, w.resource) AS object, w.time, w.event_uid
    FROM lake_core AS w
    WHERE w.action IN ('PutObject', 'CompleteMultipartUpload', 'CopyObject', 'UploadPartCopy')
      AND w.outcome = 'success'
      AND coalesce(w.dest_resource, w.resource) IN (SELECT resource FROM reads)
),
stale AS (
    SELECT r.*, arg_max(w.event_uid, w.time) AS write_uid, max(w.time) AS written
    FROM reads AS r JOIN writes AS w ON w.object = r.resource AND w.time <= r.time
    GROUP BY ALL
    HAVING epoch(r.time) - epoch(max(w.time)) > CAST(r.retention_days AS BIGINT) * 86400
)
SELECT
    s.resource,
    s.actor AS actor,
    s.region,
    any_value(p.jurisdiction) AS region_jurisdiction,
    CAST(NULL AS VARCHAR) AS counterpart_jurisdiction,
    min(s.time) AS first_seen,
    max(s.time) AS last_seen,
    count(*) AS event_count,
    min(s.written) AS written,
    date_diff('day', min(s.written), min(s.time)) AS days_later,
    s.retention_days,
    list_concat([any_value(s.write_uid)], list(s.event_uid ORDER BY s.time, s.event_uid)) AS evidence,
    s.class_name AS data_class
FROM stale AS s
LEFT JOIN policy_regions AS p ON p.region = checks.region_key(s.region)
GROUP BY s.resource, s.actor, s.region, s.class_name, s.retention_days
