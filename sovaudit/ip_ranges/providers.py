"""The cloud providers whose published address ranges place a caller in a cloud region, read from
`sovaudit/data/ip_ranges/providers.json`, and how to read each provider's file."""

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from importlib.resources import files
from typing import Any


class RangesFileError(ValueError):
    """A ranges file that is not the provider's format."""


@dataclass(frozen=True)
class Provider:
    cloud: str
    label: str
    file: str
    url: str
    generic_services: frozenset[str]
    no_region: frozenset[str]
    region_aliases: dict[str, str]
    config_key: str

    def region(self, published: str | None) -> str | None:
        if published is None or published in self.no_region:
            return None
        return self.region_aliases.get(published, published)

    def service(self, published: str | None) -> str | None:
        return None if published is None or published in self.generic_services else published


@cache
def providers() -> dict[str, Provider]:
    raw = json.loads((files("sovaudit") / "data" / "ip_ranges" / "providers.json").read_text(encoding="utf-8"))
    return {cloud: Provider(cloud, p["label"], p["file"], p["url"], frozenset(p["generic_services"]),
                            frozenset(p["no_region"]), dict(p["region_aliases"]), p["config_key"])
            for cloud, p in raw["providers"].items()}


# (prefix, published region, published service) for every prefix of a provider's file.
Prefixes = Iterator[tuple[str, str | None, str | None]]


def _need(raw: Any, key: str, cloud: str) -> Any:
    if not isinstance(raw, dict) or not isinstance(raw.get(key), list):
        found = ", ".join(sorted(map(str, raw))[:8]) if isinstance(raw, dict) else type(raw).__name__
        raise RangesFileError(f"not a {providers()[cloud].label} ranges file: expected a list {key!r}, found {found}")
    return raw[key]


def _aws(raw: Any) -> Prefixes:
    for entry in _need(raw, "prefixes", "aws"):
        yield entry["ip_prefix"], entry.get("region"), entry.get("service")
    for entry in raw.get("ipv6_prefixes") or []:
        yield entry["ipv6_prefix"], entry.get("region"), entry.get("service")


def _azure(raw: Any) -> Prefixes:
    for tag in _need(raw, "values", "azure"):
        properties = tag.get("properties") or {}
        for prefix in properties.get("addressPrefixes") or []:
            yield prefix, properties.get("region"), properties.get("systemService")


def _gcp(raw: Any) -> Prefixes:
    for entry in _need(raw, "prefixes", "gcp"):
        yield entry.get("ipv4Prefix") or entry.get("ipv6Prefix"), entry.get("scope"), entry.get("service")


PREFIXES = {"aws": _aws, "azure": _azure, "gcp": _gcp}
_AZURE_FILE_DATE = re.compile(r"ServiceTags_Public_(\d{4})(\d{2})(\d{2})")


def published(cloud: str, raw: dict[str, Any], file_name: str = "") -> str | None:
    """When the provider published the file, from the file itself where it says (AWS createDate, Google
    creationTime), else from Azure's download name (ServiceTags_Public_YYYYMMDD.json)."""
    if cloud == "aws" and isinstance(raw.get("createDate"), str):
        try:
            return datetime.strptime(raw["createDate"], "%Y-%m-%d-%H-%M-%S").strftime("%Y-%m-%dT%H:%M:%SZ")
        except ValueError:
            return None
    if cloud == "gcp" and isinstance(raw.get("creationTime"), str):
        return raw["creationTime"].split(".")[0] + "Z"
    if cloud == "azure":
        match = _AZURE_FILE_DATE.search(file_name)
        if match:
            return "-".join(match.groups())
    return None


def edition(cloud: str, raw: dict[str, Any]) -> str | None:
    """The provider's own version of the file: AWS and Google's syncToken, Azure's changeNumber."""
    value = raw.get("changeNumber" if cloud == "azure" else "syncToken")
    return str(value) if value is not None else None
