"""Benchmark: `sovaudit pull cloudtrail --path` against a naive DuckDB read_json -> Parquet baseline, and against
a gunzip+parse floor, all measured in the same run.

    .venv/bin/python -P benchmarks/ingest_cloudtrail.py                       # 1,000,000 events, 1.46 KB records
    .venv/bin/python -P benchmarks/ingest_cloudtrail.py --events 100_000 --record-size small --json
    .venv/bin/python -P benchmarks/ingest_cloudtrail.py --events 1M,5M --record-size small,standard

1. Generates N synthetic CloudTrail events (benchmarks/synthetic_cloudtrail.py) as gzip'd
   `{"Records":[...]}` files of 5,000 records in WORKDIR/cloudtrail-N-seedS-SIZE/ (reused when its marker
   file says the same N, seed, record size and generator version; generation time is not measured).
   SIZE is `standard` (~1.46 KB records) or `small` (~1 KB: the same events without their optional bulk).
2. Runs, each in its own subprocess, and reads wall time, CPU time and the child's peak RSS (os.wait4, so the
   figures are that process's own, not this script's or an earlier child's):
     - sovaudit: `sovaudit pull cloudtrail --path DIR --lake FRESH_LAKE --format json`, then
       checks the printed counts (stored == N, nothing quarantined or duplicate);
     - naive:    DuckDB `COPY (SELECT unnest(Records, recursive := false) FROM read_json('DIR/*.json.gz'))
                 TO 'OUT.parquet' (FORMAT parquet)` with default settings;
     - floor:    isal gunzip of every file and the native extractor (CloudTrail's field spec) over it, on as
                 many threads as cores, nothing written (timed inside the child, after its imports).
3. Prints, for each: seconds, events/s, events/s per core (events / CPU seconds of the process), peak RSS;
   the speed-up sovaudit/naive against the target (5x), sovaudit's share of the floor, sovaudit's peak RSS
   against the limit (1 GiB) and, given several --events, whether that peak stays flat across them.
   `--json` prints all of it as JSON.

All paths read the same files from a warm page cache (they were just generated or read).
Exit status: 0 measured and the targets met, 1 a target missed, 2 a run failed.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness  # noqa: E402  (sibling modules; benchmarks/ is not a package)
import synthetic_cloudtrail  # noqa: E402
from harness import fail, log  # noqa: E402

TARGET_RATIO = 5.0  # sovaudit events/s over the naive baseline's, same run (issue 15)
RSS_LIMIT_MB = 1024  # 1 GiB, in the MiB that ru_maxrss / 1024 gives
FLAT_TOLERANCE = 0.15  # peak RSS at the largest --events at most 15% above that at the smallest

# Runs in its own interpreter so its peak RSS is DuckDB's alone. argv: glob, output file, unnest form.
# DuckDB's default schema detection handles the synthetic files: each file is one ~7 MB JSON object,
# under the default maximum_object_size (16 MB), and the default sample_size (20,480 objects) covers
# every file, so no read_json option is needed. If a future generator change made a file larger than
# 16 MB, pass maximum_object_size here and say so.
_BASELINE = r"""
import json, sys, time
import duckdb

pattern, out, form = sys.argv[1], sys.argv[2], sys.argv[3]
con = duckdb.connect()
con.execute("SET enable_progress_bar = false")
select = ("SELECT unnest(Records, recursive := false)" if form == "recursive_false"
          else "SELECT unnest(Records) AS r")
