-- id: EG-001
-- title: Bytes of classed data sent to callers outside the home jurisdiction above the daily threshold
-- family: egress
-- severity: high
-- gdpr: Art. 44; Art. 32
-- requires: any of cloudtrail, azure_resource
-- policy: classed_resources
-- description: Sums the bytes sent (bytes_out: S3 bytesTransferredOut, Azure Storage GetBlob responseBodySize) from a data class's resources to
--   callers outside the class's home jurisdiction and its allowed transfers (a caller is in the cloud region
--   its address is published in, else in the country it is registered to),
--   per actor per UTC day, and reports days above [thresholds] egress_bytes_per_actor_day.
-- reason: {bytes_out:,} bytes of {data_class} data (home {home}) went to {caller} on {day}, above the threshold
--   of {threshold:,} bytes per actor per day
-- remediation: Find out what was downloaded and why; block downloads from outside the home jurisdiction
--   with bucket-policy conditions or storage-account firewall rules, or declare the transfer.
WITH sent AS (
    SELECT e.*, rc.class_name, rc.home,
           e.src_place AS caller
    FROM events_geo AS e
    JOIN resource_class AS rc ON rc.resource = e.resource
    WHERE e.bytes_out > 0
      AND e.src_jurisdiction IS NOT NULL
      AND e.src_jurisdiction <> rc.home
      AND NOT checks.transfer_allowed(rc.class_name, e.src_jurisdiction)
)
SELECT
    CASE WHEN count(DISTINCT checks.resource_root(s.resource)) = 1 THEN min(checks.resource_root(s.resource))
         ELSE min(checks.resource_root(s.resource)) || ' and '
              || CAST(count(DISTINCT checks.resource_root(s.resource)) - 1 AS VARCHAR) || ' more' END AS resource,
    checks.principal(s.actor) AS actor,
    min(s.region) AS region,
    arg_min(s.jurisdiction, s.region) AS region_jurisdiction,
    s.src_jurisdiction AS counterpart_jurisdiction,
    min(s.time) AS first_seen,
    max(s.time) AS last_seen,
    count(*) AS event_count,
    list(s.event_uid ORDER BY s.time, s.event_uid) AS evidence,
    s.class_name AS data_class,
    sum(s.bytes_out) AS bytes_out,
    s.home,
    s.caller,
    CAST(s.time AS DATE) AS day,
    any_value(t.egress_bytes_per_actor_day) AS threshold
FROM sent AS s
CROSS JOIN policy_thresholds AS t
GROUP BY s.class_name, s.home, checks.principal(s.actor), s.caller, s.src_jurisdiction, CAST(s.time AS DATE)
HAVING sum(s.bytes_out) > any_value(t.egress_bytes_per_actor_day)
