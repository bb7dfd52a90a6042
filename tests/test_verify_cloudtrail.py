"""CloudTrail log-file integrity validation: a real signed delivery in moto S3, pulled over HTTP, then
tampered with the ways an attacker covering their tracks would; verdicts as `aws cloudtrail validate-logs`."""
# ruff: noqa: F811 (pytest fixtures imported from tests.aws_fixtures / tests.digest_fixtures are test arguments)

import gzip
import json
import shutil

from aws_fixtures import (  # noqa: F401 (aws_env, bucket, moto_server, s3 are fixtures)
    DIGEST_EXAMPLES,
    SAMPLE_DIR,
    aws_env,
    bucket,
    fake_aws_environ,
    moto_server,
    run_cli,
    s3,
)
from digest_fixtures import (  # noqa: F401 (key_server, signing_key are fixtures)
    REGION,
    PublicKeysServer,
    SigningKey,
    deliver_trail,
    documented_string_to_sign,
    key_server,
    signing_key,
)

from sovaudit.lake import Lake
from sovaudit.pull import pull_source
from sovaudit.sources import config_from_flags
from sovaudit.verify import CloudTrailPublicKeys, verify
from sovaudit.verify.cloudtrail.digest_file import inflate_and_parse, string_to_sign


def _pull(lake: Lake, bucket: str, endpoint: str) -> None:
    result = pull_source(lake, config_from_flags("cloudtrail", bucket=bucket, endpoint_url=endpoint))
    assert result.exit_code == 0, result.entry["failures"]


def _verify(lake: Lake, server: PublicKeysServer, **kwargs):
    return verify(lake, cloudtrail=True, public_keys=CloudTrailPublicKeys.from_settings(endpoint_url=server.url),
                  **kwargs)


def _messages(report) -> dict[str, str]:
    """Each file's aws-cli line, by location."""
    return {v.location: v.message for v in report.cloudtrail.verdicts}


def _s3(bucket: str, key: str) -> str:
    return f"s3://{bucket}/{key}"


def test_an_untouched_chain_of_three_digests_validates(s3, bucket, moto_server, key_server, tmp_path):
    delivery = deliver_trail(s3, bucket, key_server.keys[0])
    lake = Lake(tmp_path / "lake")
    _pull(lake, bucket, moto_server)

    report = _verify(lake, key_server)
    ct = report.cloudtrail
    assert report.ok and report.exit_code == 0, [v.message for v in ct.verdicts]
    assert ct.counts("digest") == {"valid": 3} and ct.counts("log") == {"valid": 3}
    assert ct.coverage == 1.0 and ct.gaps == []
    assert ct.summary() == "3/3 digest files valid, 3/3 log files valid"
    for d in delivery.digests:
        assert _messages(report)[_s3(bucket, d.key)] == f"Digest file\t{_s3(bucket, d.key)}\tvalid"
    # The first digest's predecessor is outside the lake: the start of the chain, not a break.
    assert ct.notes == []
    # Keys came from ListPublicKeys in the trail's home region, for the digests' time range.
    [request] = key_server.requests
    assert request["region"] == REGION
    assert request["body"]["StartTime"] <= request["body"]["EndTime"]

    lake.refresh()
    rows = lake.sql("SELECT kind, status, location, expected_sha256 = found_sha256 FROM cloudtrail_digest "
                    "ORDER BY kind, location").fetchall()
    assert [(r[0], r[1]) for r in rows] == [("digest", "valid")] * 3 + [("log", "valid")] * 3
    assert all(r[3] for r in rows if r[0] == "log")
    assert report.recorded["verified"]["coverage"] == 1.0


def test_the_string_to_sign_matches_aws_documentation_including_a_null_first_link():
    data = gzip.decompress(gzip.compress((DIGEST_EXAMPLES / "digest-with-logfiles.json").read_bytes()))
    inflated, digest = inflate_and_parse(data)
    assert string_to_sign(digest, inflated) == documented_string_to_sign(digest, inflated)
    digest["previousDigestSignature"] = None
    assert string_to_sign(digest, inflated).endswith(b"\nnull")


