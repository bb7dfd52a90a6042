"""Faults during an S3 pull, injected on the wire: a connection cut mid-download and a persistent 500.
The pull keeps what it could read, exits 3 naming the objects, and a re-pull completes the rest once."""
# ruff: noqa: F811 (pytest fixtures imported from tests.aws_fixtures are test arguments)

import json
from datetime import UTC, datetime

from aws_fixtures import (  # noqa: F401 (aws_env, bucket, moto_server, s3 are fixtures)
    aws_env,
    bucket,
    cloudtrail_gz,
    fake_aws_environ,
    log_key,
    make_records,
    moto_server,
    put_object,
    run_cli,
    s3,
)
from fault_proxy import FaultProxy

from sovaudit.lake import Lake
from sovaudit.verify import verify_lake


def test_a_cut_connection_and_a_500_leave_a_partial_pull_that_a_re_pull_completes(s3, bucket, moto_server,
                                                                                 tmp_path):
    keys, uids = [], set()
    for n in range(6):
        when = datetime(2024, 2, 1, 9, 5 * n, tzinfo=UTC)
        records = make_records(when, 50, tag=f"fault{n}")
        key = log_key("111122223333", "eu-west-1", when)
        put_object(s3, bucket, key, cloudtrail_gz(records))
        keys.append(key)
        uids |= {r["eventID"] for r in records}
    cut, failing = keys[1], keys[4]
    lake_dir = tmp_path / "lake"
    env = fake_aws_environ(tmp_path)

    with FaultProxy(moto_server, cut={cut}, fail={failing}) as proxy:
        args = ["pull", "cloudtrail", "--bucket", bucket, "--endpoint-url", proxy.url, "--lake", str(lake_dir)]
        first = run_cli([*args, "--format", "json"], env=env, cwd=tmp_path / "cwd", timeout=180)
        assert first.returncode == 3, first.stdout + first.stderr
        [summary] = json.loads(first.stdout)
        failed = {f["key"]: f["error"] for f in summary["failures"]}
        assert set(failed) == {cut, failing}
        assert f"s3://{bucket}/{cut}" in failed[cut]
        assert "IncompleteRead" in failed[cut]  # the body really was cut off mid-way
        assert "InternalError" in failed[failing] and f"s3://{bucket}/{failing}" in failed[failing]
        assert summary["counts"]["stored"] == 4 * 50
        assert {fault for fault, _ in proxy.injected} == {"cut", "fail"}
        assert sum(1 for fault, _ in proxy.injected if fault == "fail") > 1  # retried, and failed each time
        assert f"s3://{bucket}/{cut}" in first.stderr and f"s3://{bucket}/{failing}" in first.stderr

        lake = Lake(lake_dir)
        assert lake.sql("SELECT count(*) FROM cloudtrail").fetchall() == [(200,)]
        assert verify_lake(lake).ok  # partial, but everything it holds is intact

        proxy.faults = False
        second = run_cli(args, env=env, cwd=tmp_path / "cwd", timeout=180)
    assert second.returncode == 0, second.stdout + second.stderr
    entry = Lake(lake_dir).ledger.entries()[-1]
    assert sorted(i["key"] for i in entry["inputs"]) == sorted([cut, failing])
    assert entry["failures"] == [] and entry["counts"]["stored"] == 100 and entry["counts"]["duplicate"] == 0

    lake = Lake(lake_dir)
    total, distinct = lake.sql("SELECT count(*), count(DISTINCT event_uid) FROM cloudtrail").fetchall()[0]
    assert (total, distinct) == (300, 300)
    assert {r[0] for r in lake.sql("SELECT event_uid FROM cloudtrail").fetchall()} == uids
    assert verify_lake(lake).ok
