"""Record extraction alone, on the same decoded blobs, measured in the same run: the native extractor (one thread,
and two blobs at once on two threads), the careful path's Python split (the standard library's json per record,
sovaudit.ingest.records, records handed to a sink that keeps nothing), the same on the records as JSON lines (where that split is linear: on a
{"Records": [...]} blob it finds each record's byte offset by encoding the text before it, quadratic in the blob),
and DuckDB's read_json over the blobs' record arrays with the normalize SQL's columns and nested extractions, to Arrow.

    python benchmarks/extract.py [--events 100_000] [--repeat 3] [--json] [--workdir bench-work]

Each contender runs in its own process, which first loads and gunzips every blob (not timed); its peak RSS is
read from os.wait4 and printed with what it grew by while it ran. Events/s is the best of --repeat passes in wall
time, events/CPU-s the best in the process's CPU time (all its threads), steadier on a machine shared with others.
"""

import argparse
import gzip
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

CONTENDERS = ("native", "native-2-threads", "python-json", "python-json-lines", "duckdb-read-json")
# The nested fields the normalize SQL extracts with json_extract_string (queries/normalize/cloudtrail.sql).
NESTED = """json_extract_string(userIdentity, ['$.type', '$.arn', '$.principalId', '$.accountId', '$.invokedBy',
    '$.accessKeyId', '$.userName', '$.sessionContext.sessionIssuer.arn']) AS _ui,
  json_extract_string(requestParameters, ['$.bucketName', '$.key', '$."x-amz-copy-source"', '$.Host', '$.keyId',
    '$."x-amz-server-side-encryption-aws-kms-key-id"', '$.replicaRegion']) AS _rp,
  json_extract_string(additionalEventData, ['$.bytesTransferredOut', '$.SSEKMSKeyId']) AS _ad,
  json_extract_string(responseElements, ['$.ConsoleLogin', '$.replicaKeyMetadata.arn']) AS _re"""


def _blobs(data_dir: Path) -> list[bytes]:
    return [gzip.decompress(p.read_bytes()) for p in sorted(data_dir.glob("*.json.gz"))]


def _native(blobs, threads: int):
    from sovaudit.ingest.extract import extract, load_spec

    spec = load_spec("cloudtrail")

    def run():
        if threads == 1:
            return sum(extract(b, spec).batch.num_rows for b in blobs)
        with ThreadPoolExecutor(threads) as pool:
            return sum(e.batch.num_rows for e in pool.map(lambda b: extract(b, spec), blobs))
    return run


def _as_lines(blobs):
    """The same records as JSON lines (converted before the clock starts): the careful path's linear case."""
    return [b"\n".join(json.dumps(r, separators=(",", ":")).encode() for r in json.loads(b)["Records"]) + b"\n"
            for b in blobs]


def _python(blobs):
    from sovaudit.ingest.records import split_records

    class Count:
        n = 0

        def add(self, index, offset, span, value):
            self.n += 1

    def run():
        total = 0
        for blob in blobs:
            sink = Count()
            split_records(blob, sink, (("Records",),))
            total += sink.n
        return total
    return run


def _duckdb(blobs, tmp: Path):
    import duckdb

    sql = (ROOT / "queries" / "normalize" / "cloudtrail.sql").read_text()
    columns = re.search(r"columns = (\{.*?\})\s*\)", sql, re.S).group(1)
    paths = []
    for i, blob in enumerate(blobs):  # the fast path's slice: the Records array as delivered
        path = tmp / f"slice-{i}.json"
        path.write_bytes(blob[blob.index(b"[") : blob.rindex(b"]") + 1])
        paths.append(str(path))
    con = duckdb.connect()

    def run():
        total = 0
        for path in paths:  # one statement per blob, as the ingest path runs them
            table = con.sql(f"SELECT *, {NESTED} FROM read_json('{path}', format = 'array', "  # noqa: S608
                            f"columns = {columns})").to_arrow_table()
            total += table.num_rows
        return total
    return run


def child(name: str, data_dir: Path, repeat: int) -> None:
    blobs = _blobs(data_dir)
    loaded_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with tempfile.TemporaryDirectory() as tmp:
        run = {"native": lambda: _native(blobs, 1), "native-2-threads": lambda: _native(blobs, 2),
               "python-json": lambda: _python(blobs),
               "python-json-lines": lambda: _python(_as_lines(blobs)), "duckdb-read-json": lambda: _duckdb(blobs, Path(tmp))}[name]()
        best, cpu, events = float("inf"), float("inf"), 0
        for _ in range(repeat):
            started, started_cpu = time.perf_counter(), time.process_time()
            events = run()
            best = min(best, time.perf_counter() - started)
            cpu = min(cpu, time.process_time() - started_cpu)
    print(json.dumps({"seconds": best, "cpu_seconds": cpu, "events": events, "bytes": sum(map(len, blobs)),
                      "loaded_kb": loaded_kb}))


def measure(name: str, data_dir: Path, repeat: int) -> dict:
    proc = subprocess.Popen([sys.executable, __file__, "--child", name, "--data", str(data_dir),
                             "--repeat", str(repeat)], stdout=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    if status:
        raise SystemExit(f"{name} failed")
    figures = json.loads(out)
    return {"contender": name, "events": figures["events"], "seconds": round(figures["seconds"], 3),
            "events_per_s": round(figures["events"] / figures["seconds"]),
            "mb_per_s": round(figures["bytes"] / figures["seconds"] / 1e6, 1),
            "cpu_seconds": round(figures["cpu_seconds"], 3),
            "events_per_cpu_s": round(figures["events"] / figures["cpu_seconds"]),
            "peak_rss_mb": round(usage.ru_maxrss / 1024), "grew_mb": round((usage.ru_maxrss - figures["loaded_kb"]) / 1024)}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=lambda s: int(s.replace("_", "").replace(",", "")), default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--workdir", type=Path, default=ROOT / "bench-work")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--child", choices=CONTENDERS)
    parser.add_argument("--data", type=Path)
    args = parser.parse_args(argv)
    if args.child:
        child(args.child, args.data, args.repeat)
        return 0
    import synthetic_cloudtrail

    data_dir = args.workdir / synthetic_cloudtrail.data_dir_name(args.events, 42)
    info = synthetic_cloudtrail.generate(data_dir, args.events, log=lambda m: print(m, file=sys.stderr))
    results = [measure(name, data_dir, args.repeat) for name in CONTENDERS]
    if args.json:
        print(json.dumps({"data": info, "load_average": os.getloadavg(), "results": results}, indent=2))
        return 0
    print(f"{info['events']:,} events, {info['avg_record_bytes']} B a record, {info['files']} blobs; "
          f"load average {os.getloadavg()[0]:.2f}, {os.cpu_count()} cores")
    print(f"{'contender':<18} {'events/s':>10} {'MB/s':>7} {'seconds':>8} {'events/CPU-s':>13} {'peak RSS':>9} "
          f"{'grew':>7}")
    for r in results:
        print(f"{r['contender']:<18} {r['events_per_s']:>10,} {r['mb_per_s']:>7} {r['seconds']:>8} "
              f"{r['events_per_cpu_s']:>13,} {r['peak_rss_mb']:>6} MB {r['grew_mb']:>4} MB")
    native = results[0]["events_per_s"]
    for r in results[2:]:
        print(f"native (1 thread) / {r['contender']}: {native / r['events_per_s']:.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
