-- Flows of each data class out of its home jurisdiction (class_flows), one row per class and destination:
-- events and inventory snapshot rows counted apart, each record once however many ways it left (bytes too).
WITH records AS (
    SELECT class_name, home, destination, kind, event_uid, any_value(bytes_out) AS bytes_out, min(time) AS time
    FROM class_flows
    GROUP BY ALL
),
ways AS (
    SELECT class_name, destination, array_to_string(list_sort(list_distinct(list(how))), '; ') AS how
    FROM class_flows
    GROUP BY ALL
)
SELECT r.class_name, r.home, r.destination, w.how,
       count(*) FILTER (WHERE r.kind = 'event') AS events,
       count(*) FILTER (WHERE r.kind = 'snapshot') AS snapshot_rows,
       coalesce(sum(r.bytes_out), 0) AS bytes, min(r.time) AS first_seen, max(r.time) AS last_seen,
       list_slice(list(r.event_uid ORDER BY r.kind, r.event_uid), 1, 5) AS sample_evidence
FROM records AS r
LEFT JOIN ways AS w ON w.class_name = r.class_name AND w.destination = r.destination
GROUP BY r.class_name, r.home, r.destination, w.how
ORDER BY r.class_name, events DESC, snapshot_rows DESC, r.destination
