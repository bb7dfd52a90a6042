"""Benchmark: the whole check catalogue over a lake of N synthetic CloudTrail events.

    .venv/bin/python benchmarks/checks.py                    # 5,000,000 events (the issue's size)
    .venv/bin/python benchmarks/checks.py --events 500_000   # quicker

1. Generates the events with synthetic_cloudtrail.py (reused when already there) and pulls them into a
   lake under --workdir (also reused: the lake is kept next to the data, keyed by N and seed).
2. Runs every check in a child process over the last 15 days of the 30 days of data, with a 15-day
   baseline, so the anomaly checks have history to compare with. The policy classes the synthetic
   `customer-data-*` and `backups-*` buckets and the EU KMS keys.
3. Prints the time per check, the session set-up (reading the lake into memory), the total, the child's
   peak RSS, and the total against the target (20 s for 5M events on 2 cores).
"""

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from synthetic_cloudtrail import generate  # noqa: E402

POLICY = """\
[[data_classes]]
name = "customer-data"
home = "EU"
tier = 1
retention_days = 30
resources = ["arn:aws:s3:::customer-data-*"]
keys = ["arn:aws:kms:eu-*"]
allowed_transfers = [{ to = "UK", safeguard = "UK adequacy decision" }]

[[data_classes]]
name = "backups"
home = "EU"
tier = 2
retention_days = 7
resources = ["arn:aws:s3:::backups-*"]

[thresholds]
egress_bytes_per_actor_day = 100_000_000
baseline_days = 15
"""

CHILD = """
import json, sys, time
t0 = time.perf_counter()
from sovaudit.checks.runner import run_checks
from sovaudit.config import load_config
from sovaudit.lake import Lake
run = run_checks(Lake(sys.argv[1]), load_config(sys.argv[2]), since=sys.argv[3], until=sys.argv[4])
total = time.perf_counter() - t0
print(json.dumps({"total": total, "checks": [
    {"id": r.check.id, "status": r.status, "findings": len(r.findings), "seconds": r.seconds}
    for r in run.results], "events": sum(c["events"] for c in run.coverage)}))
"""


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def build_lake(data_dir: Path, lake: Path, events: int) -> None:
    marker = lake / "benchmark.json"
    if marker.exists() and json.loads(marker.read_text()).get("events") == events:
        log(f"reusing the lake at {lake}")
        return
    log(f"pulling {events:,} events into {lake} …")
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "sovaudit.cli", "pull", "cloudtrail", "--path", str(data_dir),
                    "--lake", str(lake), "--format", "json"], check=True, stdout=subprocess.DEVNULL)
    marker.write_text(json.dumps({"events": events}))
    log(f"  pulled in {time.perf_counter() - started:,.0f} s")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=lambda s: int(s.replace("_", "")), default=5_000_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--workdir", type=Path, default=Path("./bench-work"))
    parser.add_argument("--target", type=float, default=20.0, help="seconds for the whole catalogue at 5M events")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    args = parser.parse_args(argv)

    workdir = args.workdir.resolve()
    data_dir = workdir / f"cloudtrail-{args.events}-seed{args.seed}"
    lake = workdir / f"checks-lake-{args.events}-seed{args.seed}"
    info = generate(data_dir, args.events, seed=args.seed, log=log)
    log(f"data: {info['files']} files, {args.events:,} events ({'reused' if info.get('reused') else 'generated'})")
    build_lake(data_dir, lake, args.events)
    policy = workdir / "checks-policy.toml"
    policy.write_text(POLICY)

    # The synthetic span starts 2025-03-01 and lasts 30 days: judge the second half against the first.
    since, until = "2025-03-16T00:00:00Z", "2025-03-31T00:00:00Z"
    log("running the catalogue …")
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(lake), str(policy), since, until],
                             stdout=subprocess.PIPE, text=True, cwd=workdir)
    out = child.stdout.read()
    # wait4 rather than wait: it returns the child's own peak RSS.
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        log(f"the check run failed with exit code {child.returncode}")
        return 1
    result = json.loads(out)
    peak_mb = usage.ru_maxrss / 1024
    result.update({"lake_events": args.events, "peak_rss_mb": round(peak_mb), "target_seconds": args.target,
                   "window": {"since": since, "until": until}})
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    print(f"{'check':8} {'status':13} {'findings':>8} {'seconds':>8}")
    for c in result["checks"]:
        print(f"{c['id']:8} {c['status']:13} {c['findings']:>8,} {c['seconds']:>8.2f}")
    checks_total = sum(c["seconds"] for c in result["checks"])
    print(f"{'checks':8} {'':13} {'':>8} {checks_total:>8.2f}")
    print(f"{'set-up':8} {'(lake into memory, policy, views)':>31} {result['total'] - checks_total:>7.2f}")
    print(f"total {result['total']:.2f} s for {args.events:,} events in the lake "
          f"({result['events']:,} in the window), {args.events / result['total']:,.0f} events/s; "
          f"peak RSS {result['peak_rss_mb']:,} MB")
    if args.events == 5_000_000:
        verdict = "meets" if result["total"] <= args.target else "MISSES"
        print(f"target: the whole catalogue under {args.target:.0f} s for 5,000,000 events: {verdict}")
    else:
        print(f"(the target, {args.target:.0f} s, is for 5,000,000 events: run without --events to judge it)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
