import gzip
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

# One Kafka broker (a JVM) for the whole session, shared by every module that asks for `kafka_broker`.
from kafka_fixtures import kafka_broker  # noqa: F401

REPO = Path(__file__).resolve().parents[1]
SAMPLES = REPO / "fixtures" / "aws" / "cloudtrail"
DIGEST_EXAMPLES = REPO / "fixtures" / "aws" / "digest-examples"


def sample_records() -> dict[str, list[dict]]:
    return {p.name: json.loads(gzip.decompress(p.read_bytes()))["Records"] for p in sorted(SAMPLES.glob("*.json.gz"))}


def run_cli(*args: str, cwd: Path | None = None, env: dict | None = None, timeout: float = 300,
            input: str | None = None) -> subprocess.CompletedProcess:
    full_env = {**os.environ, "COLUMNS": "200", **(env or {})}
    return subprocess.run([sys.executable, "-P", "-m", "sovaudit.cli", *args], cwd=cwd, env=full_env, timeout=timeout,
                          capture_output=True, text=True, input=input)


def ct_event(event_id: str, time: str = "2024-01-02T10:00:00Z", **fields) -> dict:
    record = {
        "eventVersion": "1.08",
        "userIdentity": {"type": "IAMUser", "principalId": "AIDAEXAMPLE", "accountId": "111122223333",
                         "arn": "arn:aws:iam::111122223333:user/alice"},
        "eventTime": time, "eventSource": "s3.amazonaws.com", "eventName": "GetObject",
        "awsRegion": "eu-west-1", "sourceIPAddress": "8.8.8.8", "userAgent": "aws-cli/2.0",
        "requestParameters": {"bucketName": "bucket-eu", "key": "a.csv",
                              "Host": "bucket-eu.s3.eu-west-1.amazonaws.com"},
        "responseElements": None, "additionalEventData": {"bytesTransferredOut": 1234},
        "eventID": event_id, "readOnly": True, "eventType": "AwsApiCall", "managementEvent": False,
        "recipientAccountId": "111122223333", "eventCategory": "Data",
    }
    record.update(fields)
    return record


def write_trail_file(path: Path, records: list, gz: bool = True) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    data = json.dumps({"Records": records}).encode()
    path.write_bytes(gzip.compress(data) if gz else data)
    return path


@pytest.fixture
def lake_dir(tmp_path: Path) -> Path:
    return tmp_path / "lake"


def assert_counts_add_up(result) -> None:
    c = result.counts
    assert c["read"] == c["stored"] + c["duplicate"] + c["quarantined"], c


def lake_rows(lake) -> int:
    lake.refresh()
    return lake.sql("SELECT count(*) FROM cloudtrail").fetchall()[0][0]


# -- the Acme Retail scenario (sovaudit.demo.scenario), pulled into lakes shared by the check tests --------

def _scenario_lake(root: Path, planted: bool):
    """Every half, each pulled as its own source: CloudTrail files, Azure Monitor exports, and the Kafka audit
    log, inventory snapshots and lineage headers."""
    from sovaudit.demo.bundle import demo_sources
    from sovaudit.demo.scenario import build, write_azure, write_cloudtrail, write_kafka, write_policy
    from sovaudit.demo.scenario_kafka import EU_CLUSTER, US_CLUSTER
    from sovaudit.lake import Lake
    from sovaudit.pull import pull_source

    scenario = build(planted=planted)
    write_cloudtrail(scenario, root / "logs")
    write_azure(scenario, root / "logs" / "azure")
    write_kafka(scenario, root / "logs" / "kafka")
    config = write_policy(root / "sovaudit.toml")
    lake = Lake(root / "lake")
    kafka = scenario.kafka
    expected_rows = [len(scenario.events), len(scenario.azure), len(kafka.audit), len(kafka.inventory[EU_CLUSTER]),
                     len(kafka.inventory[US_CLUSTER]), len(kafka.lineage)]
    for spec, rows in zip(demo_sources(root / "logs"), expected_rows, strict=True):
        result = pull_source(lake, spec)
        assert result.counts["stored"] == rows and not result.counts["quarantined"], (spec.name, result.counts)
    return scenario, lake, config


@pytest.fixture(scope="session")
def planted_scenario(tmp_path_factory):
    """(scenario, lake, config path): clean traffic plus one planted case per check."""
    return _scenario_lake(tmp_path_factory.mktemp("planted"), planted=True)


@pytest.fixture(scope="session")
def clean_scenario(tmp_path_factory):
    """(scenario, lake, config path): the same retailer with clean traffic only."""
    return _scenario_lake(tmp_path_factory.mktemp("clean"), planted=False)


# -- `sovaudit scan --demo`, run once for every module that reads its report set ---------------------------

@pytest.fixture(scope="session")
def demo(tmp_path_factory):
    """(out dir, the scan's process, the ledger head) of `sovaudit scan --demo`."""
    out = tmp_path_factory.mktemp("demo") / "sovaudit-demo"
    proc = run_cli("scan", "--demo", "--out", str(out))
    assert proc.returncode == 1, proc.stderr[-3000:]  # the demo has planted findings at high and above
    ledger = (out / "lake" / "ledger.jsonl").read_text().splitlines()
    return out, proc, json.loads(ledger[-1])["hash"]


@pytest.fixture(scope="session")
def demo_report(demo, tmp_path_factory) -> dict:
    """The demo's report as JSON (`sovaudit report --format json` over the demo's lake and config)."""
    out, _, _ = demo
    path = tmp_path_factory.mktemp("demo-report") / "report.json"
    proc = run_cli("report", "--format", "json", "--out", str(path), "--lake", str(out / "lake"),
                   "--config", str(out / "sovaudit.toml"))
    assert proc.returncode == 1, proc.stderr[-3000:]
    return json.loads(path.read_text())
