"""What the ingest benchmarks share: running a child process and reading its own wall time, CPU time and peak RSS,
the gunzip+parse floor, and the figures each path prints (events/s, events/s per core).

Per core means per CPU-second: events / (user + sys CPU seconds of that process, all its threads). It says how
much work an event costs whatever the number of cores the process kept busy, and moves less than wall time on a
machine shared with other jobs.
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

# The floor: every file gunzipped with isal and split and extracted by the native extractor, on `threads` threads
# (both release the GIL), nothing written. Timed inside the child, after its imports. argv: a JSON list of files,
# the table whose field spec (queries/normalize/TABLE.fields.toml) to use, a spec as TOML text to use when the
# installed package has none for that table (or ""), the thread count.
FLOOR = r"""
import json, os, sys, time
from concurrent.futures import ThreadPoolExecutor
from isal import igzip
from sovaudit.ingest.extract import extract, load_spec, parse_spec

files, table, spec_text, threads = json.loads(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4])
try:
    spec, spec_source = load_spec(table), f"the package's {table}.fields.toml"
except OSError:
    if not spec_text:
        raise
    spec, spec_source = parse_spec(table, spec_text, "<benchmark floor spec>"), "the benchmark's own spec"

def one(path):
    with open(path, "rb") as handle:
        blob = igzip.decompress(handle.read())
    got = extract(blob, spec)
    return got.batch.num_rows, len(got.set_aside), len(blob)

started, cpu = time.perf_counter(), time.process_time()
with ThreadPoolExecutor(threads) as pool:
    results = list(pool.map(one, files))
seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
print(json.dumps({"rows": sum(r[0] for r in results), "set_aside": sum(r[1] for r in results),
                  "json_bytes": sum(r[2] for r in results), "files": len(files), "threads": threads,
                  "work_seconds": seconds, "work_cpu_s": cpu, "columns": len(spec.columns),
                  "spec": spec_source}))
"""


def parse_count(text: str) -> int:
    """1000000, 1_000_000, 1,000,000, 1M or 500k."""
    raw = text.strip().replace(",", "").replace("_", "")
    scale = {"k": 1_000, "m": 1_000_000}.get(raw[-1:].lower(), 1)
    try:
        value = int(raw[:-1] if scale > 1 else raw) * scale
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError("must be positive")
    return value


def parse_counts(text: str) -> list[int]:
    """`--events 1M,5M` (or 1_000_000,5_000_000); a comma between digits is a thousands separator."""
    parts = [p for p in text.replace(" ", "").split(",") if p]
    # "1,000,000" is one number; "1M,5M" or "20_000,40_000" are two: a lone group of three digits joins the last.
    merged: list[str] = []
    for part in parts:
        if merged and len(part) == 3 and part.isdigit() and merged[-1][-1:].isdigit():
            merged[-1] += part
        else:
            merged.append(part)
    return [parse_count(p) for p in merged]


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def measure(cmd: list[str], cwd: Path, label: str) -> dict:
    """Run cmd in a child process; wall seconds, the child's own peak RSS and CPU, exit code, stdout, stderr."""
    out_path = cwd / f"{label}.stdout"
    err_path = cwd / f"{label}.stderr"
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        started = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=cwd, stdout=out, stderr=err, stdin=subprocess.DEVNULL)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)  # tell Popen we reaped it
    return {
        "seconds": seconds,
        "peak_rss_mb": usage.ru_maxrss / 1024,  # Linux reports KiB: this is MiB
        "user_cpu_s": usage.ru_utime,
        "sys_cpu_s": usage.ru_stime,
        "exit_code": proc.returncode,
        "stdout": out_path.read_text(errors="replace"),
        "stderr": err_path.read_text(errors="replace"),
    }


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