def test_a_modified_log_file_is_invalid_by_hash(s3, bucket, moto_server, key_server, tmp_path):
    delivery = deliver_trail(s3, bucket, key_server.keys[0])
    target = list(delivery.logs)[1]
    records = json.loads(gzip.decompress(delivery.logs[target]))
    records["Records"].pop()  # the attacker removes their own event
    s3.put_object(Bucket=bucket, Key=target, Body=gzip.compress(json.dumps(records).encode()))
    lake = Lake(tmp_path / "lake")
    _pull(lake, bucket, moto_server)

    report = _verify(lake, key_server)
    assert report.exit_code == 1
    location = _s3(bucket, target)
    assert _messages(report)[location] == f"Log file\t{location}\tINVALID: hash value doesn't match"
    ct = report.cloudtrail
    assert ct.counts("log") == {"INVALID": 1, "valid": 2} and ct.counts("digest") == {"valid": 3}
    assert "1/3 log files INVALID" in ct.summary()
    [broken] = [b for b in report.breaks if b.check == "cloudtrail_digest"]
    assert broken.where == location and broken.expected == delivery.digests[1].document["logFiles"][0]["hashValue"]
    assert broken.found != broken.expected


def test_a_digest_removed_from_the_middle_is_not_found_and_its_logs_lose_coverage(s3, bucket, moto_server,
                                                                                 key_server, tmp_path):
    delivery = deliver_trail(s3, bucket, key_server.keys[0])
    middle = delivery.digests[1]
    s3.delete_object(Bucket=bucket, Key=middle.key)
    lake = Lake(tmp_path / "lake")
    _pull(lake, bucket, moto_server)

    report = _verify(lake, key_server)
    assert report.exit_code == 1
    location = _s3(bucket, middle.key)
    assert _messages(report)[location] == f"Digest file\t{location}\tINVALID: not found"
    ct = report.cloudtrail
    assert ct.counts("digest") == {"not_found": 1, "valid": 2}
    assert ct.counts("log") == {"not_covered": 1, "valid": 2}
    uncovered = next(v for v in ct.verdicts if v.status == "not_covered")
    assert uncovered.location == _s3(bucket, middle.logs[0])
    assert abs(ct.coverage - 2 / 3) < 1e-9


def test_a_forged_signature_fails_verification(s3, bucket, moto_server, key_server, tmp_path):
    delivery = deliver_trail(s3, bucket, key_server.keys[0])
    forged = delivery.digests[1]
    # The attacker edits the digest to drop a log file and signs it with a key of their own.
    document = dict(forged.document, logFiles=[])
    body = json.dumps(document).encode()
    s3.put_object(Bucket=bucket, Key=forged.key, Body=gzip.compress(body),
                  Metadata={"signature": SigningKey().sign(documented_string_to_sign(document, body)),
                            "signature-algorithm": "SHA256withRSA"})
    lake = Lake(tmp_path / "lake")
    _pull(lake, bucket, moto_server)

    report = _verify(lake, key_server)
    assert report.exit_code == 1
    location = _s3(bucket, forged.key)
    assert _messages(report)[location] == f"Digest file\t{location}\tINVALID: signature verification failed"
    assert report.cloudtrail.counts("digest") == {"INVALID": 1, "valid": 2}
    assert report.cloudtrail.counts("log") == {"not_covered": 1, "valid": 2}


def test_a_digest_moved_to_another_key_is_reported_moved_and_its_place_not_found(s3, bucket, moto_server,
                                                                                key_server, tmp_path):
    delivery = deliver_trail(s3, bucket, key_server.keys[0])
    moved = delivery.digests[1]
    elsewhere = moved.key.replace(f"{moved.key[-24:-8]}", "20240305T113000Z")
    s3.copy_object(Bucket=bucket, Key=elsewhere, CopySource={"Bucket": bucket, "Key": moved.key},
                   MetadataDirective="COPY")
    s3.delete_object(Bucket=bucket, Key=moved.key)
    lake = Lake(tmp_path / "lake")
    _pull(lake, bucket, moto_server)

    report = _verify(lake, key_server)
    assert report.exit_code == 1
    messages = _messages(report)
    new, old = _s3(bucket, elsewhere), _s3(bucket, moved.key)
    assert messages[new] == f"Digest file\t{new}\tINVALID: has been moved from its original location"
    assert messages[old] == f"Digest file\t{old}\tINVALID: not found"
    assert report.cloudtrail.counts("log") == {"not_covered": 1, "valid": 2}


def test_a_digest_signed_with_an_unknown_key_names_the_fingerprint(s3, bucket, moto_server, key_server, tmp_path):
    other = SigningKey()
    deliver_trail(s3, bucket, other)
    lake = Lake(tmp_path / "lake")
    _pull(lake, bucket, moto_server)

    report = _verify(lake, key_server)
    assert report.exit_code == 1
    assert report.cloudtrail.counts("digest") == {"INVALID": 3}
    for verdict in report.cloudtrail.of_kind("digest"):
        assert verdict.message.endswith(f"INVALID: public key not found in region {REGION} for fingerprint "
                                        f"{other.fingerprint}")


