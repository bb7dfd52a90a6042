-- id: KU-001
-- title: A classed encryption key used through a region, or by a Key Vault caller, outside the class's home
-- family: key_use
-- severity: high
-- gdpr: Art. 32; Art. 44
-- requires: any of cloudtrail, azure_resource
-- policy: classed_keys
-- description: A key of a data class was used (KMS Decrypt, GenerateDataKey*, ReEncrypt*, Encrypt and other
--   cryptographic calls; Key Vault KeyDecrypt, KeyUnwrap, KeySign …) through a region whose jurisdiction is
--   not the class's home or one of its allowed transfers, or, for Key Vault, by a caller in such a
--   jurisdiction (the cloud region its address is published in, else the country it is registered to). A multi-region replica key (mrk-) is classed like the key it replicates,
--   so decrypting with a replica abroad is reported. A Key Vault key lives in its vault's location, so the
--   caller's country is what shows it used from abroad; KMS calls are judged by region, as before (a KMS
--   caller abroad reading the classed data itself shows in XR-002). Private addresses have no country.
-- reason: key of {data_class} (home {home}) used {event_count} time(s) through {region} {used_from}{key_kind}:
--   {actions}
-- remediation: Remove replicas of the key outside the home jurisdiction, restrict kms:Decrypt by
--   aws:RequestedRegion (Key Vault: firewall rules or private endpoints), or declare the transfer.
WITH judged AS (
    -- a transfer allowed to the region's or the caller's jurisdiction is a row of served_ok or caller_ok: joined,
    -- as an EXISTS in a select list does not run everywhere
    SELECT e.*, kc.class_name, kc.home,
           e.jurisdiction IS NOT NULL AND e.jurisdiction <> kc.home
               AND served_ok.class_name IS NULL AS region_abroad,
           e.source <> 'cloudtrail' AND e.src_jurisdiction IS NOT NULL AND e.src_jurisdiction <> kc.home
               AND caller_ok.class_name IS NULL
               AND NOT checks.is_service_actor(e.actor) AS caller_abroad
    FROM events_geo AS e
    JOIN key_class AS kc ON kc.key_id = e.key_id
    LEFT JOIN (SELECT DISTINCT class_name, to_jurisdiction FROM policy_allowed_transfers) AS served_ok
        ON served_ok.class_name = kc.class_name AND served_ok.to_jurisdiction = e.jurisdiction
    LEFT JOIN (SELECT DISTINCT class_name, to_jurisdiction FROM policy_allowed_transfers) AS caller_ok
        ON caller_ok.class_name = kc.class_name AND caller_ok.to_jurisdiction = e.src_jurisdiction
    WHERE e.action_class = 'key_use' AND e.outcome = 'success'
),
used AS (
    -- a key used through a foreign region is about the region, whoever called
    SELECT key_id, actor, region, jurisdiction, time, event_uid, action, src_ip, class_name, home, region_abroad,
           CASE WHEN region_abroad THEN NULL ELSE src_jurisdiction END AS src_jurisdiction,
           CASE WHEN region_abroad THEN NULL
                ELSE src_place END AS caller
    FROM judged WHERE region_abroad OR caller_abroad
)
SELECT
    u.key_id AS resource,
    checks.principal(u.actor) AS actor,
    u.region,
    u.jurisdiction AS region_jurisdiction,
    CASE WHEN u.region_abroad THEN NULL ELSE u.src_jurisdiction END AS counterpart_jurisdiction,
    min(u.time) AS first_seen,
    max(u.time) AS last_seen,
    count(*) AS event_count,
    u.home,
    CASE WHEN u.region_abroad THEN '(' || u.jurisdiction || ')'
         ELSE 'by a caller from ' || u.caller || ', address ' || min(u.src_ip) END AS used_from,
    CASE WHEN contains(u.key_id, ':key/mrk-') THEN ', a multi-region key' ELSE '' END AS key_kind,
    array_to_string(list_sort(list_distinct(list(u.action))), ', ') AS actions,
    list(u.event_uid ORDER BY u.time, u.event_uid) AS evidence,
    u.class_name AS data_class
FROM used AS u
GROUP BY u.class_name, u.home, u.key_id, checks.principal(u.actor), u.region, u.jurisdiction, u.region_abroad,
         u.caller, u.src_jurisdiction
