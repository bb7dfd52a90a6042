-- The `checks` schema: what every check sees. sovaudit.checks.session loads this file first, then the other
-- files of its SESSION_SCRIPTS in order (collected.sql, one per source family, replicas.sql, guardrails.sql,
-- stores.sql, then combined.sql); each file
-- uses only what the files before it and the session created. Before this file: the lake views, the policy
-- tables, one windowed view checks.<table> per lake table with a time, checks.lake_core, checks.pulls and
-- checks.pull_rows (the ledger's pulls, sovaudit/checks/collected.py), and the variables window_since,
-- window_until and baseline_since. Views inside a schema resolve names there first, so `events` in a check
-- means checks.events below.
--
-- The event-like views (window: window_since to window_until; baseline: the baseline_days before it):
--
--   view                rows                                            family      period    file
--   ------------------  ----------------------------------------------  ----------  --------  --------------
--   all_events          every event, every common column                all         none      common.sql
--   lake_core           every event, the columns the built-in checks    all         none      lake_core.sql
--                       read and the jurisdictions policy gives them;
--                       in memory when checks run (one scan of the
--                       lake instead of one per check), else a view
--   events              every event, every common column                all         window    common.sql
--   baseline_events     every event, every common column                all         baseline  common.sql
--   events_geo          lake_core's rows                                all         window    common.sql
--   baseline_core       lake_core's rows                                all         baseline  common.sql
--   <table>             each lake table with a time, all its columns:   its own     window    session.py
--                       cloudtrail, azure_activity, azure_resource,
--                       kafka_audit, kafka_topics, kafka_lineage
--   collected           the time each pull collected, per table         all         none      collected.sql
--                       (from checks.pulls, the ledger)
--   cloudtrail_changes  the CloudTrail configuration changes the        CloudTrail  window    cloudtrail.sql
--                       built-in checks judge
--   trail_changes       every successful trail change (IN-002's         CloudTrail  none      cloudtrail.sql
--                       history of each trail)
--   azure_changes       the Azure control-plane operations the          Azure       window    azure.sql
--                       built-in checks judge, one row per operation
--   db_replicas         database and storage replicas made, with the    CloudTrail, window    replicas.sql
--                       class and the replica's jurisdiction            Azure
--   guardrail_changes   SCPs detached, deleted, rewritten or disabled;  CloudTrail, window    guardrails.sql
--                       Azure Policy assignments deleted, exemptions    Azure
--   store_creations     buckets, tables, databases, volumes, vaults,    CloudTrail, window    stores.sql
--                       storage accounts created, and where             Azure
--   window_records      source, time, account and region of every       all, Kafka  window    combined.sql
--                       event, Kafka inventory row and lineage row
--   evidence_records    every record a finding can cite, with its       all, Kafka  none      combined.sql
--                       evidence_blob and evidence_index

-- Every event of the lake with every common column (a view over the Parquet files): for look-ups outside
-- the window, such as when an object was written.
CREATE OR REPLACE VIEW checks.all_events AS SELECT * FROM main.events;

-- The window, as user checks see it: every common column.
CREATE OR REPLACE VIEW checks.events AS
SELECT * FROM checks.all_events
WHERE time >= getvariable('window_since') AND time < getvariable('window_until');

CREATE OR REPLACE VIEW checks.baseline_events AS
SELECT * FROM checks.all_events
WHERE time >= getvariable('baseline_since') AND time < getvariable('window_since');

-- The same two periods over the in-memory columns, for the built-in checks: events_geo is the window's
-- events with the jurisdictions policy gives them.
CREATE OR REPLACE VIEW checks.events_geo AS
SELECT * FROM checks.lake_core
WHERE time >= getvariable('window_since') AND time < getvariable('window_until');

CREATE OR REPLACE VIEW checks.baseline_core AS
SELECT * FROM checks.lake_core
WHERE time >= getvariable('baseline_since') AND time < getvariable('window_since');

CREATE OR REPLACE VIEW checks.check_window AS
SELECT getvariable('window_since') AS since, getvariable('window_until') AS until,
       getvariable('baseline_since') AS baseline_since,
       (SELECT baseline_days FROM policy_thresholds) AS baseline_days;

-- region (AWS region code or Azure location, any spelling) -> jurisdiction.
CREATE OR REPLACE MACRO checks.region_key(r) AS lower(replace(r, ' ', ''));

-- The unit a finding is about: the bucket for S3 objects, else the resource itself.
-- For Azure, the storage account of a container or blob (…/storageaccounts/NAME/blobservices/…), and the
-- account of a blob URL (https://NAME.blob.core.windows.net/C/B, a copy's source).
CREATE OR REPLACE MACRO checks.resource_root(r) AS
    CASE WHEN contains(r, ':s3:::') THEN split_part(r, '/', 1)
         WHEN contains(r, '/providers/microsoft.storage/storageaccounts/')
             THEN regexp_extract(r, '^(.*/providers/microsoft\.storage/storageaccounts/[^/]+)', 1)
         WHEN regexp_matches(r, '^https://[^/]+\.blob\.core\.windows\.net/')
             THEN regexp_extract(r, '^(https://[^/]+\.blob\.core\.windows\.net)/', 1)
         ELSE r END;

-- A caller's jurisdiction: its cloud region's, where its address is in a provider's published ranges with a
-- region of known jurisdiction, else its address's registration country's (lake_core's src_jurisdiction).
CREATE OR REPLACE MACRO checks.caller_jurisdiction(cloud_region, registered_to) AS
    coalesce((SELECT any_value(r.jurisdiction) FROM policy_regions AS r WHERE r.region = cloud_region),
             (SELECT any_value(c.jurisdiction) FROM policy_countries AS c WHERE c.country = registered_to));

-- Where a caller is, in words, for a reason: "AWS EC2 in eu-west-1 (EU)" when its address is in a cloud
-- region of known jurisdiction, or else "an address registered to US", with the jurisdiction when it is not
-- the country ("registered to DE (EU)") and the cloud when one publishes the address without a region.
CREATE OR REPLACE MACRO checks.caller_place(for_cloud, cloud_region, cloud_service, registered_to) AS (
    SELECT CASE
        WHEN region_j IS NOT NULL
            THEN concat_ws(' ', label, service) || ' in ' || cloud_region || ' (' || region_j || ')'
        WHEN registered_to IS NOT NULL
            THEN 'an address '
                 || CASE WHEN for_cloud IS NOT NULL
                         THEN 'of ' || concat_ws(' ', coalesce(label, for_cloud), service)
                              || coalesce(' in ' || cloud_region, '') || ', '
                         ELSE '' END
                 || 'registered to ' || registered_to
                 || CASE WHEN country_j IS DISTINCT FROM registered_to
                         THEN ' (' || coalesce(country_j, 'no known jurisdiction') || ')' ELSE '' END
        END
    FROM (SELECT (SELECT any_value(r.jurisdiction) FROM policy_regions AS r WHERE r.region = cloud_region) AS region_j,
                 (SELECT any_value(c.jurisdiction) FROM policy_countries AS c WHERE c.country = registered_to)
                     AS country_j,
                 (SELECT any_value(k.label) FROM policy_clouds AS k WHERE k.cloud = for_cloud) AS label,
                 -- Azure's service tags name services AzureStorage, AzureSQL …: "Azure Storage in eastus"
                 regexp_replace(cloud_service, '^Azure([A-Z])', '\1') AS service)
);

-- Whether a class may go to a jurisdiction ([[data_classes]] allowed_transfers).
CREATE OR REPLACE MACRO checks.transfer_allowed(for_class, for_jurisdiction) AS
    EXISTS (SELECT 1 FROM policy_allowed_transfers AS t
            WHERE t.class_name = for_class AND t.to_jurisdiction = for_jurisdiction);

-- Who acted, without the session: arn:aws:sts::1:assumed-role/Role/session-123 -> …:assumed-role/Role.
-- Role sessions get a new name per run, so "the same principal" means the same role.
CREATE OR REPLACE MACRO checks.principal(who) AS
    regexp_replace(who, '^(arn:aws[a-z-]*:sts::[0-9]+:assumed-role/[^/]+)/.+$', '\1');

-- AWS services acting for a principal (s3.amazonaws.com, …) are not a person abroad.
CREATE OR REPLACE MACRO checks.is_service_actor(who) AS
    who IS NULL OR ends_with(who, '.amazonaws.com') OR who IN ('AWSService', 'AWSAccount');

-- Each classed resource, once per class it belongs to. A GLOB pattern's `*` also matches `/`.
CREATE OR REPLACE VIEW checks.resource_class AS
WITH names AS (
    SELECT resource AS name FROM checks.lake_core WHERE resource IS NOT NULL
    UNION
    SELECT dest_resource FROM checks.lake_core WHERE dest_resource IS NOT NULL
)
SELECT names.name AS resource, c.class_name, c.home, c.tier, c.retention_days, p.pattern
FROM names
JOIN policy_class_patterns AS p ON p.kind = 'resource' AND names.name LIKE p.like_pattern ESCAPE '!' AND (p.like_exact OR regexp_matches(names.name, p.regex))
JOIN policy_data_classes AS c USING (class_name);

-- Each classed key. A key matches a class's `keys` or `resources` patterns; a multi-region replica
-- (mrk-) is classed like any other key of the same account with the same mrk id that matched directly.
CREATE OR REPLACE VIEW checks.key_class AS
WITH keys AS (
    SELECT DISTINCT key_id FROM checks.lake_core WHERE key_id IS NOT NULL
),
direct AS (
    SELECT keys.key_id, p.class_name, p.pattern
    FROM keys JOIN policy_class_patterns AS p ON keys.key_id LIKE p.like_pattern ESCAPE '!' AND (p.like_exact OR regexp_matches(keys.key_id, p.regex))
),
mrk AS (
    SELECT key_id, regexp_extract(key_id, ':([0-9]+):key/(mrk-[0-9a-f]+)', ['account', 'id']) AS mrk
    FROM keys WHERE contains(key_id, ':key/mrk-')
),
replicas AS (
    SELECT replica.key_id, direct.class_name, direct.pattern || ' (replica of ' || direct.key_id || ')' AS pattern
    FROM mrk AS replica
    JOIN mrk AS primary_key ON replica.mrk = primary_key.mrk AND replica.key_id <> primary_key.key_id
    JOIN direct ON direct.key_id = primary_key.key_id
),
matched AS (
    SELECT * FROM direct
    UNION
    SELECT * FROM replicas WHERE NOT EXISTS (
        SELECT 1 FROM direct AS d WHERE d.key_id = replicas.key_id AND d.class_name = replicas.class_name)
)
SELECT matched.key_id, c.class_name, c.home, c.tier, c.retention_days, min(matched.pattern) AS pattern
FROM matched JOIN policy_data_classes AS c USING (class_name)
GROUP BY ALL;
