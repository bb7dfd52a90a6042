"""Kafka as three `Source`s: the audit-log topic (kafka-audit), the topic inventory (kafka-inventory) and lineage
headers (kafka-lineage), each read from a broker or from files, each into its own table."""

from collections.abc import Iterable
from typing import Any

from sovaudit.sources.base import BaseSource, Items, PullContext
from sovaudit.sources.kafka.config import (
    KafkaAuditSourceConfig,
    KafkaInventorySourceConfig,
    KafkaLineageSourceConfig,
    KafkaSourceConfig,
)
from sovaudit.sources.kafka.preparer import KafkaPreparer


class _KafkaSource(BaseSource):
    """`client` in the ledger record holds ${ENV_VAR} references for its secrets (the config accepts nothing else
    for them), never their values."""

    def preparer(self, spec: KafkaSourceConfig) -> KafkaPreparer:
        return KafkaPreparer(self.tables[0], {"region": spec.region})

    def register_command(self, pull_app, pull) -> None:
        from sovaudit.sources.kafka.command import COMMANDS

        COMMANDS[self.type](pull_app, pull)

    def base_entry(self, flags: dict[str, Any], configured: Iterable[Any]) -> dict[str, Any]:
        """The [[sources]] entry of this type for the same cluster (its client settings and region), which the
        flags override; a flag that picks the other input replaces the entry's."""
        bootstrap = flags.get("bootstrap")
        entry = next((s for s in configured if s.type == self.type and bootstrap and s.bootstrap == bootstrap), None)
        if entry is None:
            return super().base_entry(flags, configured)
        settings = entry.model_dump(exclude_defaults=True)
        if "path" in flags:
            settings.pop("bootstrap", None)
        if "bootstrap" in flags:
            settings.pop("path", None)
        return settings

    def where(self, record: dict[str, Any]) -> str | None:
        return record.get("bootstrap") or record.get("path")

    def items(self, spec: KafkaSourceConfig, context: PullContext) -> Items:
        if not spec.region:
            context.notes.append(
                f"source {spec.name} has no region (--region, or `region` on its [[sources]] entry): its rows say "
                "nothing about where the cluster runs, so checks cannot place them in a jurisdiction")
        yield from self.blobs(spec, context)

    def blobs(self, spec: Any, context: PullContext) -> Items:
        raise NotImplementedError


# The fetchers are imported when a pull runs, so that configs without Kafka sources never load librdkafka.

class KafkaAuditSource(_KafkaSource):
    type = "kafka-audit"
    config = KafkaAuditSourceConfig
    tables = ("kafka_audit",)

    def blobs(self, spec: KafkaAuditSourceConfig, context: PullContext) -> Items:
        from sovaudit.sources.kafka.audit import audit_blobs

        yield from audit_blobs(spec, context.ledger_entries(), context.since, context.until, context.notes)


class KafkaInventorySource(_KafkaSource):
    type = "kafka-inventory"
    config = KafkaInventorySourceConfig
    tables = ("kafka_topics",)

    def preparer(self, spec: KafkaInventorySourceConfig) -> KafkaPreparer:
        return KafkaPreparer(self.tables[0], {"region": spec.region, "aliases": list(spec.mirror_aliases)})

    def blobs(self, spec: KafkaInventorySourceConfig, context: PullContext) -> Items:
        from sovaudit.sources.kafka.inventory import inventory_blobs

        yield from inventory_blobs(spec)


class KafkaLineageSource(_KafkaSource):
    type = "kafka-lineage"
    config = KafkaLineageSourceConfig
    tables = ("kafka_lineage",)

    def blobs(self, spec: KafkaLineageSourceConfig, context: PullContext) -> Items:
        from sovaudit.sources.kafka.lineage import lineage_blobs

        yield from lineage_blobs(spec, context.ledger_entries(), context.since, context.until, context.notes)
