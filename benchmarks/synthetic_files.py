"""Writing a seeded synthetic data set as files, in parallel, once: what synthetic_azure.py and synthetic_kafka.py
share. A data set is a directory with a marker file; when the marker says the same parameters, it is reused.

Each file is made by `make(seed, index, count, n_files)` from its own seeded RNG, so the output is byte-identical
for the same parameters whatever the number of worker processes. `make` returns (relative path, records as
bytes already joined); the file is written gzip'd (isal, level 1, mtime 0).
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

try:
    from isal import igzip as _gzip
except ImportError:  # pragma: no cover
    import gzip as _gzip

MARKER = "GENERATED.marker"  # not *.json or *.gz: no pull reads it

Make = Callable[[int, int, int, int], tuple[str, bytes]]


def _job(args: tuple[Make, int, int, int, int, str]) -> tuple[str, int, int]:
    make, seed, index, count, n_files, out_dir = args
    name, payload = make(seed, index, count, n_files)
    data = _gzip.compress(payload, compresslevel=1, mtime=0)
    target = Path(out_dir) / name
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(target.name + ".part")
    tmp.write_bytes(data)
    os.replace(tmp, target)
    return name, len(payload), len(data)


def read_marker(out_dir: Path) -> dict | None:
    try:
        return json.loads((out_dir / MARKER).read_text())
    except (OSError, ValueError):
        return None


def generate(out_dir: str | Path, events: int, make: Make, names: Callable[[int, int], str], want: dict, *,
             seed: int, per_file: int, workers: int | None = None, log=None) -> dict:
    """Write `events` records in files of `per_file` into out_dir, unless its marker already says `want`.

    `names(index, n_files)` is each file's relative path, checked for clashes before anything is written."""
    out = Path(out_dir)
    want = {**want, "events": events, "seed": seed, "records_per_file": per_file}
    marker = read_marker(out)
    if marker and all(marker.get(k) == v for k, v in want.items()):
        return marker | {"reused": True}
    n_files = -(-events // per_file)
    paths = [names(i, n_files) for i in range(n_files)]
    if len(set(paths)) != len(paths):
        raise ValueError(f"{events:,} events in files of {per_file:,} give two files the same name: use fewer "
                         "events or more a file")
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    jobs = [(make, seed, i, min(per_file, events - i * per_file), n_files, str(out)) for i in range(n_files)]
    workers = workers or min(len(jobs), os.cpu_count() or 1)
    started = time.perf_counter()
    raw = packed = 0
    pool = ProcessPoolExecutor(max_workers=workers) if workers > 1 else None
    try:
        results = pool.map(_job, jobs, chunksize=1) if pool else map(_job, jobs)
        for done, (_, nraw, npacked) in enumerate(results, 1):
            raw += nraw
            packed += npacked
            if log and (done % 20 == 0 or done == n_files):
                log(f"  generated {done}/{n_files} files, {raw / 1e6:,.0f} MB JSON "
                    f"({time.perf_counter() - started:,.0f}s)")
    finally:
        if pool:
            pool.shutdown()
    info = {**want, "files": n_files, "json_bytes": raw, "gzip_bytes": packed,
            "avg_record_bytes": round(raw / events, 1) if events else 0,
            "generation_seconds": round(time.perf_counter() - started, 2)}
    (out / MARKER).write_text(json.dumps(info, indent=2) + "\n")
    return info | {"reused": False}


def dumps(record: dict) -> bytes:
    return json.dumps(record, separators=(",", ":")).encode()


def json_lines(records: list[dict]) -> bytes:
    return b"".join(dumps(r) + b"\n" for r in records)


def uuid_text(rng) -> str:
    h = f"{rng.getrandbits(128):032x}"
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{'89ab'[int(h[16], 16) & 3]}{h[17:20]}-{h[20:32]}"
