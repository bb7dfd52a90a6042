-- checks.lake_core: the common columns the built-in checks read ({core_columns}), for every event, with the
-- jurisdictions policy gives the serving region, the caller's country and a copy's destination. Joined once
-- here rather than in every check.
SELECT {core_columns},
       served.jurisdiction AS jurisdiction,
       src.jurisdiction AS src_jurisdiction,
       dest.jurisdiction AS dest_jurisdiction
FROM main.events AS e
LEFT JOIN policy_regions AS served ON served.region = lower(replace(e.region, ' ', ''))
LEFT JOIN policy_countries AS src ON src.country = e.src_country
LEFT JOIN policy_regions AS dest ON dest.region = lower(replace(e.dest_region, ' ', ''))