def remove(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def du_mb(path: Path) -> float:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 2**20 if path.exists() else 0.0


def measured(cmd: list[str], run_dir: Path, label: str, output: Path, check, keep: bool) -> tuple[dict | None, int]:
    """Run `cmd` in its own process from a clean `output`, check its result, and tidy up unless `keep`."""
    remove(output)
    try:
        return check(measure(cmd, run_dir, label))
    finally:
        if not keep:
            remove(output)


def sovaudit_command(verb: list[str], data_dir: Path, lake: Path) -> list[str]:
    """`sovaudit pull VERB… --path DIR --lake LAKE --format json`, from this interpreter's environment."""
    script = Path(sys.executable).with_name("sovaudit")
    head = [str(script)] if script.exists() else [sys.executable, "-P", "-m", "sovaudit.cli"]
    return [*head, "pull", *verb, "--path", str(data_dir), "--lake", str(lake), "--format", "json"]


def check_pull(result: dict, lake: Path, events: int, verb: str) -> tuple[dict | None, int]:
    """The pull's printed counts: read == stored == events, no duplicate, nothing quarantined, exit 0."""
    try:
        report = json.loads(result["stdout"])
        counts = report[0]["counts"]
    except (ValueError, LookupError, TypeError) as exc:
        return None, fail(f"sovaudit pull {verb} exited {result['exit_code']}; could not parse its JSON output "
                          f"({exc})", result)
    if result["exit_code"] != 0:  # 3: partial (quarantined records or failed inputs)
        return None, fail(f"sovaudit pull {verb} exited {result['exit_code']} with counts {counts}", result)
    result["counts"] = counts
    result["blobs"] = report[0].get("blobs")
    if counts.get("stored") != events:
        return None, fail(f"pull {verb}: expected stored == {events:,}, got counts {counts}", result)
    if counts.get("quarantined") or counts.get("duplicate") or counts.get("read") != events:
        return None, fail(f"pull {verb}: unexpected counts {counts}", result)
    result["lake_mb"] = du_mb(lake)
    result["tables_mb"] = du_mb(lake / "tables")
    return result, 0


def floor_command(files: list[Path], table: str, spec_text: str = "", threads: int | None = None) -> list[str]:
    return [sys.executable, "-P", "-c", FLOOR, json.dumps([str(f) for f in files]), table, spec_text,
            str(threads or os.cpu_count() or 1)]


def check_floor(result: dict, events: int) -> tuple[dict | None, int]:
    if result["exit_code"] != 0:
        return None, fail(f"the gunzip+parse floor exited {result['exit_code']}", result)
    try:
        info = json.loads(result["stdout"].strip().splitlines()[-1])
    except (ValueError, IndexError) as exc:
        return None, fail(f"could not parse the floor's output ({exc})", result)
    if info["rows"] != events or info["set_aside"]:
        return None, fail(f"the floor extracted {info['rows']:,} rows ({info['set_aside']:,} set aside), "
                          f"expected {events:,}", result)
    result.update(info)
    # Its figures are the work alone: the child's start-up and imports are not the floor's.
    result["process_seconds"] = result["seconds"]
    result["seconds"] = info["work_seconds"]
    return result, 0


def run_floor(files: list[Path], table: str, spec_text: str, run_dir: Path, events: int) -> tuple[dict | None, int]:
    cmd = floor_command(files, table, spec_text)
    log(f"running: gunzip+parse floor (isal + native extractor, {cmd[-1]} threads, {len(files):,} files)")
    return check_floor(measure(cmd, run_dir, "floor"), events)


def rss_flatness(runs: list[dict], tolerance: float, group: str) -> dict:
    """Per value of `group` (record size, source), sovaudit's peak RSS at each size, and its growth from the smallest
    --events to the largest; flat when that growth is at most `tolerance`."""
    out = {}
    for key in dict.fromkeys(r[group] for r in runs):
        by_events = {r["events"]: r["results"]["sovaudit"]["peak_rss_mb"] for r in runs if r[group] == key}
        if len(by_events) < 2:
            continue
        low, high = by_events[min(by_events)], by_events[max(by_events)]
        growth = (high - low) / low
        out[key] = {"peak_rss_mb": {str(n): mb for n, mb in sorted(by_events.items())},
                    "growth": round(growth, 3), "flat": growth <= tolerance}
    return out


def print_flatness(flatness: dict, tolerance: float, what: str) -> None:
    for key, flat in flatness.items():
        steps = ", ".join(f"{int(n):,}: {mb:,.0f} MB" for n, mb in flat["peak_rss_mb"].items())
        print(f"\nsovaudit peak RSS, {key}{what}: {steps}; {flat['growth']:+.1%} from the smallest to the largest "
              f"(flat within {tolerance:.0%}: {'PASS' if flat['flat'] else 'FAIL'})")


def cpu_seconds(r: dict) -> float:
    """The floor's CPU is its work's (timed in the child); the others' the whole process's, from os.wait4."""
    return r["work_cpu_s"] if "work_cpu_s" in r else r["user_cpu_s"] + r["sys_cpu_s"]


def best(runs: list[dict]) -> dict:
    """The fastest run's figures, with the highest peak RSS of all runs and every run's seconds."""
    fastest = dict(min(runs, key=lambda r: r["seconds"]))
    fastest["peak_rss_mb"] = max(r["peak_rss_mb"] for r in runs)
    fastest["all_seconds"] = [round(r["seconds"], 3) for r in runs]
    return fastest


def figures(r: dict, events: int) -> dict:
    cpu = cpu_seconds(r)
    return {
        "seconds": round(r["seconds"], 3),
        "events_per_s": round(events / r["seconds"]),
        "cpu_s": round(cpu, 2),
        "events_per_cpu_s": round(events / cpu) if cpu > 0 else None,
        "cores_busy": round(cpu / r["seconds"], 2),
        "peak_rss_mb": round(r["peak_rss_mb"], 1),
        "user_cpu_s": round(r["user_cpu_s"], 2),
        "sys_cpu_s": round(r["sys_cpu_s"], 2),
        "all_seconds": r["all_seconds"],
    }


TABLE_HEAD = (f"{'path':<34} {'seconds':>8} {'events/s':>10} {'per core':>9} {'cores':>6} {'peak RSS MB':>12} "
              f"{'CPU s':>7}")
PER_CORE_NOTE = ("per core = events / CPU seconds of that process (user + sys, all threads); cores = CPU s / "
                 "seconds; peak RSS in MiB (ru_maxrss)")


def row(name: str, f: dict) -> str:
    per_core = f"{f['events_per_cpu_s']:>9,}" if f["events_per_cpu_s"] else f"{'-':>9}"
    return (f"{name:<34} {f['seconds']:>8.2f} {f['events_per_s']:>10,} {per_core} {f['cores_busy']:>6.2f} "
            f"{f['peak_rss_mb']:>12,.0f} {f['cpu_s']:>7.1f}")


def machine() -> dict:
    import platform

    return {"cpus": os.cpu_count(), "python": sys.version.split()[0], "platform": platform.platform(),
            "load_average": [round(x, 2) for x in os.getloadavg()]}
