"""`sovaudit ip-ranges update`: download the providers' current files into a directory, each checked as
its provider's format before it replaces the copy there, with what was fetched recorded in its manifest."""

import gzip
import hashlib
import json
import re
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sovaudit.fsutil import write_atomic
from sovaudit.ip_ranges.files import MANIFEST, parse_json
from sovaudit.ip_ranges.providers import PREFIXES, RangesFileError, edition, providers, published
from sovaudit.timewindow import iso

# Microsoft's Download Center page links to the week's file, ServiceTags_Public_YYYYMMDD.json.
_AZURE_LINK = re.compile(r"""https?://[^"'\s<>]+/ServiceTags_Public_\d{8}\.json""")
MAX_BYTES = 64 * 1024 * 1024


@dataclass
class Fetched:
    cloud: str
    url: str
    ok: bool
    message: str
    about: dict[str, Any]


def _get(url: str, timeout: float) -> bytes:
    request = urllib.request.Request(url, headers={"User-Agent": "sovaudit ip-ranges update"})
    with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 (http/https URLs only)
        data = response.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise RangesFileError(f"more than {MAX_BYTES // (1024 * 1024)} MB: not a ranges file")
    return data


def _file_url(cloud: str, url: str, timeout: float) -> str:
    if cloud != "azure" or re.search(r"\.json(\.gz)?$", url.split("?")[0]):
        return url
    page = _get(url, timeout).decode("utf-8", "replace")
    match = _AZURE_LINK.search(page)
    if not match:
        raise RangesFileError("the download page links to no ServiceTags_Public_YYYYMMDD.json")
    return match.group(0)


def _describe(exc: BaseException) -> str:
    if isinstance(exc, urllib.error.HTTPError):
        return f"HTTP {exc.code} {exc.reason}"
    if isinstance(exc, urllib.error.URLError):
        return f"unreachable ({exc.reason})"
    text = str(exc) or type(exc).__name__
    return text if len(text) < 200 else text[:200] + "…"


def update(directory: Path, urls: dict[str, str] | None = None, timeout: float = 60.0) -> list[Fetched]:
    """Fetch every provider's file into `directory`; a provider that fails keeps the copy it had."""
    directory.mkdir(parents=True, exist_ok=True)
    manifest_path = directory / MANIFEST
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        manifest = {}
    results = []
    for cloud, provider in providers().items():
        url = (urls or {}).get(cloud, provider.url)
        if not url.startswith(("https://", "http://")):
            results.append(Fetched(cloud, url, False, "not an http(s) URL", {}))
            continue
        try:
            file_url = _file_url(cloud, url, timeout)
            data = _get(file_url, timeout)
            raw = parse_json(data)
            count = sum(1 for _ in PREFIXES[cloud](raw))
            if not count:
                raise RangesFileError("it lists no prefixes")
        except (OSError, ValueError, EOFError, RangesFileError, KeyError, TypeError, AttributeError) as exc:
            results.append(Fetched(cloud, url, False, _describe(exc), {}))
            continue
        stored = data if data[:2] == b"\x1f\x8b" else gzip.compress(data, mtime=0)
        write_atomic(directory / provider.file, stored)
        about = {"url": file_url, "fetched_at": iso(datetime.now(UTC)),
                 "published": published(cloud, raw, file_url), "edition": edition(cloud, raw),
                 "prefixes": count, "sha256": hashlib.sha256(stored).hexdigest()}
        manifest[cloud] = about
        results.append(Fetched(cloud, file_url, True, f"{count:,} prefixes", about))
    write_atomic(manifest_path, (json.dumps(manifest, indent=2) + "\n").encode())
    return results
