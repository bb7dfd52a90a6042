-- The flow matrix of classed data: each class (rows) by the jurisdiction its records reached (columns),
-- counted as the transfers tables count them (class_flows: each record once per jurisdiction outside the
-- class's home). The home column counts the class's events that reached no other jurisdiction.
WITH abroad AS (
    SELECT class_name, home, destination, kind, event_uid, any_value(bytes_out) AS bytes_out
    FROM class_flows
    GROUP BY ALL
),
stayed AS (
    SELECT class_name, home, event_uid, any_value(bytes_out) AS bytes_out
    FROM class_events AS e
    WHERE NOT EXISTS (SELECT 1 FROM abroad AS a
                      WHERE a.class_name = e.class_name AND a.event_uid = e.event_uid AND a.kind = 'event')
    GROUP BY ALL
)
SELECT class_name, home, destination, count(*) FILTER (WHERE kind = 'event') AS events,
       count(*) FILTER (WHERE kind = 'snapshot') AS snapshot_rows, coalesce(sum(bytes_out), 0) AS bytes
FROM abroad
GROUP BY ALL
UNION ALL
SELECT class_name, home, home, count(*), 0, coalesce(sum(bytes_out), 0)
FROM stayed
GROUP BY ALL
ORDER BY class_name, destination
