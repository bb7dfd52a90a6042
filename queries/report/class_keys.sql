-- The keys protecting each data class, and where they were used (successful cryptographic calls).
SELECT kc.class_name, kc.key_id, e.region, e.jurisdiction, count(*) AS uses, count(DISTINCT e.actor) AS principals,
       min(e.time) AS first_seen, max(e.time) AS last_seen
FROM checks.key_class AS kc
JOIN checks.events_geo AS e ON e.key_id = kc.key_id
WHERE e.action_class = 'key_use' AND e.outcome = 'success'
GROUP BY ALL
ORDER BY kc.class_name, kc.key_id, uses DESC
