-- The cloudtrail_digest table: what `sovaudit verify --cloudtrail` found, one row per CloudTrail log file
-- and per digest file, per verification run. Not audit events: the `events` view leaves it out.
-- events: no
CREATE TABLE cloudtrail_digest (
    verify_run             VARCHAR,      -- id of the verification run (sorts by time; the latest run is max())
    verified_at            TIMESTAMPTZ,
    ledger_head            VARCHAR,      -- the ledger head the run verified against
    kind                   VARCHAR,      -- log | digest
    location               VARCHAR,      -- s3://bucket/key (or local path) where the file was found
    status                 VARCHAR,      -- valid | INVALID | not_found | not_covered | unsigned | unverified
    message                VARCHAR,      -- the line `aws cloudtrail validate-logs` prints for it
    detail                 VARCHAR,      -- the same in plain words, with what was found
    file_blob              VARCHAR,      -- archive blob of the file as pulled; NULL when not found
    expected_sha256        VARCHAR,      -- log: hashValue recorded by its digest
    found_sha256           VARCHAR,      -- SHA-256 of the uncompressed bytes
    digest_location        VARCHAR,      -- log: the digest that lists it
    digest_blob            VARCHAR,
    digest_start_time      VARCHAR,
    digest_end_time        VARCHAR,
    public_key_fingerprint VARCHAR,
    account                VARCHAR,
    region                 VARCHAR,
    date                   DATE          -- partition: the day of the verification
);
