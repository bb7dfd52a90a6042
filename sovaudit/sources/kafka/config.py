"""`[[sources]]` entries for Kafka: the audit-log topic, the topic inventory, lineage headers, each read
from a broker (`bootstrap`) or from files (`path`).

librdkafka properties go in `client`; a secret is written as a `${ENV_VAR}` reference, expanded only when
the client is made (sovaudit.sources.kafka.client), so the config, the ledger and every message hold
the reference, never the value.
"""

import re
from typing import Literal

from pydantic import Field, ValidationInfo, field_validator, model_validator

from sovaudit.sources.base import SourceConfig

DEFAULT_AUDIT_TOPIC = "confluent-audit-log-events"
DEFAULT_LINEAGE_HEADERS = ("region_origin", "encryption_key_id", "processing_timestamp")
ENV_REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
# librdkafka properties whose value is a credential: only a ${ENV_VAR} reference is accepted.
_SECRET_PROPERTY = re.compile(r"password|secret|token|jaas|\.pem$|credentials|\.key$", re.IGNORECASE)
_BOOTSTRAP = re.compile(r"[^\s,:/]+:\d{1,5}(,[^\s,:/]+:\d{1,5})*")


def is_secret_property(name: str) -> bool:
    return bool(_SECRET_PROPERTY.search(name))


class _KafkaSourceConfig(SourceConfig):
    bootstrap: str | None = None  # a broker …
    path: str | None = None  # … or files: exactly one of the two
    region: str | None = None  # where the cluster runs: the region of every row it yields
    client: dict[str, str | int | float | bool] = {}

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

    @model_validator(mode="after")
    def _one_input(self) -> "_KafkaSourceConfig":
        if bool(self.bootstrap) == bool(self.path):
            raise ValueError("set exactly one of bootstrap (a broker) or path (files)")
        return self


class KafkaAuditSourceConfig(_KafkaSourceConfig):
    """type kafka-audit: Confluent audit events from the audit-log topic (`bootstrap`) or from files (`path`)."""

    type: Literal["kafka-audit"]
    topic: str = Field(default=DEFAULT_AUDIT_TOPIC, min_length=1)


class KafkaInventorySourceConfig(_KafkaSourceConfig):
    """type kafka-inventory: a snapshot of the cluster's topics, their retention and MirrorMaker 2 artefacts,
    taken from a broker (`bootstrap`) or read from files (`path`): NDJSON, optionally gzipped, one
    {"snapshot_time", "cluster_id", "topic", "partitions", "replication_factor", "configs"} object per topic,
    as a pull from a broker writes it."""

    type: Literal["kafka-inventory"]
    # Source-cluster aliases of MirrorMaker 2 flows into this cluster, besides those its topics reveal.
    mirror_aliases: list[str] = []


class KafkaLineageSourceConfig(_KafkaSourceConfig):
    """type kafka-lineage: the lineage headers (never the values) of messages on data topics, read from a
    broker (`bootstrap`) or from a header export (`path`): NDJSON, optionally gzipped, one
    {"kafka": {cluster_id, topic, partition, offset, timestamp}, "headers": {…}} object per message, as a
    pull from a broker writes it.

    `topics` and `headers` say what to read from a broker, where `topics` is required. With `path` they are
    optional and do not filter: every record in the files is pulled, with the headers it holds (the archive
    keeps each file byte for byte, so it cannot drop records); a pull with `topics` and `path` says so in a note.
    """

    type: Literal["kafka-lineage"]
    topics: list[str] = Field(default=[], validate_default=True)
    headers: list[str] = []  # header names kept besides region_origin, encryption_key_id, processing_timestamp

    @field_validator("topics")
    @classmethod
    def _topics(cls, v: list[str], info: ValidationInfo) -> list[str]:
        if not v and info.data.get("bootstrap") and not info.data.get("path"):
            raise ValueError("at least one data topic to read from the broker (bootstrap)")
        return v

    @property
    def header_names(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys([*DEFAULT_LINEAGE_HEADERS, *self.headers]))


KafkaSourceConfig = KafkaAuditSourceConfig | KafkaInventorySourceConfig | KafkaLineageSourceConfig
