"""Where the ranges files are (a `[geo]` setting, else the snapshot shipped in the package), reading them,
and what a ledger entry records of them (publication date, the provider's edition, sha256)."""

import gzip
import hashlib
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path
from typing import Any

from sovaudit.errors import ConfigError
from sovaudit.ip_ranges.index import CloudPlace, PrefixIndex, PrefixMatch
from sovaudit.ip_ranges.providers import PREFIXES, RangesFileError, edition, providers, published

MANIFEST = "manifest.json"


def snapshot_dir() -> Path:
    return Path(str(files("sovaudit") / "data" / "ip_ranges"))


@dataclass(frozen=True)
class RangesFile:
    cloud: str
    path: Path
    origin: str  # "snapshot shipped with sovaudit" or the path as configured


def parse_json(data: bytes) -> Any:
    """A ranges file's JSON, gzip-compressed or not."""
    return json.loads(gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data)



def _manifest(directory: Path) -> dict[str, Any]:
    try:
        return json.loads((directory / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


@dataclass
class IpRanges:
    """The three providers' prefixes, read when the first address is looked up."""

    sources: list[RangesFile]
    _index: PrefixIndex | None = None
    _about: dict[str, dict[str, Any]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def _load(self) -> PrefixIndex:
        with self._lock:
            if self._index is None:
                index = PrefixIndex()
                for source in self.sources:
                    provider = providers()[source.cloud]
                    raw = self._read(source)
                    with _readable(source):
                        index.add(source.cloud, ((p, provider.region(r), provider.service(s))
                                                 for p, r, s in PREFIXES[source.cloud](raw)))
                self._index = index
            return self._index

    def warm(self) -> None:
        """Build the index on a thread of its own, while the pull's first blobs are read. Should that fail, the first
        lookup builds it again and says why."""

        def build() -> None:
            try:
                self._load()
            except Exception:  # noqa: BLE001, S110 (the first lookup raises it, with its message)
                pass

        threading.Thread(target=build, name="ip-ranges", daemon=True).start()

    def _read(self, source: RangesFile) -> Any:
        with _readable(source):
            data = source.path.read_bytes()
            raw = parse_json(data)
            if not isinstance(raw, dict):
                raise RangesFileError(f"expected a JSON object, found {type(raw).__name__}")
        manifest = _manifest(source.path.parent).get(source.cloud, {})
        self._about[source.cloud] = {
            "file": source.origin,
            "published": published(source.cloud, raw, source.path.name) or manifest.get("published"),
            "edition": edition(source.cloud, raw),
            "sha256": hashlib.sha256(data).hexdigest(),
        }
        return raw

    def place(self, address: str) -> CloudPlace | None:
        return self._load().place(address)

    def matches(self, address: str) -> list[PrefixMatch]:
        return self._load().matches(address)

    def about(self) -> dict[str, dict[str, Any]]:
        """Per provider: the file, its publication date, the provider's edition and its sha256 (what a
        ledger entry records), without building the index when no address was looked up."""
        with self._lock:
            for source in self.sources:
                if source.cloud not in self._about:
                    self._read(source)
            return {source.cloud: self._about[source.cloud] for source in self.sources}


@contextmanager
def _readable(source: RangesFile) -> Iterator[None]:
    try:
        yield
    except (OSError, ValueError, EOFError, RangesFileError, KeyError, TypeError, AttributeError) as exc:
        text = str(exc) or type(exc).__name__
        raise ConfigError(f"{source.origin}: cannot read {providers()[source.cloud].label} address ranges: "
                          f"{text if len(text) < 200 else text[:200] + '…'}") from None


def ranges_files(geo: Any = None, config_dir: Path | None = None) -> list[RangesFile]:
    """Per provider: the file `[geo]` names, else the one in `[geo] ip_ranges_dir`, else the shipped snapshot.
    A configured file that does not exist is an error, never a silent fall-back to older data."""
    chosen = []
    base = config_dir or Path.cwd()
    directory = _resolve(geo.ip_ranges_dir, base) if geo is not None and geo.ip_ranges_dir else None
    for cloud, provider in providers().items():
        explicit = getattr(geo, provider.config_key, None) if geo is not None else None
        if explicit:
            path, origin = _resolve(explicit, base), f"[geo] {provider.config_key} {explicit}"
        elif directory is not None:
            path, origin = directory / provider.file, str(directory / provider.file)
        else:
            chosen.append(RangesFile(cloud, snapshot_dir() / provider.file, "snapshot shipped with sovaudit"))
            continue
        if not path.is_file():
            hint = ("; run `sovaudit ip-ranges update` to download it" if directory is not None and not explicit
                    else "")
            raise ConfigError(f"{origin}: {provider.label} address ranges file not found{hint}")
        chosen.append(RangesFile(cloud, path, origin))
    return chosen


def _resolve(value: str, base: Path) -> Path:
    path = Path(value).expanduser()
    return path if path.is_absolute() else base / path


def load_ip_ranges(geo: Any = None, config_dir: Path | None = None) -> IpRanges:
    return IpRanges(ranges_files(geo, config_dir))
