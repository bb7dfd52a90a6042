-- id: EG-001
-- title: Bytes of classed data sent to callers outside the home jurisdiction above the daily threshold
-- family: egress
-- severity: high
-- gdpr: Art. 44; Art. 32
-- requires: any of cloudtrail, azure_resource
-- policy: classed_resources
-- description: Sums the bytes sent (bytes_out: S3 bytesTransferredOut, Azure Storage GetBlob responseBodySize) from a data class's resources to
--   callers whose address is registered outside the class's home jurisdiction and its allowed transfers,
--   per actor per UTC day, and reports days above [thresholds] egress_bytes_per_actor_day.
-- remediation: Find out what was downloaded and why; block downloads from outside the home jurisdiction
--   with bucket-policy conditions or storage-account firewall rules, or declare the transfer.
SELECT
    CASE WHEN count(DISTINCT checks.resource_root(e.resource)) = 1 THEN min(checks.resource_root(e.resource))
         ELSE format('{} and {} more', min(checks.resource_root(e.resource)),
                     count(DISTINCT checks.resource_root(e.resource)) - 1) END AS resource,
    checks.principal(e.actor) AS actor,
    min(e.region) AS region,
    e.src_jurisdiction AS jurisdiction,
    min(e.time) AS first_seen,
    max(e.time) AS last_seen,
    count(*) AS event_count,
    format('{:,} bytes of {} data (home {}) went to {} ({}) on {}, above the threshold of {:,} bytes per actor per day',
           sum(e.bytes_out), rc.class_name, rc.home, e.src_country, e.src_jurisdiction,
           CAST(e.time AS DATE), any_value(t.egress_bytes_per_actor_day)) AS reason,
    list(e.event_uid ORDER BY e.time, e.event_uid) AS evidence,
    rc.class_name AS data_class,
    sum(e.bytes_out) AS bytes_out
FROM events_geo AS e
JOIN resource_class AS rc ON rc.resource = e.resource
CROSS JOIN policy_thresholds AS t
WHERE e.bytes_out > 0
  AND e.src_jurisdiction IS NOT NULL
  AND e.src_jurisdiction <> rc.home
  AND NOT checks.transfer_allowed(rc.class_name, e.src_jurisdiction)
GROUP BY rc.class_name, rc.home, checks.principal(e.actor), e.src_country, e.src_jurisdiction, CAST(e.time AS DATE)
HAVING sum(e.bytes_out) > any_value(t.egress_bytes_per_actor_day)