def test_a_gap_in_the_chain_is_reported_but_is_not_a_failure(s3, bucket, moto_server, key_server, tmp_path):
    deliver_trail(s3, bucket, key_server.keys[0], gap_before=2)
    lake = Lake(tmp_path / "lake")
    _pull(lake, bucket, moto_server)

    report = _verify(lake, key_server)
    assert report.ok, [v.message for v in report.cloudtrail.verdicts]
    assert report.cloudtrail.gaps == ["No log files were delivered by CloudTrail between 2024-03-05T12:00:00Z and "
                                      "2024-03-05T17:00:00Z"]
    assert report.cloudtrail.counts("digest") == {"valid": 3} and report.cloudtrail.coverage == 1.0


def test_cli_validates_through_list_public_keys_and_exits_1_on_a_tampered_log(s3, bucket, moto_server,
                                                                             key_server, tmp_path):
    delivery = deliver_trail(s3, bucket, key_server.keys[0])
    lake_dir = tmp_path / "lake"
    env = fake_aws_environ(tmp_path)
    pulled = run_cli(["pull", "cloudtrail", "--bucket", bucket, "--endpoint-url", moto_server, "--lake",
                      str(lake_dir)], env=env, cwd=tmp_path / "cwd")
    assert pulled.returncode == 0, pulled.stderr
    ok = run_cli(["verify", "--cloudtrail", "--endpoint-url", key_server.url, "--lake", str(lake_dir)],
                 env=env, cwd=tmp_path / "cwd")
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "3/3 digest files valid, 3/3 log files valid" in ok.stdout and "100.0%" in ok.stdout

    # Tamper with the archived copy itself: verify names the blob, and the digest check names the log.
    log = list(delivery.logs)[0]
    blob = Lake(lake_dir).ledger.entries()[0]
    blob = next(i["blob"] for i in blob["inputs"] if i.get("key") == log)
    path = Lake(lake_dir).archive.path_for(blob)
    path.chmod(0o644)
    path.write_bytes(gzip.compress(b'{"Records":[]}'))
    bad = run_cli(["verify", "--cloudtrail", "--endpoint-url", key_server.url, "--lake", str(lake_dir),
                   "--format", "json"], env=env, cwd=tmp_path / "cwd")
    assert bad.returncode == 1, bad.stderr
    out = json.loads(bad.stdout)
    assert out["ok"] is False
    checks = {c["check"]: c for c in out["checks"]}
    assert checks["archive_blobs"]["breaks"][0]["expected"] == blob
    assert [b["where"] for b in checks["cloudtrail_digest"]["breaks"]] == [_s3(bucket, log)]
    assert out["cloudtrail"]["log_files"] == {"INVALID": 1, "valid": 2}


def test_list_public_keys_refused_leaves_digests_unverified(s3, bucket, moto_server, signing_key, tmp_path):
    deliver_trail(s3, bucket, signing_key, hours=1)
    lake = Lake(tmp_path / "lake")
    _pull(lake, bucket, moto_server)
    with PublicKeysServer([signing_key], status=400) as refusing:
        report = _verify(lake, refusing)
    assert report.exit_code == 1
    [verdict] = report.cloudtrail.of_kind("digest")
    assert verdict.status == "unverified"
    assert f"ListPublicKeys in {REGION}" in verdict.detail and "AccessDenied" in verdict.detail


def test_the_aws_documentation_digest_examples_are_unsigned_not_valid(tmp_path, key_server):
    source = tmp_path / "in"
    source.mkdir()
    for path in DIGEST_EXAMPLES.glob("*.json"):
        shutil.copy(path, source / path.name)
    sample = sorted(SAMPLE_DIR.glob("*.json.gz"))[0]
    shutil.copy(sample, source / sample.name)
    lake = Lake(tmp_path / "lake")
    result = pull_source(lake, config_from_flags("cloudtrail", path=str(source)))
    assert result.entry["blobs"]["digest_blobs"] == 2

    report = _verify(lake, key_server)
    assert report.exit_code == 1
    ct = report.cloudtrail
    assert ct.counts("digest") == {"unsigned": 2}
    assert ct.counts("log") == {"not_covered": 1}
    for verdict in ct.of_kind("digest"):
        assert verdict.status == "unsigned" and verdict.message.endswith("INVALID: signature verification failed "
                                                                         "(unsigned)")
        assert "no S3 `signature` metadata" in verdict.detail
    assert key_server.requests == []  # nothing signed, so no key was asked for
