"""Benchmark: `sovaudit pull cloudtrail --path` against a naive DuckDB read_json -> Parquet baseline.

    .venv/bin/python benchmarks/ingest_cloudtrail.py                       # 1,000,000 events
    .venv/bin/python benchmarks/ingest_cloudtrail.py --events 100_000 --json
    .venv/bin/python benchmarks/ingest_cloudtrail.py --events 400_000 --skip-baseline

1. Generates N synthetic CloudTrail events (benchmarks/synthetic_cloudtrail.py) as gzip'd
   `{"Records":[...]}` files of 5,000 records in WORKDIR/cloudtrail-N-seedS/ (reused when its marker
   file says the same N, seed and generator version; generation time is not measured).
2. Runs, each in its own subprocess, and reads wall time and the child's peak RSS (ru_maxrss from
   os.wait4, so the figure is that process's own, not this script's or an earlier child's):
     - sovaudit: `sovaudit pull cloudtrail --path DIR --lake FRESH_LAKE --format json`, then
       checks the printed counts (stored == N, nothing quarantined or duplicate);
     - naive:    DuckDB `COPY (SELECT unnest(Records, recursive := false) FROM read_json('DIR/*.json.gz'))
                 TO 'OUT.parquet' (FORMAT parquet)` with default settings.
3. Prints seconds, events/s and peak RSS for both, the time ratio sovaudit/naive and whether it
   meets the targets: sovaudit's events/s at least 2.5x the naive baseline's, peak RSS under 1.5 GB.
   `--json` prints the figures as JSON.

Both paths read the same files from a warm page cache (they were just generated or read).
Exit status: 0 measured (target met, or baseline skipped), 1 target missed, 2 a run failed.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import synthetic_cloudtrail  # noqa: E402  (sibling module; benchmarks/ is not a package)

TARGET_RATIO = 2.5  # sovaudit events/s over the naive baseline's, same run
RSS_LIMIT_MB = 1500

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


def parse_count(text: str) -> int:
    """1000000, 1_000_000 or 1,000,000."""
    try:
        value = int(text.replace(",", "").replace("_", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError("must be positive")
    return value


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def measure(cmd: list[str], cwd: Path, label: str, env: dict[str, str] | None = None) -> dict:
    """Run cmd in a child process; wall seconds, the child's own peak RSS, exit code, stdout, stderr."""
    out_path = cwd / f"{label}.stdout"
    err_path = cwd / f"{label}.stderr"
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        started = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=cwd, stdout=out, stderr=err, stdin=subprocess.DEVNULL, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)  # tell Popen we reaped it
    return {
        "seconds": seconds,
        "peak_rss_mb": usage.ru_maxrss / 1024,  # Linux reports KiB
        "user_cpu_s": usage.ru_utime,
        "sys_cpu_s": usage.ru_stime,
        "exit_code": proc.returncode,
        "stdout": out_path.read_text(errors="replace"),
        "stderr": err_path.read_text(errors="replace"),
    }


def sovaudit_command(data_dir: Path, lake: Path) -> list[str]:
    script = Path(sys.executable).with_name("sovaudit")
    head = [str(script)] if script.exists() else [sys.executable, "-P", "-m", "sovaudit.cli"]
    return [*head, "pull", "cloudtrail", "--path", str(data_dir), "--lake", str(lake), "--format", "json"]


def unnest_form() -> str:
    """`recursive := false` when this DuckDB accepts it, else plain unnest (probed on a literal, not timed)."""
    import duckdb

    try:
        duckdb.connect().sql("SELECT unnest([{'a': {'b': 1}}], recursive := false)").fetchall()
        return "recursive_false"
    except duckdb.Error:
        return "plain"


def fail(message: str, result: dict | None = None) -> int:
    log(f"error: {message}")
    if result is not None:
        log(f"  exit code {result['exit_code']} after {result['seconds']:.1f}s")
        for name in ("stdout", "stderr"):
            tail = result[name].strip().splitlines()[-25:]
            if tail:
                log(f"  --- {name} (last {len(tail)} lines) ---")
                for line in tail:
                    log(f"  {line}")
    return 2


