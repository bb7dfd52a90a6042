-- checks.lake_core: the common columns the built-in checks read ({core_columns}), for every event, with the
-- jurisdictions policy gives the serving region, the caller and a copy's destination, and where the caller is
-- in words. Joined once here rather than in every check. The joins add no rows: policy_regions has one row per
-- region, policy_countries one per country and policy_clouds one per cloud (sovaudit/policy.py).
--
-- A caller's jurisdiction is its cloud region's where its address is in a provider's published ranges with a
-- region of known jurisdiction (an EC2 instance in eu-west-1 is in the EU, though AWS registers the address
-- to the US), else its address's registration country's. src_cloud_jurisdiction says which applied.
--
-- src_place is the caller's place for a reason: "AWS EC2 in eu-west-1 (EU)" when its address is in a cloud
-- region of known jurisdiction, or else "an address registered to US", with the jurisdiction when it is not
-- the country ("registered to DE (EU)") and the cloud when one publishes the address without a region.
-- Azure's service tags name services AzureStorage, AzureSQL …: "Azure Storage in eastus".
SELECT {core_columns},
       served.jurisdiction AS jurisdiction,
       coalesce(cloud_region.jurisdiction, src.jurisdiction) AS src_jurisdiction,
       dest.jurisdiction AS dest_jurisdiction,
       CASE
           WHEN cloud_region.jurisdiction IS NOT NULL
               THEN concat_ws(' ', cloud.label, regexp_replace(e.src_cloud_service, '^Azure([A-Z])', '\1'))
                    || ' in ' || e.src_cloud_region || ' (' || cloud_region.jurisdiction || ')'
           WHEN e.src_country IS NOT NULL
               THEN 'an address '
                    || CASE WHEN e.src_cloud IS NOT NULL
                            THEN 'of ' || concat_ws(' ', coalesce(cloud.label, e.src_cloud),
                                                    regexp_replace(e.src_cloud_service, '^Azure([A-Z])', '\1'))
                                 || coalesce(' in ' || e.src_cloud_region, '') || ', '
                            ELSE '' END
                    || 'registered to ' || e.src_country
                    || CASE WHEN src.jurisdiction IS DISTINCT FROM e.src_country
                            THEN ' (' || coalesce(src.jurisdiction, 'no known jurisdiction') || ')' ELSE '' END
       END AS src_place
FROM main.events AS e
LEFT JOIN policy_regions AS served ON served.region = lower(replace(e.region, ' ', ''))
LEFT JOIN policy_regions AS cloud_region ON cloud_region.region = e.src_cloud_region
LEFT JOIN policy_countries AS src ON src.country = e.src_country
LEFT JOIN policy_clouds AS cloud ON cloud.cloud = e.src_cloud
LEFT JOIN policy_regions AS dest ON dest.region = lower(replace(e.dest_region, ' ', ''))
