"""Benchmark: the Azure and Kafka file pulls (`sovaudit pull azure --path`, `pull kafka-audit --path`,
`pull kafka-lineage --path`) against a naive DuckDB read_json -> Parquet baseline and a gunzip+parse floor, each
measured in the same run, with the figures of benchmarks/ingest_cloudtrail.py.

    .venv/bin/python -P benchmarks/ingest_files.py                                  # every source, 1,000,000 events
    .venv/bin/python -P benchmarks/ingest_files.py --source azure --events 100_000 --json
    .venv/bin/python -P benchmarks/ingest_files.py --source kafka-audit --events 1M,5M --skip-baseline

1. Generates N seeded synthetic records a source (synthetic_azure.py: Key Vault AuditEvent and activity-log
   records, half the files JSON lines and half {"records": [...]}; synthetic_kafka.py: Confluent audit
   CloudEvents, or lineage header records, as NDJSON), gzip'd, 5,000 a file, in WORKDIR/<source>-N-seedS/
   (reused when its marker says the same parameters; generation is not timed).
2. Runs, each in its own subprocess (wall time, CPU time and peak RSS from os.wait4):
     - sovaudit: `sovaudit pull <verb> --path DIR --lake FRESH_LAKE --format json` (kafka-*: `--region
       eu-west-1`), then checks the printed counts (read == stored == N, no duplicate, nothing quarantined);
     - naive:    one DuckDB `COPY (SELECT * FROM read_json(GLOB, format = 'newline_delimited')) TO parquet` per
                 kind and shape of file (Azure: `SELECT unnest(records, recursive := false) FROM read_json(GLOB)`
                 for the {"records": [...]} files), default settings, in one process;
     - floor:    isal gunzip of every file and the native extractor over it on as many threads as cores, nothing
                 written, with the table's field spec when the installed package has one
                 (queries/normalize/<table>.fields.toml), else this benchmark's (the fields the normalize SQL reads).
3. Prints seconds, events/s, events/s per core (events / CPU seconds of the process), peak RSS; the speed-up
   sovaudit/naive (pass/fail only with --target), sovaudit's share of the floor, its peak RSS against the limit
   and, with several --events, whether that stays flat.

Exit status: 0 measured and the targets met, 1 a target missed, 2 a run failed.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness  # noqa: E402  (sibling modules; benchmarks/ is not a package)
import synthetic_azure  # noqa: E402
import synthetic_kafka  # noqa: E402
from harness import fail, log  # noqa: E402

RSS_LIMIT_MB = 1024  # 1 GiB, as for CloudTrail
FLAT_TOLERANCE = 0.15
REGION = "eu-west-1"  # the Kafka cluster's (the file pulls need it)

# Runs in its own interpreter so its peak RSS is DuckDB's alone. argv: a JSON list of [select, output file].
_BASELINE = r"""
import json, os, sys
import duckdb

con = duckdb.connect()
con.execute("SET enable_progress_bar = false")
try:  # probed on a literal, before any statement is timed (the parent times the whole process)
    con.sql("SELECT unnest([{'a': {'b': 1}}], recursive := false)").fetchall()
    unnest = "unnest(records, recursive := false)"
except duckdb.Error:
    unnest = "unnest(records) AS r"
rows, sqls = 0, []
for select, out in json.loads(sys.argv[1]):
    os.makedirs(os.path.dirname(out), exist_ok=True)
    sql = f"COPY ({select.replace('UNNEST_RECORDS', unnest)}) TO '{out}' (FORMAT parquet)"
    rows += con.execute(sql).fetchone()[0]
    sqls.append(sql)
