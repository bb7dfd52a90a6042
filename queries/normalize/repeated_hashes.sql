-- The 64-bit hashes of event ids that come more than once in this pull (`pull_hashes`, one row per staged row),
-- for the share of hashes whose remainder by $shares is $share. sovaudit.ingest.run groups the shares one after
-- another, so that the grouping's hash table holds a share of the pull's ids, not all of them: one grouping of a
-- 5M-record pull's hashes was its peak memory (~300 MB over the pull's steady ~700 MB).
-- Parameters: $shares, $share.
SELECT h FROM pull_hashes WHERE h % $shares = $share GROUP BY h HAVING count(*) > 1
