"""The Kafka side of `pull`: which blobs each Kafka source type yields, how they are prepared, and what the
ledger says about the source."""

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from sovaudit.errors import UsageError
from sovaudit.ingest.blobs import FailedInput, ListingDone, RawBlob
from sovaudit.ingest.kafka_blob import KafkaPreparer
from sovaudit.lake import Lake
from sovaudit.sources.kafka_config import (
    KafkaAuditSourceConfig,
    KafkaInventorySourceConfig,
    KafkaLineageSourceConfig,
    KafkaSourceConfig,
)

KAFKA_CONFIGS = (KafkaAuditSourceConfig, KafkaInventorySourceConfig, KafkaLineageSourceConfig)
Items = Iterator[RawBlob | FailedInput | ListingDone]


def is_kafka(spec: Any) -> bool:
    return isinstance(spec, KAFKA_CONFIGS)


def kafka_preparer(spec: KafkaSourceConfig) -> KafkaPreparer:
    if isinstance(spec, KafkaInventorySourceConfig):
        return KafkaPreparer("kafka_topics", {"region": spec.region, "aliases": list(spec.mirror_aliases)})
    if isinstance(spec, KafkaLineageSourceConfig):
        return KafkaPreparer("kafka_lineage", {"region": spec.region})
    return KafkaPreparer("kafka_audit", {"region": spec.region})


def kafka_source_record(spec: KafkaSourceConfig) -> dict[str, Any]:
    """What the ledger says about the source. `client` holds ${ENV_VAR} references for its secrets (the
    config accepts nothing else for them), never their values."""
    return {k: v for k, v in spec.model_dump(exclude={"since", "until"}).items() if v not in (None, [], {})}


def kafka_items(spec: KafkaSourceConfig, lake: Lake, since: datetime | None, until: datetime | None,
                notes: list[str]) -> Items:
    if not spec.region:
        notes.append(f"source {spec.name} has no region (--region, or `region` on its [[sources]] entry): its rows "
                     "say nothing about where the cluster runs, so checks cannot place them in a jurisdiction")
    # Imported here so that configs without Kafka sources never load librdkafka.
    if isinstance(spec, KafkaInventorySourceConfig):
        from sovaudit.sources.kafka_inventory import inventory_blobs

        yield from inventory_blobs(spec)
    elif isinstance(spec, KafkaLineageSourceConfig):
        from sovaudit.sources.kafka_lineage import lineage_blobs

        yield from lineage_blobs(spec, lake.ledger.entries(), since, until, notes)
    else:
        from sovaudit.sources.kafka_audit import audit_blobs

        yield from audit_blobs(spec, lake.ledger.entries(), since, until, notes)


_FLAG_MODELS = {"kafka-audit": KafkaAuditSourceConfig, "kafka-inventory": KafkaInventorySourceConfig,
                "kafka-lineage": KafkaLineageSourceConfig}


def kafka_source_from_flags(source_type: str, base: KafkaSourceConfig | None = None, **flags: Any
                            ) -> KafkaSourceConfig:
    """The config entry that `sovaudit pull <source_type>` flags describe; `base` is a [[sources]] entry of the
    same type whose settings (client, region, …) the flags override."""
    from pydantic import ValidationError

    given = {k: v for k, v in flags.items() if v not in (None, [], {})}
    settings = {**(base.model_dump(exclude_defaults=True) if base else {"name": "cli", "type": source_type}), **given}
    if base and "path" in given:
        settings.pop("bootstrap", None)
    if base and "bootstrap" in given:
        settings.pop("path", None)
    try:
        return _FLAG_MODELS[source_type].model_validate(settings)
    except ValidationError as exc:
        problems = "; ".join(f"--{str(e['loc'][-1]).replace('_', '-')}: {e['msg'].removeprefix('Value error, ')}"
                             if e["loc"] else e["msg"].removeprefix("Value error, ") for e in exc.errors())
        raise UsageError(f"pull {source_type}: {problems}") from None


def configured_entry(sources: list[Any], source_type: str, bootstrap: str | None) -> KafkaSourceConfig | None:
    """The [[sources]] entry of this type for the same cluster, whose client settings and region a
    command-line pull uses."""
    for spec in sources:
        if getattr(spec, "type", None) == source_type and bootstrap and spec.bootstrap == bootstrap:
            return spec
    return None
