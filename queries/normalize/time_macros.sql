-- Record times, for every normalize query; created once per pull, before them.

-- A record's time as RFC 3339 writes it, else NULL: 2024-01-02T10:00:00Z, with any fraction of a second (Azure
-- writes seven digits; microseconds are kept), an offset of at most ±23:59, `t` and `z` in lower case, or a space
-- for the `T`. A plain cast would also take 'epoch', 'infinity', a date alone, a time with no offset, or a +25:00
-- offset. Before year 1 is refused too: DuckDB reads year 0 as 1 BC, which Python cannot represent.
CREATE OR REPLACE MACRO rfc3339_time(text) AS CASE
    WHEN regexp_full_match(text, '[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])[Tt ]([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]+)?([Zz]|[+-]([01][0-9]|2[0-3]):[0-5][0-9])')
         AND TRY_CAST(upper(text) AS TIMESTAMPTZ) >= TIMESTAMPTZ '0001-01-01 00:00:00+00'
        THEN TRY_CAST(upper(text) AS TIMESTAMPTZ)
END;

-- Clocks skew by seconds or minutes, not by a day: a record time more than 24 hours after the pull started cannot
-- be a time the event happened, and as the lake's newest event it would move every default check window.
-- The reason for quarantining it, or NULL.
CREATE OR REPLACE MACRO future_time_problem(label, text, t, pull_started) AS CASE
    WHEN t > pull_started + INTERVAL 24 HOUR
        THEN label || ' ' || left(text, 64) || ' is more than 24 hours after the pull started ('
             || strftime(pull_started, '%Y-%m-%dT%H:%M:%SZ') || ')'
END;

-- A Kafka timestamp (milliseconds since 1970) as a time, else NULL: Kafka writes -1 for none and nothing before
-- 1970, and after year 9999 is no time Python can represent (DuckDB reads some, and a pull's flush cannot).
CREATE OR REPLACE MACRO kafka_time(ms) AS CASE
    WHEN TRY_CAST(ms AS BIGINT) BETWEEN 0 AND 253402300799999 THEN CAST(epoch_ms(TRY_CAST(ms AS BIGINT)) AS TIMESTAMPTZ)
END;