def _remove(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def _measured(cmd: list[str], run_dir: Path, label: str, output: Path, check, keep: bool) -> tuple[dict | None, int]:
    """Run `cmd` in its own process from a clean `output`, check its result, and tidy up unless `keep`."""
    _remove(output)
    try:
        return check(measure(cmd, run_dir, label))
    finally:
        if not keep:
            _remove(output)


def run_sovaudit(data_dir: Path, run_dir: Path, events: int, keep: bool = False) -> tuple[dict | None, int]:
    lake = run_dir / "lake"
    cmd = sovaudit_command(data_dir, lake)
    log(f"running: {' '.join(cmd)}")
    # cwd=run_dir: no ./sovaudit.toml of the caller's is picked up; $SOVAUDIT_LAKE is overridden by --lake.
    return _measured(cmd, run_dir, "sovaudit", lake, lambda result: _check_sovaudit(result, lake, events), keep)


def _check_sovaudit(result: dict, lake: Path, events: int) -> tuple[dict | None, int]:
    try:
        report = json.loads(result["stdout"])
        counts = report[0]["counts"]
    except (ValueError, LookupError, TypeError) as exc:
        return None, fail(f"sovaudit pull exited {result['exit_code']}; could not parse its JSON output ({exc})",
                          result)
    if result["exit_code"] != 0:  # 3: partial (quarantined records or failed inputs)
        return None, fail(f"sovaudit pull exited {result['exit_code']} with counts {counts}", result)
    result["counts"] = counts
    result["blobs"] = report[0].get("blobs")
    if counts.get("stored") != events:
        return None, fail(f"expected stored == {events:,}, got counts {counts}", result)
    if counts.get("quarantined") or counts.get("duplicate") or counts.get("read") != events:
        return None, fail(f"unexpected counts {counts}", result)
    result["lake_mb"] = _du_mb(lake)
    result["tables_mb"] = _du_mb(lake / "tables")
    return result, 0


def run_baseline(data_dir: Path, run_dir: Path, events: int, keep: bool = False) -> tuple[dict | None, int]:
    out = run_dir / "naive.parquet"
    form = unnest_form()
    cmd = [sys.executable, "-P", "-c", _BASELINE, f"{data_dir}/*.json.gz", str(out), form]
    log(f"running: naive DuckDB baseline ({'unnest(Records, recursive := false)' if form == 'recursive_false' else 'unnest(Records) AS r'})")
    return _measured(cmd, run_dir, "naive", out, lambda result: _check_baseline(result, out, events), keep)


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


def _du_mb(path: Path) -> float:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 2**20 if path.exists() else 0.0


def _row(name: str, r: dict, events: int) -> str:
    cpu = r["user_cpu_s"] + r["sys_cpu_s"]
    return f"{name:<16} {r['seconds']:>9.2f} {events / r['seconds']:>12,.0f} {r['peak_rss_mb']:>12,.0f} {cpu:>8.1f}"


def _best(runs: list[dict]) -> dict:
    """The fastest run's figures, with the highest peak RSS of all runs and every run's seconds."""
    best = dict(min(runs, key=lambda r: r["seconds"]))
    best["peak_rss_mb"] = max(r["peak_rss_mb"] for r in runs)
    best["all_seconds"] = [round(r["seconds"], 3) for r in runs]
    return best


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=parse_count, default=1_000_000,
                        help="number of events (underscores/commas allowed; default 1_000_000)")
    parser.add_argument("--workdir", type=Path, default=Path("./bench-work"),
                        help="generated data and run outputs (default ./bench-work); data is reused")
    parser.add_argument("--seed", type=int, default=42, help="generator seed (default 42)")
    parser.add_argument("--skip-baseline", action="store_true", help="time sovaudit only")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON on stdout")
    parser.add_argument("--keep", action="store_true", help="keep the lake and the baseline's Parquet file")
    parser.add_argument("--repeat", type=parse_count, default=1,
                        help="run each path this many times, alternating; report the fastest run and the "
                             "highest peak RSS (default 1)")
    parser.add_argument("--target", type=float, default=TARGET_RATIO,
                        help=f"pass when sovaudit seconds <= TARGET x naive seconds (default {TARGET_RATIO})")
    args = parser.parse_args(argv)

    workdir = args.workdir.resolve()
    data_dir = workdir / f"cloudtrail-{args.events}-seed{args.seed}"
    log(f"data: {data_dir}")
    info = synthetic_cloudtrail.generate(data_dir, args.events, seed=args.seed, log=log)
    log(f"  {'reused' if info['reused'] else 'generated'} {info['files']:,} files, {info['events']:,} events, "
        f"{info['json_bytes'] / 1e6:,.0f} MB JSON ({info['avg_record_bytes']:,.0f} B/record), "
        f"{info['gzip_bytes'] / 1e6:,.0f} MB gzip"
        + ("" if info["reused"] else f", {info['generation_seconds']:.0f}s"))

    run_dir = workdir / "runs" / f"{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}"
    run_dir.mkdir(parents=True)
    sov_runs: list[dict] = []
    naive_runs: list[dict] = []
    for attempt in range(args.repeat):
        keep = args.keep and attempt == args.repeat - 1
        result, code = run_sovaudit(data_dir, run_dir, args.events, keep)
        if code:
            return code
        sov_runs.append(result)
        log(f"  sovaudit: {result['seconds']:.2f}s, peak RSS {result['peak_rss_mb']:,.0f} MB")
        if not args.skip_baseline:
            result, code = run_baseline(data_dir, run_dir, args.events, keep)
            if code:
                return code
            naive_runs.append(result)
            log(f"  naive:    {result['seconds']:.2f}s, peak RSS {result['peak_rss_mb']:,.0f} MB")
    sov = _best(sov_runs)
    naive = _best(naive_runs) if naive_runs else None

    ratio = naive["seconds"] / sov["seconds"] if naive else None  # speed-up: events/s sovaudit / naive
    rss_ok = sov["peak_rss_mb"] < RSS_LIMIT_MB
    passed = (ratio >= args.target and rss_ok) if ratio is not None else rss_ok
    figures = {
        "events": args.events,
        "files": info["files"],
        "json_mb": round(info["json_bytes"] / 1e6, 1),
        "gzip_mb": round(info["gzip_bytes"] / 1e6, 1),
        "avg_record_bytes": info["avg_record_bytes"],
        "cpus": os.cpu_count(),
        "repeat": args.repeat,
        "python": sys.version.split()[0],
        "results": {
            "sovaudit": _figures(sov, args.events) | {"counts": sov["counts"], "lake_mb": round(sov["lake_mb"], 1),
                                                      "tables_mb": round(sov["tables_mb"], 1)},
        },
        "speedup_sovaudit_over_naive": round(ratio, 3) if ratio is not None else None,
        "peak_rss_limit_mb": RSS_LIMIT_MB,
        "peak_rss_ok": rss_ok,
        "rss_ratio_sovaudit_over_naive": round(sov["peak_rss_mb"] / naive["peak_rss_mb"], 3) if naive else None,
        "target_ratio": args.target,
        "target_met": passed,
        "run_dir": str(run_dir),
    }
    if naive:
        figures["results"]["naive_duckdb"] = _figures(naive, args.events) | {
            "duckdb": naive["duckdb"], "sql": naive["sql"], "parquet_mb": round(naive["parquet_mb"], 1)}

    if args.json:
        print(json.dumps(figures, indent=2))
    else:
        print()
        print(f"{args.events:,} events in {info['files']:,} files ({figures['json_mb']:,.0f} MB JSON, "
              f"{figures['gzip_mb']:,.0f} MB gzip), {os.cpu_count()} CPUs")
        if args.repeat > 1:
            print(f"fastest of {args.repeat} runs each; peak RSS is the highest of the runs")
        print(f"{'path':<16} {'seconds':>9} {'events/s':>12} {'peak RSS MB':>12} {'CPU s':>8}")
        print(_row("sovaudit pull", sov, args.events))
        if naive:
            print(_row("naive duckdb", naive, args.events))
            print(f"speed-up sovaudit/naive: {ratio:.2f}x events/s "
                  f"(target >= {args.target:g}x: {'PASS' if ratio >= args.target else 'FAIL'})")
        else:
            print("naive baseline skipped (--skip-baseline): no ratio")
        print(f"peak RSS {sov['peak_rss_mb']:,.0f} MB (target < {RSS_LIMIT_MB:,} MB: {'PASS' if rss_ok else 'FAIL'})")
    return 1 if passed is False else 0


def _figures(r: dict, events: int) -> dict:
    return {
        "seconds": round(r["seconds"], 3),
        "events_per_s": round(events / r["seconds"]),
        "peak_rss_mb": round(r["peak_rss_mb"], 1),
        "user_cpu_s": round(r["user_cpu_s"], 2),
        "sys_cpu_s": round(r["sys_cpu_s"], 2),
        "all_seconds": r["all_seconds"],
    }


if __name__ == "__main__":
    sys.exit(main())
