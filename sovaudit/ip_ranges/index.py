"""Which published cloud prefix an address falls in: the most specific prefix with a region gives the
cloud and region; the most specific specific service (EC2, AzureStorage …) in that region gives the service."""

import socket
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class CloudPlace:
    cloud: str
    region: str | None
    service: str | None


@dataclass(frozen=True)
class PrefixMatch:
    prefix: str
    cloud: str
    region: str | None
    service: str | None


def _rank(match: PrefixMatch) -> tuple[bool, bool, str]:
    """The order of the entries of one prefix (AWS lists an EC2 block under AMAZON too; Azure lists a block
    under its regional tag and its global one): a region first, a specific service first, then by name, so
    the choice does not depend on file order."""
    return match.region is None, match.service is None, match.service or ""


def _address(text: str) -> tuple[int, int] | None:
    """(IP version, integer) of an address; None when it is not one."""
    try:
        return 4, int.from_bytes(socket.inet_pton(socket.AF_INET, text), "big")
    except (OSError, ValueError):
        pass
    try:
        return 6, int.from_bytes(socket.inet_pton(socket.AF_INET6, text.split("%")[0]), "big")
    except (OSError, ValueError):
        return None


_BITS = {4: 32, 6: 128}


class PrefixIndex:
    """Prefixes by IP version, prefix length and network number: a lookup is one dict probe per prefix
    length that occurs, most specific first."""

    def __init__(self) -> None:
        # version -> length -> network -> {(cloud, region, service): prefix}
        self._by_length: dict[int, dict[int, dict[int, dict[tuple, str]]]] = {4: {}, 6: {}}
        self._lengths: dict[int, list[int]] = {4: [], 6: []}
        self.size = 0

    def add(self, cloud: str, prefixes: Iterable[tuple[str, str | None, str | None]]) -> None:
        for prefix, region, service in prefixes:
            if not isinstance(prefix, str) or "/" not in prefix:
                continue
            network, _, length_text = prefix.partition("/")
            parsed = _address(network)
            if parsed is None or not length_text.isdigit():
                continue
            version, number = parsed
            length = int(length_text)
            bits = _BITS[version]
            if length > bits:
                continue
            number &= ((1 << bits) - 1) ^ ((1 << (bits - length)) - 1)
            entries = self._by_length[version].setdefault(length, {}).setdefault(number, {})
            if (cloud, region, service) not in entries:
                entries[cloud, region, service] = prefix
                self.size += 1
        for version, tables in self._by_length.items():
            self._lengths[version] = sorted(tables, reverse=True)

    def matches(self, address: str) -> list[PrefixMatch]:
        """Every prefix that holds the address, most specific first."""
        parsed = _address(address)
        if parsed is None:
            return []
        version, number = parsed
        bits = _BITS[version]
        tables = self._by_length[version]
        found = []
        for length in self._lengths[version]:
            entries = tables[length].get(number >> (bits - length) << (bits - length))
            if entries:
                found.extend(sorted((PrefixMatch(prefix, *key) for key, prefix in entries.items()), key=_rank))
        return found

    def place(self, address: str) -> CloudPlace | None:
        found = self.matches(address)
        if not found:
            return None
        regional = next((m for m in found if m.region is not None), None)
        anchor = regional or found[0]
        service = next((m.service for m in found if m.service is not None and m.cloud == anchor.cloud
                        and m.region in (None, anchor.region)), None)
        return CloudPlace(anchor.cloud, anchor.region, service)
