-- checks.lake_core: the common columns the built-in checks read ({core_columns}), for every event, with the
-- jurisdictions policy gives the serving region, the caller and a copy's destination. Joined once here
-- rather than in every check.
--
-- A caller's jurisdiction is its cloud region's where its address is in a provider's published ranges with a
-- region of known jurisdiction (an EC2 instance in eu-west-1 is in the EU, though AWS registers the address
-- to the US), else its address's registration country's. src_cloud_jurisdiction says which applied.
SELECT {core_columns},
       served.jurisdiction AS jurisdiction,
       coalesce(cloud_region.jurisdiction, src.jurisdiction) AS src_jurisdiction,
       dest.jurisdiction AS dest_jurisdiction
FROM main.events AS e
LEFT JOIN policy_regions AS served ON served.region = lower(replace(e.region, ' ', ''))
LEFT JOIN policy_regions AS cloud_region ON cloud_region.region = e.src_cloud_region
LEFT JOIN policy_countries AS src ON src.country = e.src_country
LEFT JOIN policy_regions AS dest ON dest.region = lower(replace(e.dest_region, ' ', ''))
