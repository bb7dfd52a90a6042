"""Benchmark: the whole check catalogue over a lake of N synthetic CloudTrail events.

    .venv/bin/python benchmarks/checks.py                    # 5,000,000 events (the issue's size)
    .venv/bin/python benchmarks/checks.py --events 500_000   # quicker
    .venv/bin/python benchmarks/checks.py --compact          # also on a compacted copy, both in one run

1. Generates the events with synthetic_cloudtrail.py (reused when already there) and pulls them into a
   lake under --workdir (also reused: the lake is kept next to the data, keyed by N and seed).
2. Runs every check in a child process over the last 15 days of the 30 days of data, with a 15-day
   baseline, so the anomaly checks have history to compare with. The policy classes the synthetic
   `customer-data-*` and `backups-*` buckets and the EU KMS keys.
3. Prints the time per check, the session set-up (reading the lake into memory), the total, the child's
   peak RSS, and the total against the target (20 s for 5M events on 2 cores).
4. With --compact: copies the lake, runs `sovaudit compact` on the copy (timed, with its peak RSS), runs the
   catalogue there too, and prints both runs side by side with each lake's part-file count. --repeat K
   alternates K runs on each lake and shows each lake's fastest.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from synthetic_cloudtrail import data_dir_name, generate  # noqa: E402

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
    subprocess.run([sys.executable, "-P", "-m", "sovaudit.cli", "pull", "cloudtrail", "--path", str(data_dir),
                    "--lake", str(lake), "--format", "json"], check=True, stdout=subprocess.DEVNULL)
    marker.write_text(json.dumps({"events": events}))
    log(f"  pulled in {time.perf_counter() - started:,.0f} s")


def _child(args: list[str], cwd: Path) -> tuple[int, str, float, float]:
    """Run a child; its exit code, stdout, seconds and peak RSS in MB (wait4: the child's own)."""
    started = time.perf_counter()
    child = subprocess.Popen(args, stdout=subprocess.PIPE, text=True, cwd=cwd)
    out = child.stdout.read()
    _, status, usage = os.wait4(child.pid, 0)
    return os.waitstatus_to_exitcode(status), out, time.perf_counter() - started, usage.ru_maxrss / 1024


def part_files(lake: Path) -> int:
    return sum(1 for _ in (lake / "tables").rglob("*.parquet"))


def compacted_copy(lake: Path) -> tuple[Path, dict]:
    """A copy of the lake, compacted by `sovaudit compact` (timed). Made afresh each run: the copy is cheap next
    to the compaction it measures."""
    copy = lake.with_name(lake.name + "-compacted")
    if copy.exists():
        shutil.rmtree(copy)
    log(f"copying the lake to {copy} and compacting it …")
    shutil.copytree(lake, copy)
    code, out, seconds, peak = _child([sys.executable, "-P", "-m", "sovaudit.cli", "compact", "--lake", str(copy),
                                       "--format", "json"], copy.parent)
    if code != 0:
        raise SystemExit(f"sovaudit compact failed with exit code {code}")
    tables = json.loads(out)["tables"]
    about = {"seconds": round(seconds, 2), "peak_rss_mb": round(peak),
             "files_before": sum(t["files_before"] for t in tables), "files_after": sum(t["files_after"] for t in tables),
             "bytes_before": sum(t["bytes_before"] for t in tables), "bytes_after": sum(t["bytes_after"] for t in tables)}
    log(f"  compacted in {seconds:,.1f} s: {about['files_before']:,} → {about['files_after']:,} files")
    return copy, about


def run_catalogue(lake: Path, policy: Path, since: str, until: str, workdir: Path, events: int) -> dict | None:
    log(f"running the catalogue over {lake.name} …")
    code, out, _, peak = _child([sys.executable, "-P", "-c", CHILD, str(lake), str(policy), since, until], workdir)
    if code != 0:
        log(f"the check run failed with exit code {code}")
        return None
    result = json.loads(out)
    result.update({"lake_events": events, "peak_rss_mb": round(peak), "part_files": part_files(lake),
                   "checks_seconds": sum(c["seconds"] for c in result["checks"])})
    result["setup_seconds"] = result["total"] - result["checks_seconds"]
    return result


def print_run(result: dict, events: int) -> None:
    print(f"{'check':8} {'status':13} {'findings':>8} {'seconds':>8}")
    for c in result["checks"]:
        print(f"{c['id']:8} {c['status']:13} {c['findings']:>8,} {c['seconds']:>8.2f}")
    print(f"{'checks':8} {'':13} {'':>8} {result['checks_seconds']:>8.2f}")
    print(f"{'set-up':8} {'(lake into memory, policy, views)':>31} {result['setup_seconds']:>7.2f}")
    print(f"total {result['total']:.2f} s for {events:,} events in the lake "
          f"({result['events']:,} in the window, {result['part_files']:,} part files), "
          f"{events / result['total']:,.0f} events/s; peak RSS {result['peak_rss_mb']:,} MB")


def print_comparison(pulled: dict, compacted: dict, compaction: dict, events: int) -> None:
    same = [(c["id"], c["status"], c["findings"]) for c in pulled["checks"]] == \
        [(c["id"], c["status"], c["findings"]) for c in compacted["checks"]]
    print()
    print(f"{'':24} {'as pulled':>12} {'compacted':>12}")
    for label, key, fmt in (("part files", "part_files", "{:,}"), ("set-up s", "setup_seconds", "{:.2f}"),
                            ("checks s", "checks_seconds", "{:.2f}"), ("total s", "total", "{:.2f}"),
                            ("peak RSS MB", "peak_rss_mb", "{:,}")):
        print(f"{label:24} {fmt.format(pulled[key]):>12} {fmt.format(compacted[key]):>12}")
    print(f"{'events/s':24} {events / pulled['total']:>12,.0f} {events / compacted['total']:>12,.0f}")
    print(f"compaction: {compaction['seconds']:.1f} s, peak RSS {compaction['peak_rss_mb']:,} MB, "
          f"{compaction['files_before']:,} → {compaction['files_after']:,} files, "
          f"{compaction['bytes_before'] / 1e6:,.0f} → {compaction['bytes_after'] / 1e6:,.0f} MB; "
          f"the same statuses and finding counts: {'yes' if same else 'NO'}")
    if len(compaction["totals"]["as_pulled"]) > 1:
        print(f"totals of the alternated runs (the fastest of each is shown above): as pulled "
              f"{compaction['totals']['as_pulled']}, compacted {compaction['totals']['compacted']}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=lambda s: int(s.replace("_", "")), default=5_000_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--workdir", type=Path, default=Path("./bench-work"))
    parser.add_argument("--target", type=float, default=20.0, help="seconds for the whole catalogue at 5M events")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.add_argument("--compact", action="store_true", help="also run on a compacted copy of the lake")
    parser.add_argument("--repeat", type=int, default=1,
                        help="with --compact: alternate K runs on each lake and keep each one's fastest")
    args = parser.parse_args(argv)

    workdir = args.workdir.resolve()
    data_dir = workdir / data_dir_name(args.events, args.seed)
    lake = workdir / f"checks-lake-{args.events}-seed{args.seed}"
    info = generate(data_dir, args.events, seed=args.seed, log=log)
    log(f"data: {info['files']} files, {args.events:,} events ({'reused' if info.get('reused') else 'generated'})")
    build_lake(data_dir, lake, args.events)
    policy = workdir / "checks-policy.toml"
    policy.write_text(POLICY)

    # The synthetic span starts 2025-03-01 and lasts 30 days: judge the second half against the first.
    since, until = "2025-03-16T00:00:00Z", "2025-03-31T00:00:00Z"
    compacted = compaction = None
    if not args.compact:
        result = run_catalogue(lake, policy, since, until, workdir, args.events)
        if result is None:
            return 1
    else:
        copy, compaction = compacted_copy(lake)
        # Alternated, so that a change in the machine's load falls on both lakes alike.
        runs: dict[Path, list[dict]] = {lake: [], copy: []}
        for _ in range(max(1, args.repeat)):
            for target in (lake, copy):
                run = run_catalogue(target, policy, since, until, workdir, args.events)
                if run is None:
                    return 1
                runs[target].append(run)
        result, compacted = (min(runs[t], key=lambda r: r["total"]) for t in (lake, copy))
        compaction["totals"] = {"as_pulled": [round(r["total"], 2) for r in runs[lake]],
                                "compacted": [round(r["total"], 2) for r in runs[copy]]}
    result.update({"target_seconds": args.target, "window": {"since": since, "until": until}})
    if args.json:
        print(json.dumps({**result, "compacted": compacted, "compaction": compaction} if args.compact else result,
                         indent=2))
        return 0
    print_run(result, args.events)
    if compacted is not None and compaction is not None:
        print("\non the compacted copy:")
        print_run(compacted, args.events)
        print_comparison(result, compacted, compaction, args.events)
    best = min(result["total"], compacted["total"]) if compacted else result["total"]
    if args.events == 5_000_000:
        verdict = "meets" if best <= args.target else "MISSES"
        print(f"target: the whole catalogue under {args.target:.0f} s for 5,000,000 events: {verdict}")
    else:
        print(f"(the target, {args.target:.0f} s, is for 5,000,000 events: run without --events to judge it)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
