"""CloudTrail log-file integrity validation: the archived log and digest files (archived_files), one digest
file's format and signature (digest_file), the signing keys (public_keys), the verdicts over the archive
(validation) and their record in the lake's cloudtrail_digest table (digest_table)."""
