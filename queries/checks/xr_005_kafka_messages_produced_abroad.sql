-- id: XR-005
-- title: Messages on a classed Kafka topic produced outside its home jurisdiction
-- family: cross_region
-- severity: high
-- gdpr: Art. 44; Art. 30(1)(e)
-- requires: kafka_lineage
-- policy: classed_topics
-- description: Messages on a topic of a data class carry a `region_origin` lineage header that places them
--   outside the class's home jurisdiction and its allowed transfers: the data was produced (or passed
--   through) there before it reached the topic. The header may be a region code (eu-west-1), an Azure
--   location or a country code. A value that is none of these cannot be placed, and is reported as such:
--   it is no evidence that the data stayed home. Messages without the header are not judged.
-- reason: {event_count} message(s) on topic {topic} ({data_class} data, home {home}) {origin}
-- remediation: Find the producer that sets this region_origin (the headers and offsets are in the
--   evidence); move it into the home jurisdiction, declare the transfer, or correct the header if the
--   producer mislabels its region.
WITH origins AS (
    -- each place (the header's and the cluster's region) is a region code, an Azure location or a country
    -- code: its region's jurisdiction, else its country's
    SELECT l.*, coalesce(origin_region.jurisdiction, origin_country.jurisdiction) AS origin_jurisdiction,
           coalesce(served.jurisdiction, served_country.jurisdiction) AS region_jurisdiction
    FROM kafka_lineage AS l
    LEFT JOIN policy_regions AS origin_region ON origin_region.region = checks.region_key(l.region_origin)
    LEFT JOIN policy_countries AS origin_country ON origin_country.country = upper(trim(l.region_origin))
    LEFT JOIN policy_regions AS served ON served.region = checks.region_key(l.region)
    LEFT JOIN policy_countries AS served_country ON served_country.country = upper(trim(l.region))
    WHERE l.region_origin IS NOT NULL
)
SELECT
    o.cluster_id || '/' || o.topic AS resource,
    CAST(NULL AS VARCHAR) AS actor,
    o.region,
    o.region_jurisdiction,
    o.origin_jurisdiction AS counterpart_jurisdiction,
    min(o.message_time) AS first_seen,
    max(o.message_time) AS last_seen,
    count(*) AS event_count,
    o.topic,
    tc.home,
    CASE WHEN o.origin_jurisdiction IS NULL
         THEN 'have region_origin ' || o.region_origin || ', which names no known region or country: where they '
              || 'were produced cannot be shown'
         ELSE 'were produced in ' || o.region_origin || ' (' || o.origin_jurisdiction || '), partitions '
              || array_to_string(list_sort(list_distinct(list(CAST(o.partition AS VARCHAR)))), ', ')
    END AS origin,
    array_to_string(list_sort(list_distinct(list(CAST(o.partition AS VARCHAR)))), ', ') AS partition_list,
    list(o.event_uid ORDER BY o.message_time, o.event_uid) AS evidence,
    tc.class_name AS data_class,
    o.region_origin
FROM origins AS o
JOIN topic_class AS tc ON tc.topic = o.topic
WHERE o.origin_jurisdiction IS NULL
   OR (o.origin_jurisdiction <> tc.home AND NOT checks.transfer_allowed(tc.class_name, o.origin_jurisdiction))
GROUP BY o.cluster_id, o.topic, o.region, o.region_jurisdiction, o.region_origin, o.origin_jurisdiction, tc.class_name,
         tc.home
