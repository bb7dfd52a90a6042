-- The resource mapping table (cloudtrail_resources.csv) as the table ct_resource_rules, which cloudtrail.sql reads;
-- created once per pull, before it. $rules is the table compiled by sovaudit.sources.cloudtrail.resource_map: one
-- row per rule, `rule` its line in the file (the first rule that applies wins), its template as tokens (literal
-- text, or ref: a parameter's position from 1, -1 the region, -2 the account, -3 the partition) and its parameters
-- as a field and up to three lower-case keys.
CREATE OR REPLACE TABLE ct_resource_rules AS
SELECT unnest(from_json($rules, '[{"rule": "INTEGER", "event_source": "VARCHAR", "event_name": "VARCHAR",
    "value_glob": "VARCHAR", "service": "VARCHAR", "n_params": "INTEGER", "need_root": "VARCHAR", "need_key": "VARCHAR",
    "tokens": [{"i": "INTEGER", "lit": "VARCHAR", "ref": "INTEGER"}],
    "params": [{"i": "INTEGER", "root": "VARCHAR", "filter": "VARCHAR", "key1": "VARCHAR", "key2": "VARCHAR",
                "key3": "VARCHAR"}]}]'), recursive := true)
