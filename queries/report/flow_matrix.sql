-- Where data was served (rows) and where it went (columns): callers' jurisdictions for reads (their cloud
-- region's, else their address's registration country's), destinations of copies. Service principals and callers without a public address are left out.
WITH flows AS (
    SELECT jurisdiction AS origin, src_jurisdiction AS destination, bytes_out
    FROM checks.events_geo
    WHERE jurisdiction IS NOT NULL AND src_jurisdiction IS NOT NULL AND NOT checks.is_service_actor(actor)
    UNION ALL
    SELECT coalesce(rl.jurisdiction, e.jurisdiction), e.dest_jurisdiction, NULL
    FROM checks.events_geo AS e
    LEFT JOIN policy_regions AS rl ON rl.region = checks.region_key(e.resource_region)
    WHERE e.dest_jurisdiction IS NOT NULL
)
SELECT origin, destination, count(*) AS events, coalesce(sum(bytes_out), 0) AS bytes
FROM flows
GROUP BY ALL
ORDER BY origin, destination
