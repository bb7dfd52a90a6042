-- id: IN-005
-- title: A burst of denied Kafka authorizations
-- family: integrity
-- severity: high
-- gdpr: Art. 32; Art. 33
-- requires: kafka_audit
-- description: One principal was denied at least [thresholds] kafka_denied_burst authorizations (produce,
--   fetch, describe, create, delete, ACL changes …) on one cluster within one hour. This is what a
--   principal probing for topics it may read, or a stolen credential, looks like; so is a workload whose
--   ACLs were changed under it. Every topic is watched, classed or not. Failed authentications are not
--   counted: they name no principal the cluster trusts.
-- reason: {event_count} authorizations denied within the hour from {burst_hour:%Y-%m-%d %H:00 UTC} on cluster {cluster}:
--   {actions} on {denied_resources} resource(s), from {addresses}; at least {burst_threshold} is a burst
-- remediation: Identify the principal and the client behind the addresses; if unexpected, revoke its
--   credentials and review the cluster's ACLs; if it is a workload, fix its ACLs before its retries hide
--   other denials.
SELECT
    'kafka=' || a.account AS resource,
    a.actor,
    a.region,
    any_value(r.jurisdiction) AS region_jurisdiction,
    CAST(NULL AS VARCHAR) AS counterpart_jurisdiction,
    min(a.time) AS first_seen,
    max(a.time) AS last_seen,
    count(*) AS event_count,
    list(a.event_uid ORDER BY a.time, a.event_uid) AS evidence,
    date_trunc('hour', min(a.time)) AS burst_hour,
    a.account AS cluster,
    array_to_string(list_sort(list_distinct(list(a.action))), ', ') AS actions,
    count(DISTINCT a.resource) AS denied_resources,
    array_to_string(list_sort(list_distinct(list(coalesce(a.src_ip, 'an unknown address')))), ', ') AS addresses,
    any_value(t.kafka_denied_burst) AS burst_threshold
FROM kafka_audit AS a
CROSS JOIN policy_thresholds AS t
LEFT JOIN policy_regions AS r ON r.region = checks.region_key(a.region)
WHERE a.outcome = 'failure' AND a.action_class <> 'auth'
GROUP BY a.account, a.actor, a.region, date_trunc('hour', a.time)
HAVING count(*) >= any_value(t.kafka_denied_burst)
