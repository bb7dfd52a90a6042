"""How fast ingest places callers: the cloud ranges' load (once per pull that sees a public address) and
the cost per distinct address, against the registration-country lookup alone (what ingest did before the
cloud ranges), measured in the same run.

    python benchmarks/caller_lookup.py [--addresses 50000] [--json]

Addresses are drawn from blocks the providers publish (AWS, Azure, Google Cloud) and from ones they do not,
half and half; each is looked up once, as ingest does (CallerLocator keeps what it looked up for the pull).
"""

import argparse
import json
import random
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sovaudit.geoip import CallerLocator, countries  # noqa: E402
from sovaudit.ip_ranges.files import load_ip_ranges  # noqa: E402

CLOUD_BLOCKS = ("34.240.", "52.239.", "35.195.", "13.69.", "3.225.", "20.38.")
OTHER_BLOCKS = ("12.0.", "81.2.", "217.0.", "90.0.", "87.32.", "1.0.")


def addresses(n: int, seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    out: set[str] = set()
    while len(out) < n:
        block = rng.choice(CLOUD_BLOCKS if len(out) % 2 else OTHER_BLOCKS)
        out.add(f"{block}{rng.randrange(256)}.{rng.randrange(1, 255)}")
    return sorted(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--addresses", type=int, default=50_000)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    ips = addresses(args.addresses)

    started = time.perf_counter()
    countries(ips)
    baseline = time.perf_counter() - started

    ranges = load_ip_ranges()
    started = time.perf_counter()
    ranges.place("34.240.1.1")  # builds the index
    load = time.perf_counter() - started
    locator = CallerLocator(ranges)
    started = time.perf_counter()
    places = locator.locate(ips)
    located = time.perf_counter() - started
    in_cloud = sum(p.cloud is not None for p in places)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    figures = {
        "addresses": len(ips), "in_a_cloud_range": in_cloud,
        "ranges_load_s": round(load, 3),
        "country_only_us_per_address": round(baseline / len(ips) * 1e6, 2),
        "country_and_cloud_us_per_address": round(located / len(ips) * 1e6, 2),
        "addresses_per_s": round(len(ips) / located),
        "ratio_to_country_only": round(located / baseline, 2),
        "peak_rss_mb": round(peak_mb),
    }
    if args.json:
        print(json.dumps(figures, indent=2))
    else:
        print(f"{len(ips):,} distinct addresses, {in_cloud:,} in a published cloud range")
        print(f"cloud ranges load (once per pull):  {load:.3f} s")
        print(f"country only (before):             {figures['country_only_us_per_address']:.2f} µs per address")
        print(f"country and cloud place (now):     {figures['country_and_cloud_us_per_address']:.2f} µs per "
              f"address, {figures['addresses_per_s']:,} addresses/s, {figures['ratio_to_country_only']:.2f}x the "
              "time of country only")
        print(f"peak RSS {peak_mb:,.0f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
