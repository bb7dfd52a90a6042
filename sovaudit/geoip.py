"""Offline IP-to-country lookup at ingest (iptocc: RIR allocation data embedded in its wheel)."""

import ipaddress
from importlib.metadata import version

import iptocc


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
