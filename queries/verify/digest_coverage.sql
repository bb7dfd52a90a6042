-- The verdicts of the latest `sovaudit verify --cloudtrail` run, counted by kind and status.
WITH latest AS (
    SELECT max(verify_run) AS verify_run FROM cloudtrail_digest
)
SELECT d.verify_run, max(d.verified_at) AS verified_at, d.kind, d.status, count(*) AS files
FROM cloudtrail_digest AS d
JOIN latest USING (verify_run)
GROUP BY d.verify_run, d.kind, d.status
ORDER BY d.kind, d.status