print(json.dumps({"rows": rows, "sql": sqls, "duckdb": duckdb.__version__}))
"""

# The floor's spec when the package has none for the table: the members the normalize SQL reads, scalars as
# strings and nested objects as their raw JSON, so that every record is scanned whole.
_AZURE_SPEC = """
wrappers = ["records", "value"]
[columns]
time = { path = "time", type = "string" }
_time = { path = "time", type = "timestamp" }
resourceId = { path = "resourceId", type = "string" }
operationName = { path = "operationName", type = "string" }
category = { path = "category", type = "string" }
resultType = { path = "resultType", type = "string" }
resultSignature = { path = "resultSignature", type = "string" }
durationMs = { path = "durationMs", type = "string" }
callerIpAddress = { path = "callerIpAddress", type = "string" }
correlationId = { path = "correlationId", type = "string" }
identity = { path = "identity", type = "json" }
level = { path = "level", type = "string" }
location = { path = "location", type = "string" }
properties = { path = "properties", type = "json" }
operationVersion = { path = "operationVersion", type = "string" }
event_data_id = { path = "properties.eventDataId", type = "string" }
"""
_KAFKA_AUDIT_SPEC = """
wrappers = []
[columns]
id = { path = "id", type = "string" }
source = { path = "source", type = "string" }
specversion = { path = "specversion", type = "string" }
type = { path = "type", type = "string" }
time = { path = "time", type = "string" }
_time = { path = "time", type = "timestamp" }
subject = { path = "subject", type = "string" }
data = { path = "data", type = "json" }
method = { path = "data.methodName", type = "string" }
resource = { path = "data.resourceName", type = "string" }
principal = { path = "data.authenticationInfo.principal", type = "string" }
granted = { path = "data.authorizationInfo.granted", type = "bool" }
operation = { path = "data.authorizationInfo.operation", type = "string" }
client_id = { path = "data.request.client_id", type = "string" }
client_address = { path = "data.requestMetadata.client_address", type = "string" }
"""


@dataclass(frozen=True)
class Source:
    name: str
    verb: tuple[str, ...]
    floor_table: str
    floor_spec: str

    def data_dir(self, workdir: Path, events: int, seed: int, shapes: tuple[str, ...]) -> Path:
        if self.name == "azure":
            return workdir / synthetic_azure.data_dir_name(events, seed, shapes)
        return workdir / synthetic_kafka.data_dir_name(self.kind, events, seed)

    @property
    def kind(self) -> str:
        return self.name.removeprefix("kafka-")

    def generate(self, data_dir: Path, events: int, seed: int, shapes: tuple[str, ...]) -> dict:
        if self.name == "azure":
            return synthetic_azure.generate(data_dir, events, seed=seed, shapes=shapes, log=log)
        return synthetic_kafka.generate(self.kind, data_dir, events, seed=seed, log=log)

    def files(self, data_dir: Path) -> list[Path]:
        return sorted(data_dir.rglob("*.gz"))

    def naive_selects(self, data_dir: Path) -> list[str]:
        """One SELECT per kind and shape of file present (a glob that matches nothing is an error in DuckDB)."""
        lines = "SELECT * FROM read_json('{}', format = 'newline_delimited')"
        if self.name == "azure":
            globs = [(lines, "insights-activity-logs"), (lines, "insights-logs-auditevent"),
                     ("SELECT UNNEST_RECORDS FROM read_json('{}')", "eventhub-records/activity"),
                     ("SELECT UNNEST_RECORDS FROM read_json('{}')", "eventhub-records/auditevent")]
        else:
            globs = [(lines, self.kind)]
        return [select.format(f"{data_dir}/{folder}/**/*.gz") for select, folder in globs
                if any((data_dir / folder).rglob("*.gz"))]


SOURCES = {
    "azure": Source("azure", ("azure",), "azure", _AZURE_SPEC),
    "kafka-audit": Source("kafka-audit", ("kafka-audit", "--region", REGION), "kafka_audit", _KAFKA_AUDIT_SPEC),
    "kafka-lineage": Source("kafka-lineage", ("kafka-lineage", "--region", REGION), "kafka_lineage", ""),
}


def run_sovaudit(source: Source, data_dir: Path, run_dir: Path, events: int, keep: bool) -> tuple[dict | None, int]:
    lake = run_dir / "lake"
    cmd = harness.sovaudit_command(list(source.verb), data_dir, lake)
    log(f"running: {' '.join(cmd)}")
    return harness.measured(cmd, run_dir, "sovaudit", lake,
                            lambda result: harness.check_pull(result, lake, events, source.name), keep)


def run_baseline(source: Source, data_dir: Path, run_dir: Path, events: int, keep: bool) -> tuple[dict | None, int]:
    out = run_dir / "naive"  # made by the child: `measured` clears it first
    statements = [[select, str(out / f"part-{i}.parquet")] for i, select in enumerate(source.naive_selects(data_dir))]
    cmd = [sys.executable, "-P", "-c", _BASELINE, json.dumps(statements)]
    log(f"running: naive DuckDB baseline ({len(statements)} COPY statements)")

    def check(result: dict) -> tuple[dict | None, int]:
        if result["exit_code"] != 0:
            return None, fail(f"naive DuckDB baseline exited {result['exit_code']}", result)
        try:
            info = json.loads(result["stdout"].strip().splitlines()[-1])
        except (ValueError, IndexError) as exc:
            return None, fail(f"could not parse the baseline's output ({exc})", result)
        result.update(info)
        if info["rows"] != events:
            return None, fail(f"naive baseline wrote {info['rows']:,} rows, expected {events:,}", result)
        result["parquet_mb"] = harness.du_mb(out)
        return result, 0
    return harness.measured(cmd, run_dir, "naive", out, check, keep)


def run_floor(source: Source, data_dir: Path, run_dir: Path, events: int, keep: bool) -> tuple[dict | None, int]:
    return harness.run_floor(source.files(data_dir), source.floor_table, source.floor_spec, run_dir, events)


def measure_source(args: argparse.Namespace, workdir: Path, source: Source, events: int) -> tuple[dict | None, int]:
    data_dir = source.data_dir(workdir, events, args.seed, args.azure_shape)
    log(f"data: {data_dir}")
    try:
        info = source.generate(data_dir, events, args.seed, args.azure_shape)
    except ValueError as exc:  # file names that would clash at this size
        return None, fail(str(exc))
    log(f"  {'reused' if info['reused'] else 'generated'} {info['files']:,} files, {info['events']:,} records, "
        f"{info['json_bytes'] / 1e6:,.0f} MB JSON ({info['avg_record_bytes']:,.0f} B/record), "
        f"{info['gzip_bytes'] / 1e6:,.1f} MB gzip" + ("" if info["reused"] else f", {info['generation_seconds']:.0f}s"))
    run_dir = workdir / "runs" / f"{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}-{source.name}-{events}"
    run_dir.mkdir(parents=True)
    paths = [("sovaudit", run_sovaudit)]
    if not args.skip_baseline:
        paths.append(("naive_duckdb", run_baseline))
    if not args.skip_floor:
        paths.append(("floor", run_floor))
    runs: dict[str, list[dict]] = {name: [] for name, _ in paths}
    load_before = harness.machine()["load_average"]
    for attempt in range(args.repeat):
        keep = args.keep and attempt == args.repeat - 1
        for name, run in paths:
            result, code = run(source, data_dir, run_dir, events, keep)
            if code:
                return None, code
            runs[name].append(result)
            log(f"  {name}: {result['seconds']:.2f}s, peak RSS {result['peak_rss_mb']:,.0f} MB")
    fastest = {name: harness.best(r) for name, r in runs.items()}
    sov, naive, floor = fastest["sovaudit"], fastest.get("naive_duckdb"), fastest.get("floor")
    speedup = naive["seconds"] / sov["seconds"] if naive else None
    of_floor = floor["seconds"] / sov["seconds"] if floor else None
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
        "source": source.name,
        "azure_shape": info.get("shapes"),
        "events": events,
        "files": info["files"],
        "json_mb": round(info["json_bytes"] / 1e6, 1),
        "gzip_mb": round(info["gzip_bytes"] / 1e6, 1),
        "avg_record_bytes": info["avg_record_bytes"],
        "generator_version": info["generator_version"],
        "load_average_before": load_before,
        "load_average_after": harness.machine()["load_average"],
        "results": results,
        "speedup_sovaudit_over_naive": round(speedup, 3) if speedup is not None else None,
        "speedup_met": (speedup >= args.target) if speedup is not None and args.target is not None else None,
        "ratio_sovaudit_over_floor": round(of_floor, 3) if of_floor is not None else None,
        "peak_rss_ok": sov["peak_rss_mb"] <= args.rss_limit_mb,
        "run_dir": str(run_dir),
    }, 0


def print_run(run: dict, target: float | None, rss_limit: float) -> None:
    r = run["results"]
    print()
    shape = f", {run['azure_shape']} files" if run["azure_shape"] else ""
    print(f"pull {run['source']} --path: {run['events']:,} records{shape} ({run['avg_record_bytes']:,.0f} B average), "
          f"{run['files']:,} files ({run['json_mb']:,.1f} MB JSON, {run['gzip_mb']:,.1f} MB gzip); "
          f"load average {run['load_average_before'][0]:.2f} before, {run['load_average_after'][0]:.2f} after")
    print(harness.TABLE_HEAD)
    print(harness.row(f"sovaudit pull {run['source']}", r["sovaudit"]))
    if "naive_duckdb" in r:
        print(harness.row("naive duckdb", r["naive_duckdb"]))
    if "floor" in r:
        print(harness.row(f"floor: gunzip+parse, {r['floor']['threads']} threads", r["floor"]))
        print(f"  (floor spec: {r['floor']['spec']}, {r['floor']['columns']} columns)")
    speedup = run["speedup_sovaudit_over_naive"]
    if speedup is not None:
        verdict = "" if target is None else f" (target >= {target:g}x: {'PASS' if run['speedup_met'] else 'FAIL'})"
        print(f"speed-up sovaudit/naive: {speedup:.2f}x events/s{verdict}")
    else:
        print("naive baseline skipped (--skip-baseline): no speed-up")
    if run["ratio_sovaudit_over_floor"] is not None:
        print(f"sovaudit/floor: {run['ratio_sovaudit_over_floor']:.3f} (sovaudit events/s / floor events/s)")
    print(f"sovaudit peak RSS {r['sovaudit']['peak_rss_mb']:,.0f} MB (limit <= {rss_limit:,.0f} MB: "
          f"{'PASS' if run['peak_rss_ok'] else 'FAIL'})")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--source", default=",".join(SOURCES),
                        help=f"which pulls, comma-separated: {', '.join(SOURCES)} (default all)")
    parser.add_argument("--events", type=harness.parse_counts, action="append",
                        help="records a source: 1_000_000, 1,000,000 or 1M; repeat it or list sizes (1M,5M) to "
                             "see whether peak RSS stays flat (default 1M)")
    parser.add_argument("--workdir", type=Path, default=Path("./bench-work"),
                        help="generated data and run outputs (default ./bench-work); data is reused")
    parser.add_argument("--azure-shape", default="lines,records",
                        help="Azure files as JSON lines, {\"records\": [...]} objects, or both, half the files "
                             "each (lines,records: the default)")
    parser.add_argument("--seed", type=int, default=42, help="generator seed (default 42)")
    parser.add_argument("--skip-baseline", action="store_true", help="no naive DuckDB baseline (so no speed-up)")
    parser.add_argument("--skip-floor", action="store_true", help="no gunzip+parse floor")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON on stdout")
    parser.add_argument("--keep", action="store_true", help="keep the lakes and the baseline's Parquet files")
    parser.add_argument("--repeat", type=harness.parse_count, default=1,
                        help="run each path this many times, alternating; report the fastest run and the "
                             "highest peak RSS (default 1)")
    parser.add_argument("--target", type=float, default=None,
                        help="pass only when sovaudit's events/s >= TARGET x the naive baseline's (default: "
                             "the speed-up is reported, not judged)")
    parser.add_argument("--rss-limit-mb", type=float, default=RSS_LIMIT_MB,
                        help=f"pass when sovaudit's peak RSS is at most this many MiB (default {RSS_LIMIT_MB:,})")
    parser.add_argument("--flat-tolerance", type=float, default=FLAT_TOLERANCE,
                        help="with several --events: pass when the peak RSS at the largest is at most this share "
                             f"above that at the smallest (default {FLAT_TOLERANCE:g})")
    args = parser.parse_args(argv)
    names = [s for s in args.source.replace(" ", "").split(",") if s]
    unknown = [s for s in names if s not in SOURCES]
    if unknown or not names:
        parser.error(f"--source: {', '.join(unknown) or 'none given'}; choose from {', '.join(SOURCES)}")
    sizes = sorted({n for group in (args.events or [[1_000_000]]) for n in group})
    args.azure_shape = tuple(s for s in args.azure_shape.replace(" ", "").split(",") if s)
    if not args.azure_shape or set(args.azure_shape) - set(synthetic_azure.SHAPES):
        parser.error(f"--azure-shape: choose from {', '.join(synthetic_azure.SHAPES)}")

    workdir = args.workdir.resolve()
    runs = []
    for name in dict.fromkeys(names):
        for events in sizes:
            run, code = measure_source(args, workdir, SOURCES[name], events)
            if code:
                return code
            runs.append(run)
    flatness = harness.rss_flatness(runs, args.flat_tolerance, "source")
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
    harness.print_flatness(flatness, args.flat_tolerance, "")
    print(f"\ntargets: {'all met' if passed else 'MISSED'}")
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
