-- The `checks` schema, what the ledger says was collected (see common.sql for the load order). Before this
-- file: checks.pulls, one row per ledger entry and lake table with a time (sovaudit/checks/collected.py), and
-- checks.pull_rows, the first and last record time each pull stored in each table.
--
-- The time a pull collected, for each table it writes:
--   * a pull of local files (its ledger record has a `path`): from the first to the last record it stored in
--     any of its tables, the span of its files. Files are read whole, so its --since/--until say nothing;
--   * a pull with a failed input: the same, since it did not read all it asked for;
--   * any other pull (an API, a bucket, a topic): from its --since, else from where the previous pull of the
--     same source that read all it asked for ended (such a pull goes on from there), else from its first
--     record; to its --until, else to the time it started, never later; widened to the records it stored.
-- A pull that stored nothing and asked for no window collected nothing anyone can name: since is NULL.
CREATE OR REPLACE VIEW checks.collected AS
WITH runs AS (
    SELECT ingest_run, min(first_time) AS first_time, max(last_time) AS last_time
    FROM checks.pull_rows GROUP BY ingest_run
),
pulls AS (
    SELECT p.*, r.first_time, r.last_time,
           least(coalesce(p.window_until, p.started_at), p.started_at) AS asked_until
    FROM checks.pulls AS p LEFT JOIN runs AS r ON r.ingest_run = p.run_id
),
continued AS (
    SELECT *, last_value(CASE WHEN failures = 0 THEN asked_until END IGNORE NULLS)
                  OVER (PARTITION BY source_key, table_name ORDER BY seq
                        ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS previous_until
    FROM pulls
)
SELECT table_name, source_name, source_type, run_id, seq,
       CASE WHEN from_files OR failures > 0 THEN first_time
            ELSE least(coalesce(window_since, previous_until, first_time), first_time) END AS since,
       CASE WHEN from_files OR failures > 0 THEN last_time
            ELSE greatest(asked_until, last_time) END AS until,
       CASE WHEN from_files THEN 'the records of its files'
            WHEN failures > 0 THEN 'the records it stored (' || CAST(failures AS VARCHAR) || ' input(s) failed)'
            WHEN window_since IS NOT NULL THEN 'its --since'
            WHEN previous_until IS NOT NULL THEN 'from where the previous pull of the source ended'
            ELSE 'from its first record' END AS basis
FROM continued;

-- Each table's collected time as continuous spans: the pulls' intervals merged, bridging a gap no longer than
-- the delivery allowance ([thresholds] delivery_delay_hours), such as between the last record of one day's
-- files and the first of the next. `sources` names the [[sources]] entries that pulled it.
CREATE OR REPLACE VIEW checks.collected_spans AS
WITH known AS (
    SELECT * FROM checks.collected WHERE since IS NOT NULL AND until IS NOT NULL AND since <= until
),
ordered AS (
    SELECT *, max(until) OVER (PARTITION BY table_name ORDER BY since, until, seq
                               ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS reach
    FROM known
),
islands AS (
    SELECT *, sum(CASE WHEN reach IS NULL
                            OR since > reach + to_hours((SELECT delivery_delay_hours FROM policy_thresholds))
                       THEN 1 ELSE 0 END)
                  OVER (PARTITION BY table_name ORDER BY since, until, seq ROWS UNBOUNDED PRECEDING) AS island
    FROM ordered
)
SELECT table_name, min(since) AS since, max(until) AS until,
       CASE WHEN count(source_name) > 0
            THEN array_to_string(list_sort(list_distinct(list(source_name))), ', ') END AS sources, count(*) AS pulls
FROM islands
GROUP BY table_name, island;
