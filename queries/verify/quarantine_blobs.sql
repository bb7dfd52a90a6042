-- The blobs the quarantine files cite, per file, with how many set-aside records cite each.
SELECT filename, blob, count(*) AS row_count
FROM read_json($1, format = 'newline_delimited', filename = true,
               columns = {blob: 'VARCHAR', run_id: 'VARCHAR'})
WHERE blob IS NOT NULL
GROUP BY ALL
ORDER BY filename, blob
