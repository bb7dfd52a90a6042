"""Benchmark: the Kafka sources from files and the Kafka checks over them.

    .venv/bin/python benchmarks/kafka_checks.py                          # 1,000,000 audit events
    .venv/bin/python benchmarks/kafka_checks.py --events 200_000         # quicker

1. Writes, under --workdir (reused when already there): N Confluent audit events over 30 days (fetches and
   produces on 400 topics of an EU cluster, a share of them from abroad, by MirrorMaker 2, or denied),
   N/2 lineage header records, and a daily inventory snapshot of the EU cluster and of a US cluster that
   mirrors a tenth of its topics; all NDJSON.gz, streamed to disk.
2. Pulls them into a fresh lake with `sovaudit pull kafka-audit|kafka-inventory|kafka-lineage --path` (in
   a child process), and prints records/s for each source and the peak RSS of the pulls.
3. Runs the Kafka checks over the last 15 days in a child process, and prints the time per check, the total
   and the child's peak RSS.
"""

import argparse
import gzip
import json
import random
import resource
import shutil
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

POLICY = """\
[organisation]
evidence_period_days = 365

[[data_classes]]
name = "customer-data"
home = "EU"
tier = 1
retention_days = 30
topics = ["eu.customer.*"]
allowed_transfers = [{ to = "UK", safeguard = "UK adequacy decision" }]
"""
KAFKA_CHECKS = ["XR-004", "XR-005", "EG-004", "RT-004", "IN-005", "IN-006", "IN-007"]
START = datetime(2026, 3, 1, tzinfo=UTC)
DAYS = 30
TOPICS = [f"eu.customer.t{n:03d}" for n in range(200)] + [f"eu.ops.t{n:03d}" for n in range(200)]
ADDRESSES = ["10.20.1.7", "10.20.1.8", "217.0.0.41", "90.0.0.17", "81.2.69.142", "12.0.0.77", "1.0.1.1"]
CRN = "crn://mds.bench.example/kafka=BenchEuCluster00000001"

