"""`[[sources]]` entries for Kafka: the audit-log topic (or files), the topic inventory, lineage headers.

librdkafka properties go in `client`; a secret is written as a `${ENV_VAR}` reference, expanded only when
the client is made (sovaudit.sources.kafka_client), so the config, the ledger and every message hold
the reference, never the value.
"""

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

DEFAULT_AUDIT_TOPIC = "confluent-audit-log-events"
DEFAULT_LINEAGE_HEADERS = ("region_origin", "encryption_key_id", "processing_timestamp")
ENV_REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
# librdkafka properties whose value is a credential: only a ${ENV_VAR} reference is accepted.
_SECRET_PROPERTY = re.compile(r"password|secret|token|jaas|\.pem$|credentials|\.key$", re.IGNORECASE)
_BOOTSTRAP = re.compile(r"[^\s,:/]+:\d{1,5}(,[^\s,:/]+:\d{1,5})*")


def is_secret_property(name: str) -> bool:
    return bool(_SECRET_PROPERTY.search(name))


class _KafkaSource(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1)
    bootstrap: str | None = None
    region: str | None = None  # where the cluster runs: the region of every row it yields
    client: dict[str, str | int | float | bool] = {}
    since: str | None = None
    until: str | None = None

    @field_validator("bootstrap")
    @classmethod
    def _bootstrap(cls, v: str | None) -> str | None:
        if v is not None and not _BOOTSTRAP.fullmatch(v):
            raise ValueError("HOST:PORT, or several separated by commas")
        return v

    @field_validator("region")
    @classmethod
    def _region(cls, v: str | None) -> str | None:
        return v.lower().replace(" ", "") if v else v

    @field_validator("client")
    @classmethod
    def _client(cls, v: dict[str, str | int | float | bool]) -> dict[str, str | int | float | bool]:
        for key, value in v.items():
            if key == "bootstrap.servers":
                raise ValueError("bootstrap.servers: set `bootstrap` (or --bootstrap) instead")
            if is_secret_property(key) and not (isinstance(value, str) and ENV_REFERENCE.fullmatch(value)):
                raise ValueError(f"{key}: a ${{ENV_VAR}} reference, not the secret itself")
        return v


class KafkaAuditSourceConfig(_KafkaSource):
    """type kafka-audit: Confluent audit events from the audit-log topic (`bootstrap`) or from files (`path`)."""

    type: Literal["kafka-audit"]
    topic: str = Field(default=DEFAULT_AUDIT_TOPIC, min_length=1)
    path: str | None = None

    @model_validator(mode="after")
    def _one_input(self) -> "KafkaAuditSourceConfig":
        if bool(self.bootstrap) == bool(self.path):
            raise ValueError("set exactly one of bootstrap (a broker) or path (files)")
        return self


class KafkaInventorySourceConfig(_KafkaSource):
    """type kafka-inventory: a snapshot of the cluster's topics, their retention and MirrorMaker 2 artefacts."""

    type: Literal["kafka-inventory"]
    bootstrap: str  # type: ignore[assignment]
    # Source-cluster aliases of MirrorMaker 2 flows into this cluster, besides those its topics reveal.
    mirror_aliases: list[str] = []


class KafkaLineageSourceConfig(_KafkaSource):
    """type kafka-lineage: the lineage headers (never the values) of messages on data topics."""

    type: Literal["kafka-lineage"]
    bootstrap: str  # type: ignore[assignment]
    topics: list[str] = Field(min_length=1)
    headers: list[str] = []  # header names kept besides region_origin, encryption_key_id, processing_timestamp

    @property
    def header_names(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys([*DEFAULT_LINEAGE_HEADERS, *self.headers]))


KafkaSourceConfig = KafkaAuditSourceConfig | KafkaInventorySourceConfig | KafkaLineageSourceConfig
KAFKA_SOURCE_TYPES = ("kafka-audit", "kafka-inventory", "kafka-lineage")
