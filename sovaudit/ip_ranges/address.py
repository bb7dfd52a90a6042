"""What sovaudit knows of one address (`sovaudit ip-ranges show`): what ingest would store for it, the
jurisdiction the checks would give it and why, and the prefixes that hold it."""

import ipaddress
from typing import Any

from sovaudit.errors import UsageError
from sovaudit.geography import load_geography
from sovaudit.geoip import CallerLocator, data_vintage
from sovaudit.ip_ranges.files import IpRanges
from sovaudit.ip_ranges.providers import providers


def describe(address: str, ranges: IpRanges, jurisdictions: dict[str, str] | None = None) -> dict[str, Any]:
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        raise UsageError(f"{address!r} is not an IPv4 or IPv6 address") from None
    text = str(ip)
    place = CallerLocator(ranges).locate([text])[0]
    geography = load_geography()
    cloud_jurisdiction = (geography.jurisdiction_of(place.cloud_region, jurisdictions)
                          if place.cloud_region else None)
    country_jurisdiction = geography.country_jurisdiction(place.country)
    if cloud_jurisdiction:
        basis = f"the cloud region {place.cloud_region}"
    elif country_jurisdiction:
        basis = f"the country the address is registered to, {place.country}"
    else:
        basis = None
    return {
        "address": text,
        "public": ip.is_global,
        "registered_country": place.country,
        "cloud": place.cloud,
        "cloud_label": providers()[place.cloud].label if place.cloud else None,
        "cloud_region": place.cloud_region,
        "cloud_service": place.cloud_service,
        "cloud_region_jurisdiction": cloud_jurisdiction,
        "country_jurisdiction": country_jurisdiction,
        "jurisdiction": cloud_jurisdiction or country_jurisdiction,
        "jurisdiction_from": basis,
        "prefixes": [{"prefix": m.prefix, "cloud": m.cloud, "region": m.region, "service": m.service}
                     for m in (ranges.matches(text) if ip.is_global else [])],
        "data": {"registration": data_vintage(), **ranges.about()},
    }