CHILD = """
import json, resource, sys, time
t0 = time.perf_counter()
from sovaudit.checks.runner import run_checks
from sovaudit.config import load_config
from sovaudit.lake import Lake
run = run_checks(Lake(sys.argv[1]), load_config(sys.argv[2]), since=sys.argv[3], until=sys.argv[4],
                 check_ids=sys.argv[5].split(","))
print(json.dumps({"total": time.perf_counter() - t0, "checks": [
    {"id": r.check.id, "status": r.status, "findings": len(r.findings), "seconds": r.seconds} for r in run.results],
    "coverage": run.coverage, "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _stamp(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


def write_audit(path: Path, events: int, rng: random.Random) -> None:
    step = DAYS * 86400 / events
    with gzip.open(path, "wt", encoding="utf-8", compresslevel=1) as out:
        for n in range(events):
            when = START + timedelta(seconds=n * step)
            topic = TOPICS[rng.randrange(len(TOPICS))]
            produce = rng.random() < 0.4
            mm2 = not produce and rng.random() < 0.02
            granted = rng.random() > 0.01
            client = "eu->us|MirrorSourceConnector|replication-consumer" if mm2 else f"app-{n % 50}"
            out.write(json.dumps({
                "specversion": "1.0", "id": f"bench-{n}", "source": CRN, "time": _stamp(when),
                "type": "io.confluent.kafka.server/authorization", "subject": f"{CRN}/topic={topic}",
                "data": {"serviceName": CRN, "methodName": "kafka.Produce" if produce else "kafka.FetchConsumer",
                         "resourceName": f"{CRN}/topic={topic}",
                         "authenticationInfo": {"principal": f"User:svc-{n % 40}"},
                         "authorizationInfo": {"granted": granted, "operation": "Write" if produce else "Read",
                                               "resourceType": "Topic", "resourceName": topic,
                                               "patternType": "LITERAL"},
                         "request": {"client_id": client, "correlation_id": str(n)},
                         "requestMetadata": {"client_address": f"/{rng.choice(ADDRESSES)}:5{n % 1000:03d}"}},
            }, separators=(",", ":")) + "\n")


def write_lineage(path: Path, records: int, rng: random.Random) -> None:
    step_ms = DAYS * 86_400_000 // records
    base = int(START.timestamp() * 1000)
    with gzip.open(path, "wt", encoding="utf-8", compresslevel=1) as out:
        for n in range(records):
            origin = "us-east-1" if rng.random() < 0.001 else rng.choice(["eu-west-1", "eu-central-1"])
            out.write(json.dumps({
                "kafka": {"cluster_id": "BenchEuCluster00000001", "topic": TOPICS[n % 200], "partition": n % 6,
                          "offset": n // 6, "timestamp": base + n * step_ms},
                "headers": {"region_origin": origin, "encryption_key_id": "key-1"}}, separators=(",", ":")) + "\n")


def write_inventory(path: Path, cluster: str, mirrors: bool) -> int:
    rows = 0
    with gzip.open(path, "wt", encoding="utf-8", compresslevel=1) as out:
        for day in range(DAYS):
            stamp = (START + timedelta(days=day, minutes=30)).strftime("%Y-%m-%dT%H:%M:%SZ")
            names = [f"eu.{t}" for t in TOPICS[::10]] + ["eu.heartbeats"] if mirrors else [*TOPICS, "confluent-audit-log-events"]
            for name in names:
                retention = "-1" if name.endswith("t007") else str(7 * 86_400_000)
                out.write(json.dumps({"snapshot_time": stamp, "cluster_id": cluster, "topic": name, "partitions": 6,
                                      "replication_factor": 3,
                                      "configs": {"retention.ms": retention, "cleanup.policy": "delete"}}) + "\n")
                rows += 1
    return rows


def pull_all(lake_dir: Path, data: Path) -> None:
    from sovaudit.lake import Lake
    from sovaudit.pull import pull_source
    from sovaudit.sources.kafka.config import (
        KafkaAuditSourceConfig,
        KafkaInventorySourceConfig,
        KafkaLineageSourceConfig,
    )

    lake = Lake(lake_dir)
    sources = [
        KafkaAuditSourceConfig(name="audit", type="kafka-audit", path=str(data / "audit"), region="eu-west-1"),
        KafkaLineageSourceConfig(name="lineage", type="kafka-lineage", path=str(data / "lineage"), region="eu-west-1"),
        KafkaInventorySourceConfig(name="inv-eu", type="kafka-inventory", path=str(data / "inventory-eu"),
                                   region="eu-west-1"),
        KafkaInventorySourceConfig(name="inv-us", type="kafka-inventory", path=str(data / "inventory-us"),
                                   region="us-east-1", mirror_aliases=["eu"]),
    ]
    print("pull                  records   seconds   records/s")
    for spec in sources:
        started = time.perf_counter()
        counts = pull_source(lake, spec).counts
        seconds = time.perf_counter() - started
        print(f"{spec.type:<17} {counts['stored']:>11,} {seconds:>9.1f} {counts['stored'] / seconds:>11,.0f}")
    print(f"peak RSS of the pulls: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MB")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=lambda s: int(s.replace("_", "")), default=1_000_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--workdir", type=Path, default=Path("./bench-work"))
    parser.add_argument("--pull-into", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--data", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.pull_into:
        pull_all(args.pull_into, args.data)
        return 0

    data = args.workdir / f"kafka-{args.events}-seed{args.seed}"
    if not (data / "done").exists():
        rng = random.Random(args.seed)
        for folder in ("audit", "lineage", "inventory-eu", "inventory-us"):
            (data / folder).mkdir(parents=True, exist_ok=True)
        log(f"writing {args.events:,} audit events and {args.events // 2:,} lineage records under {data}")
        write_audit(data / "audit" / "audit.ndjson.gz", args.events, rng)
        write_lineage(data / "lineage" / "lineage.ndjson.gz", args.events // 2, rng)
        write_inventory(data / "inventory-eu" / "snapshots.ndjson.gz", "BenchEuCluster00000001", mirrors=False)
        write_inventory(data / "inventory-us" / "snapshots.ndjson.gz", "BenchUsCluster00000001", mirrors=True)
        (data / "done").write_text("")
    lake_dir = args.workdir / f"kafka-lake-{args.events}-seed{args.seed}"
    shutil.rmtree(lake_dir, ignore_errors=True)
    # Pulls and checks each run in a child of this small process, so that each peak RSS is its own.
    pulls = subprocess.run([sys.executable, __file__, "--pull-into", str(lake_dir), "--data", str(data)],
                           capture_output=True, text=True, check=False)
    if pulls.returncode != 0:
        log(pulls.stderr)
        return 1
    print(pulls.stdout, end="")

    config = args.workdir / "kafka-checks-policy.toml"
    config.write_text(POLICY, encoding="utf-8")
    since, until = (START + timedelta(days=15)).isoformat(), (START + timedelta(days=DAYS)).isoformat()
    child = subprocess.run([sys.executable, "-P", "-c", CHILD, str(lake_dir), str(config), since, until,
                            ",".join(KAFKA_CHECKS)], capture_output=True, text=True, check=False)
    if child.returncode != 0:
        log(child.stderr)
        return 1
    result = json.loads(child.stdout)
    peak = result["peak_rss_mb"]
    print("\ncheck    status        findings  seconds")
    for check in result["checks"]:
        print(f"{check['id']:<8} {check['status']:<13} {check['findings']:>8} {check['seconds']:>8.2f}")
    in_window = ", ".join(f"{c['events']:,} {c['source']}" for c in result["coverage"])
    print(f"total {result['total']:.2f} s over {in_window} in the window; peak RSS of the checks {peak:,.0f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
