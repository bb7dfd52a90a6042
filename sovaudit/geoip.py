"""Where a caller's address is, at ingest: the country it is registered to (iptocc: RIR allocation data
embedded in its wheel) and, for a cloud provider's address, the cloud, region and service its published
ranges place it in."""

import ipaddress
import threading
from importlib.metadata import version
from typing import NamedTuple

import iptocc

from sovaudit.ip_ranges.files import IpRanges


def data_vintage() -> str:
    return f"iptocc {version('iptocc')} (RIR delegation data built into that release)"


def _public(ip: str) -> bool:
    try:
        return ipaddress.ip_address(ip).is_global
    except ValueError:
        return False


def countries(ips: list[str]) -> list[str | None]:
    """ISO alpha-2 per address; None for private, reserved, malformed or unallocated addresses."""
    public = [ip for ip in ips if _public(ip)]
    looked_up = dict(zip(public, iptocc.country_code(public), strict=True)) if public else {}
    return [looked_up.get(ip) for ip in ips]


class CallerPlace(NamedTuple):
    country: str | None
    cloud: str | None
    cloud_region: str | None
    cloud_service: str | None


class CallerLocator:
    """Each distinct address looked up once: a pull's many events from few callers cost a few lookups."""

    def __init__(self, ranges: IpRanges):
        self.ranges = ranges
        self._known: dict[str, CallerPlace] = {}
        self._lock = threading.Lock()

    def locate(self, ips: list[str]) -> list[CallerPlace]:
        with self._lock:
            new = [ip for ip in dict.fromkeys(ips) if ip not in self._known]
            for ip, country in zip(new, countries(new), strict=True):
                cloud = self.ranges.place(ip) if _public(ip) else None
                self._known[ip] = (CallerPlace(country, cloud.cloud, cloud.region, cloud.service) if cloud
                                   else CallerPlace(country, None, None, None))
            return [self._known[ip] for ip in ips]
