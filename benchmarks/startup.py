"""Benchmark: how fast `sovaudit --version` and `sovaudit --help` answer, as processes.

    .venv/bin/python benchmarks/startup.py              # 15 runs of each
    .venv/bin/python benchmarks/startup.py --runs 30 --json

Runs `python -c pass` (the interpreter alone), `python -m sovaudit.cli --version` and `python -m sovaudit.cli
--help` N times each, interleaved so that a change in the machine's load touches all three alike, and prints
each one's median wall-clock seconds, its ratio to `python -c pass` measured in the same run, and its peak RSS
(`ru_maxrss` from `os.wait4`: that process alone). The target is under 0.2 s for both on a quiet machine
(`--target`); on a loaded one compare the ratios. Exit status 1 when a median misses the target.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

COMMANDS = {
    "python -c pass": ["-c", "pass"],
    "sovaudit --version": ["-P", "-m", "sovaudit.cli", "--version"],
    "sovaudit --help": ["-P", "-m", "sovaudit.cli", "--help"],
}


def _run(args: list[str]) -> tuple[float, int]:
    """Wall-clock seconds and peak RSS in KiB of one process."""
    env = {**os.environ, "COLUMNS": "100"}
    began = time.perf_counter()
    child = subprocess.Popen([sys.executable, *args], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - began
    stderr = child.stderr.read().decode(errors="replace") if child.stderr else ""
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(args)} failed: {stderr.strip()[-500:]}")
    return seconds, usage.ru_maxrss


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--target", type=float, default=0.2, help="seconds, median (default 0.2)")
    parser.add_argument("--json", action="store_true", help="figures as JSON")
    options = parser.parse_args()

    samples: dict[str, list[tuple[float, int]]] = {name: [] for name in COMMANDS}
    for args in COMMANDS.values():
        _run(args)  # warm the file cache and the bytecode once, unmeasured
    for _ in range(options.runs):
        for name, args in COMMANDS.items():
            samples[name].append(_run(args))

    baseline = statistics.median(s for s, _ in samples["python -c pass"])
    figures = {name: {"median_s": round(statistics.median(s for s, _ in runs), 4),
                      "ratio_to_python": round(statistics.median(s for s, _ in runs) / baseline, 2),
                      "peak_rss_mib": round(max(rss for _, rss in runs) / 1024, 1), "runs": len(runs)}
               for name, runs in samples.items()}
    missed = [name for name in ("sovaudit --version", "sovaudit --help")
              if figures[name]["median_s"] >= options.target]
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    if options.json:
        print(json.dumps({"figures": figures, "target_s": options.target, "load_1min": load, "cpus": os.cpu_count(),
                          "met": not missed}, indent=2))
    else:
        print(f"{options.runs} runs each, load average {load:.2f} on {os.cpu_count()} CPUs" if load is not None
              else f"{options.runs} runs each")
        for name, f in figures.items():
            print(f"{name:20} median {f['median_s']:.3f} s  {f['ratio_to_python']:5.2f}x python  "
                  f"peak RSS {f['peak_rss_mib']:.1f} MiB")
        print(f"target: under {options.target} s on a quiet machine: " + ("met" if not missed else
                                                                           f"missed by {', '.join(missed)}"))
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
