-- The rows of a worker's staging table that go to a part file: no problem, src_country looked up.
SELECT stage.* EXCLUDE (_problem, src_country), ip_country.country AS src_country
FROM stage
LEFT JOIN ip_country ON stage.src_ip = ip_country.ip
WHERE stage._problem IS NULL
