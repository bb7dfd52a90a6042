"""Built-in cloud region geography: region/location -> country -> jurisdiction."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache
from importlib.resources import files
from typing import Any

EU = "EU"
UK = "UK"


def _key(name: str) -> str:
    # Azure accepts display names ("West Europe") wherever it accepts "westeurope".
    return "".join(name.split()).lower()


@dataclass(frozen=True)
class Region:
    region: str
    provider: str
    country: str | None
    name: str
    group: str


@dataclass(frozen=True)
class Geography:
    vintage: str
    regions: dict[str, Region]
    eu_eea_countries: dict[str, dict[str, str]]
    adequacy_decisions: tuple[dict[str, Any], ...]
    aliases: dict[str, str]
    _index: dict[str, str] = field(repr=False, default_factory=dict)

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> Geography:
        regions: dict[str, Region] = {}
        for provider, section, group in (
            ("aws", "aws_regions", "partition"),
            ("azure", "azure_locations", "cloud"),
            ("gcp", "gcp_regions", "cloud"),
        ):
            for code, entry in raw[section].items():
                regions[code] = Region(code, provider, entry["country"], entry["name"], entry[group])
        index = {code: code for code in regions}
        for code, region in regions.items():
            index.setdefault(_key(region.name), code)
        return cls(
            vintage=raw["vintage"],
            regions=regions,
            eu_eea_countries=raw["eu_eea_countries"],
            adequacy_decisions=tuple(raw["adequacy_decisions"]),
            aliases={k.upper(): v.upper() for k, v in raw["aliases"].items()},
            _index=index,
        )

    def _country_code(self, code: str) -> str:
        code = code.strip().upper()
        return self.aliases.get(code, code)

    def resolve(self, region_or_location: str) -> Region | None:
        code = self._index.get(_key(region_or_location))
        return self.regions[code] if code else None

    def country_of(self, region_or_location: str) -> str | None:
        region = self.resolve(region_or_location)
        return region.country if region else None

    def is_eu_eea(self, country_code: str | None) -> bool:
        return country_code is not None and self._country_code(country_code) in self.eu_eea_countries

    def country_jurisdiction(self, country_code: str | None) -> str | None:
        if country_code is None:
            return None
        code = self._country_code(country_code)
        if code in self.eu_eea_countries:
            return EU
        return UK if code == "GB" else code

    def _overrides(self, overrides: dict[str, str] | None) -> dict[str, str]:
        # Keyed by canonical region code so "West Europe" in config matches "westeurope" in logs.
        result: dict[str, str] = {}
        for name, value in (overrides or {}).items():
            region = self.resolve(name)
            result[region.region if region else _key(name)] = normalise_jurisdiction(value)
        return result

    def jurisdiction_of(self, region_or_location: str, overrides: dict[str, str] | None = None) -> str | None:
        region = self.resolve(region_or_location)
        code = region.region if region else _key(region_or_location)
        configured = self._overrides(overrides)
        if code in configured:
            return configured[code]
        return self.country_jurisdiction(region.country) if region else None

    def region_rows(self, overrides: dict[str, str] | None = None) -> list[dict[str, str | None]]:
        configured = self._overrides(overrides)
        rows: list[dict[str, str | None]] = []
        for code, region in self.regions.items():
            overridden = code in configured
            jurisdiction = configured[code] if overridden else self.country_jurisdiction(region.country)
            rows.append(
                {
                    "region": code,
                    "provider": region.provider,
                    "country": region.country,
                    "jurisdiction": jurisdiction,
                    "source": "config" if overridden else "builtin",
                }
            )
        for code, jurisdiction in configured.items():
            if code not in self.regions:
                rows.append(
                    {
                        "region": code,
                        "provider": "config",
                        "country": None,
                        "jurisdiction": jurisdiction,
                        "source": "config",
                    }
                )
        return rows

    def adequacy(self, country_code: str | None) -> dict[str, Any] | None:
        if country_code is None:
            return None
        code = self._country_code(country_code)
        for decision in self.adequacy_decisions:
            if code in (decision.get("country"), decision.get("organisation")):
                return decision
        return None


@cache
def load_geography() -> Geography:
    text = (files("sovaudit") / "data" / "geography.json").read_text(encoding="utf-8")
    return Geography.from_dict(json.loads(text))


def normalise_jurisdiction(value: object) -> str:
    """Map a user-supplied jurisdiction ('eu', 'uk', 'GB', 'de', 'ch', ...) to its canonical code."""
    text = value.strip() if isinstance(value, str) else ""
    if len(text) != 2 or not (text.isascii() and text.isalpha()):
        # Said as what is expected: a config error reads "found 'Europe', expected " and this.
        raise ValueError("EU, UK or a two-letter country code (the jurisdiction's ISO 3166-1 code, e.g. DE)")
    code = text.upper()
    if code == EU:
        return EU
    return load_geography().country_jurisdiction(code) or code
