-- Records a pull set aside because their event id was stored already with other content, per [[sources]] entry:
-- a log reused an id (test data, an export changed and pulled again, an altered copy). The reason's shape is
-- sovaudit.ingest.repeats.CONFLICT_REASON. $1: the quarantine files that verified.
SELECT source, count(*) AS records
FROM read_json($1, format = 'newline_delimited', columns = {source: 'VARCHAR', reason: 'VARCHAR'})
WHERE regexp_full_match(reason, 'event id .* already stored with other content \(blob [0-9a-f]{64} record [0-9]+\)',
                        's')
GROUP BY source
ORDER BY source