sql = f"COPY ({select} FROM read_json('{pattern}')) TO '{out}' (FORMAT parquet)"
rows = con.execute(sql).fetchone()[0]
print(json.dumps({"rows": rows, "sql": sql, "duckdb": duckdb.__version__}))
"""


def unnest_form() -> str:
    """`recursive := false` when this DuckDB accepts it, else plain unnest (probed on a literal, not timed)."""
    import duckdb

    try:
        duckdb.connect().sql("SELECT unnest([{'a': {'b': 1}}], recursive := false)").fetchall()
        return "recursive_false"
    except duckdb.Error:
        return "plain"


def run_sovaudit(data_dir: Path, run_dir: Path, events: int, keep: bool = False) -> tuple[dict | None, int]:
    lake = run_dir / "lake"
    cmd = harness.sovaudit_command(["cloudtrail"], data_dir, lake)
    log(f"running: {' '.join(cmd)}")
    # cwd=run_dir: no ./sovaudit.toml of the caller's is picked up; $SOVAUDIT_LAKE is overridden by --lake.
    return harness.measured(cmd, run_dir, "sovaudit", lake,
                            lambda result: harness.check_pull(result, lake, events, "cloudtrail"), keep)


def run_baseline(data_dir: Path, run_dir: Path, events: int, keep: bool = False) -> tuple[dict | None, int]:
    out = run_dir / "naive.parquet"
    form = unnest_form()
    cmd = [sys.executable, "-P", "-c", _BASELINE, f"{data_dir}/*.json.gz", str(out), form]
    log(f"running: naive DuckDB baseline ({'unnest(Records, recursive := false)' if form == 'recursive_false' else 'unnest(Records) AS r'})")
    return harness.measured(cmd, run_dir, "naive", out, lambda result: _check_baseline(result, out, events), keep)


def _check_baseline(result: dict, out: Path, events: int) -> tuple[dict | None, int]:
    if result["exit_code"] != 0:
        return None, fail(f"naive DuckDB baseline exited {result['exit_code']}", result)
    try:
        info = json.loads(result["stdout"].strip().splitlines()[-1])
    except (ValueError, IndexError) as exc:
        return None, fail(f"could not parse the baseline's output ({exc})", result)
    result.update(info)
    if info["rows"] != events:
        return None, fail(f"naive baseline wrote {info['rows']:,} rows, expected {events:,}", result)
    result["parquet_mb"] = out.stat().st_size / 2**20
    return result, 0


def run_floor(data_dir: Path, run_dir: Path, events: int) -> tuple[dict | None, int]:
    return harness.run_floor(sorted(data_dir.glob("*.json.gz")), "cloudtrail", "", run_dir, events)


def measure_size(args: argparse.Namespace, workdir: Path, events: int, record_size: str) -> tuple[dict | None, int]:
    """Generate (or reuse) one data set and measure every path on it, alternating over --repeat runs."""
    data_dir = workdir / synthetic_cloudtrail.data_dir_name(events, args.seed, record_size)
    log(f"data: {data_dir}")
    info = synthetic_cloudtrail.generate(data_dir, events, seed=args.seed, record_size=record_size, log=log)
    log(f"  {'reused' if info['reused'] else 'generated'} {info['files']:,} files, {info['events']:,} events, "
        f"{info['json_bytes'] / 1e6:,.0f} MB JSON ({info['avg_record_bytes']:,.0f} B/record), "
        f"{info['gzip_bytes'] / 1e6:,.0f} MB gzip"
        + ("" if info["reused"] else f", {info['generation_seconds']:.0f}s"))

    run_dir = workdir / "runs" / f"{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}-{events}-{record_size}"
    run_dir.mkdir(parents=True)
    paths = [("sovaudit", run_sovaudit)]
    if not args.skip_baseline:
        paths.append(("naive_duckdb", run_baseline))
    if not args.skip_floor:
        paths.append(("floor", lambda d, r, n, keep: run_floor(d, r, n)))
    runs: dict[str, list[dict]] = {name: [] for name, _ in paths}
    load_before = harness.machine()["load_average"]
    for attempt in range(args.repeat):
        keep = args.keep and attempt == args.repeat - 1
        for name, run in paths:
            result, code = run(data_dir, run_dir, events, keep)
            if code:
                return None, code
            runs[name].append(result)
            log(f"  {name}: {result['seconds']:.2f}s, peak RSS {result['peak_rss_mb']:,.0f} MB")
    fastest = {name: harness.best(r) for name, r in runs.items()}
    sov, naive, floor = fastest["sovaudit"], fastest.get("naive_duckdb"), fastest.get("floor")

    speedup = naive["seconds"] / sov["seconds"] if naive else None  # events/s sovaudit over naive
    of_floor = floor["seconds"] / sov["seconds"] if floor else None  # events/s sovaudit over the floor's
    rss_ok = sov["peak_rss_mb"] <= args.rss_limit_mb
    results = {"sovaudit": harness.figures(sov, events) | {
        "counts": sov["counts"], "lake_mb": round(sov["lake_mb"], 1), "tables_mb": round(sov["tables_mb"], 1)}}
    if naive:
        results["naive_duckdb"] = harness.figures(naive, events) | {
            "duckdb": naive["duckdb"], "sql": naive["sql"], "parquet_mb": round(naive["parquet_mb"], 1)}
    if floor:
        results["floor"] = harness.figures(floor, events) | {
            "threads": floor["threads"], "columns": floor["columns"], "spec": floor["spec"],
            "process_seconds": round(floor["process_seconds"], 3)}
    return {
        "events": events,
        "record_size": record_size,
        "files": info["files"],
        "json_mb": round(info["json_bytes"] / 1e6, 1),
        "gzip_mb": round(info["gzip_bytes"] / 1e6, 1),
        "avg_record_bytes": info["avg_record_bytes"],
        "generator_version": info["generator_version"],
        "load_average_before": load_before,
        "load_average_after": harness.machine()["load_average"],
        "results": results,
        "speedup_sovaudit_over_naive": round(speedup, 3) if speedup is not None else None,
        "speedup_met": speedup >= args.target if speedup is not None else None,
        "ratio_sovaudit_over_floor": round(of_floor, 3) if of_floor is not None else None,
        "peak_rss_ok": rss_ok,
        "rss_ratio_sovaudit_over_naive": round(sov["peak_rss_mb"] / naive["peak_rss_mb"], 3) if naive else None,
        "run_dir": str(run_dir),
    }, 0


def print_run(run: dict, target: float, rss_limit: float) -> None:
    r = run["results"]
    print()
    print(f"{run['events']:,} events, {run['record_size']} records ({run['avg_record_bytes']:,.0f} B average), "
          f"{run['files']:,} files ({run['json_mb']:,.0f} MB JSON, {run['gzip_mb']:,.0f} MB gzip); "
          f"load average {run['load_average_before'][0]:.2f} before, {run['load_average_after'][0]:.2f} after")
    print(harness.TABLE_HEAD)
    print(harness.row("sovaudit pull", r["sovaudit"]))
    if "naive_duckdb" in r:
        print(harness.row("naive duckdb", r["naive_duckdb"]))
    if "floor" in r:
        print(harness.row(f"floor: gunzip+parse, {r['floor']['threads']} threads", r["floor"]))
    if run["speedup_sovaudit_over_naive"] is not None:
        print(f"speed-up sovaudit/naive: {run['speedup_sovaudit_over_naive']:.2f}x events/s "
              f"(target >= {target:g}x: {'PASS' if run['speedup_met'] else 'FAIL'})")
    else:
        print("naive baseline skipped (--skip-baseline): no speed-up")
    if run["ratio_sovaudit_over_floor"] is not None:
        print(f"sovaudit/floor: {run['ratio_sovaudit_over_floor']:.3f} (sovaudit events/s / floor events/s)")
    print(f"sovaudit peak RSS {r['sovaudit']['peak_rss_mb']:,.0f} MB (limit <= {rss_limit:,.0f} MB: "
          f"{'PASS' if run['peak_rss_ok'] else 'FAIL'})")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=harness.parse_counts, action="append",
                        help="number of events: 1_000_000, 1,000,000 or 1M; repeat it or list sizes (1M,5M) to "
                             "measure each and see whether peak RSS stays flat (default 1M)")
    parser.add_argument("--record-size", default="standard",
                        help="standard (~1.46 KB records), small (~1 KB), or both as small,standard "
                             "(default standard)")
    parser.add_argument("--workdir", type=Path, default=Path("./bench-work"),
                        help="generated data and run outputs (default ./bench-work); data is reused")
    parser.add_argument("--seed", type=int, default=42, help="generator seed (default 42)")
    parser.add_argument("--skip-baseline", action="store_true", help="no naive DuckDB baseline (so no speed-up)")
    parser.add_argument("--skip-floor", action="store_true", help="no gunzip+parse floor")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON on stdout")
    parser.add_argument("--keep", action="store_true", help="keep the lake and the baseline's Parquet file")
    parser.add_argument("--repeat", type=harness.parse_count, default=1,
                        help="run each path this many times, alternating; report the fastest run and the "
                             "highest peak RSS (default 1)")
    parser.add_argument("--target", type=float, default=TARGET_RATIO,
                        help=f"pass when sovaudit's events/s >= TARGET x the naive baseline's (default "
                             f"{TARGET_RATIO:g})")
    parser.add_argument("--rss-limit-mb", type=float, default=RSS_LIMIT_MB,
                        help=f"pass when sovaudit's peak RSS is at most this many MiB (default {RSS_LIMIT_MB:,})")
    parser.add_argument("--flat-tolerance", type=float, default=FLAT_TOLERANCE,
                        help="with several --events: pass when the peak RSS at the largest is at most this share "
                             f"above that at the smallest (default {FLAT_TOLERANCE:g})")
    args = parser.parse_args(argv)
    sizes = sorted({n for group in (args.events or [[1_000_000]]) for n in group})
    record_sizes = [s for s in args.record_size.replace(" ", "").split(",") if s]
    unknown = [s for s in record_sizes if s not in synthetic_cloudtrail.RECORD_SIZES]
    if unknown or not record_sizes:
        parser.error(f"--record-size: {', '.join(unknown) or 'none given'}; choose from "
                     f"{', '.join(synthetic_cloudtrail.RECORD_SIZES)}")

    workdir = args.workdir.resolve()
    runs = []
    for record_size in dict.fromkeys(record_sizes):
        for events in sizes:
            run, code = measure_size(args, workdir, events, record_size)
            if code:
                return code
            runs.append(run)
    flatness = harness.rss_flatness(runs, args.flat_tolerance, "record_size")
    passed = (all(r["peak_rss_ok"] and r["speedup_met"] is not False for r in runs)
              and all(f["flat"] for f in flatness.values()))
    figures = {
        **harness.machine(),
        "repeat": args.repeat,
        "target_ratio": args.target,
        "peak_rss_limit_mb": args.rss_limit_mb,
        "flat_tolerance": args.flat_tolerance,
        "per_core": "events / CPU seconds of the process (user + sys, all its threads); the floor's is its work's",
        "runs": runs,
        "peak_rss_flatness": flatness,
        "target_met": passed,
    }
    if args.json:
        print(json.dumps(figures, indent=2))
        return 0 if passed else 1
    print(f"\n{figures['cpus']} CPUs, Python {figures['python']}"
          + (f"; fastest of {args.repeat} runs each, peak RSS the highest of them" if args.repeat > 1 else ""))
    print(harness.PER_CORE_NOTE)
    for run in runs:
        print_run(run, args.target, args.rss_limit_mb)
    harness.print_flatness(flatness, args.flat_tolerance, " records")
    print(f"\ntargets: {'all met' if passed else 'MISSED'}")
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
