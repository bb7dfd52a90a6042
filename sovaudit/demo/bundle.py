"""The bundled demo: Acme Retail's CloudTrail, Azure Monitor and Kafka logs, shipped in the package, and their
policy."""

from importlib.resources import files
from pathlib import Path

from sovaudit.config import LoadedConfig, parse_config
from sovaudit.demo.scenario import AZURE_LOCATIONS, POLICY
from sovaudit.demo.scenario_kafka import EU_ALIAS, EU_REGION, LOYALTY_TOPIC, US_REGION
from sovaudit.lake import Lake
from sovaudit.sources.azure.config import AzureFilesSourceConfig
from sovaudit.sources.cloudtrail.config import CloudTrailSourceConfig
from sovaudit.sources.kafka.config import (
    KafkaAuditSourceConfig,
    KafkaInventorySourceConfig,
    KafkaLineageSourceConfig,
)

DemoSource = (CloudTrailSourceConfig | AzureFilesSourceConfig | KafkaAuditSourceConfig | KafkaInventorySourceConfig
              | KafkaLineageSourceConfig)


def demo_logs_dir() -> Path:
    """sovaudit/demo/data: written by `python -m sovaudit.demo.scenario sovaudit/demo/data` (a test checks
    that it still matches the generator): CloudTrail under AWSLogs/, Azure exports under azure/, Kafka under
    kafka/."""
    return Path(str(files("sovaudit") / "demo" / "data"))


def demo_sources(logs: Path) -> list[DemoSource]:
    """The demo's sources: its trail; its Azure exports with the locations of its resource groups; the EU
    Kafka cluster's audit log and lineage headers; and both clusters' inventory snapshots, each with the
    cluster's region."""
    kafka = logs / "kafka"
    return [CloudTrailSourceConfig(name="acme-demo-trail", type="cloudtrail", path=str(logs / "AWSLogs")),
            AzureFilesSourceConfig(name="acme-demo-azure", type="azure", path=str(logs / "azure"),
                                   locations=AZURE_LOCATIONS),
            KafkaAuditSourceConfig(name="acme-kafka-eu-audit", type="kafka-audit", path=str(kafka / "audit"),
                                   region=EU_REGION),
            KafkaInventorySourceConfig(name="acme-kafka-eu-inventory", type="kafka-inventory",
                                       path=str(kafka / "inventory-eu"), region=EU_REGION),
            KafkaInventorySourceConfig(name="acme-kafka-us-inventory", type="kafka-inventory",
                                       path=str(kafka / "inventory-us"), region=US_REGION, mirror_aliases=[EU_ALIAS]),
            KafkaLineageSourceConfig(name="acme-kafka-eu-lineage", type="kafka-lineage", path=str(kafka / "lineage"),
                                     region=EU_REGION, topics=[LOYALTY_TOPIC])]


def prepare_demo(out_dir: Path, lake_dir: Path | None = None) -> tuple[LoadedConfig, Lake, list[DemoSource]]:
    out_dir.mkdir(parents=True, exist_ok=True)
    config_path = out_dir / "sovaudit.toml"
    config_path.write_text(POLICY, encoding="utf-8")
    loaded = LoadedConfig(config=parse_config(POLICY, config_path), path=config_path)
    return loaded, Lake(lake_dir or out_dir / "lake"), demo_sources(demo_logs_dir())
