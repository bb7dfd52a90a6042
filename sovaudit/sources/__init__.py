"""The source registry: every `[[sources]] type` sovaudit can pull, from every source family.

A family is a folder here (its config model, fetchers, preparer, `pull <type>` command) whose `SOURCES` lists a
`Source` per type; joining the registry is one line below. docs/architecture.md ("Adding a source") shows how.
"""

from collections.abc import Iterable
from typing import Any

from sovaudit.errors import UsageError
from sovaudit.sources import azure, cloudtrail, kafka
from sovaudit.sources.base import PullContext, Source, SourceConfig

FAMILIES = (cloudtrail, azure, kafka)

SOURCES: dict[str, Source] = {source.type: source for family in FAMILIES for source in family.SOURCES}


def source_of(spec: SourceConfig) -> Source:
    """The `Source` that reads a config entry."""
    return SOURCES[spec.type]


def config_from_flags(source_type: str, configured: Iterable[Any] = (), **flags: Any) -> SourceConfig:
    """The config entry that `sovaudit pull <source_type>` flags describe, as the command line builds it;
    `configured` is the config's [[sources]] (a Kafka pull takes client settings from the entry for its cluster)."""
    if source_type not in SOURCES:
        raise UsageError(f"no source type {source_type!r}; expected one of: {', '.join(SOURCES)}")
    return SOURCES[source_type].config_from_flags(flags, configured)


__all__ = ["SOURCES", "PullContext", "Source", "SourceConfig", "config_from_flags", "source_of"]
