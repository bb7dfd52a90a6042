"""confluent-kafka clients for a `[[sources]]` entry: librdkafka settings with `${ENV_VAR}` references
expanded at the last moment, librdkafka's own logging kept off the terminal, and an unreachable
cluster turned into one clear error within CONNECT_TIMEOUT seconds."""

import logging
import os
from typing import Any

from confluent_kafka import Consumer, KafkaException
from confluent_kafka.admin import AdminClient, ClusterMetadata

from sovaudit.errors import SourceError, UsageError
from sovaudit.sources.kafka.config import ENV_REFERENCE, KafkaSourceConfig

CONNECT_TIMEOUT = 10.0  # seconds for the first metadata request: an unreachable cluster fails in ~10 s

# librdkafka logs connection retries to stderr by default; route them to a logger nobody prints.
_quiet = logging.getLogger("sovaudit.kafka.librdkafka")
_quiet.addHandler(logging.NullHandler())
_quiet.propagate = False


def _expand(source: str, key: str, value: Any) -> Any:
    if not isinstance(value, str):
        return value

    def lookup(match: Any) -> str:
        name = match.group(1)
        found = os.environ.get(name)
        if found is None:
            raise UsageError(f"source {source}: client.{key} refers to ${{{name}}}, but the environment "
                             f"variable {name} is not set")
        return found

    return ENV_REFERENCE.sub(lookup, value)


def client_settings(spec: KafkaSourceConfig, **fixed: Any) -> dict[str, Any]:
    """librdkafka settings: the entry's `client` table, expanded, then `bootstrap` and our fixed ones.

    The result holds secrets: it goes to the client and nowhere else.
    """
    settings = {key: _expand(spec.name, key, value) for key, value in spec.client.items()}
    settings.update({"bootstrap.servers": spec.bootstrap, "logger": _quiet, "socket.connection.setup.timeout.ms":
                     int(CONNECT_TIMEOUT * 1000), **fixed})
    return settings


def unreachable(spec: KafkaSourceConfig, exc: BaseException) -> SourceError:
    detail = exc.args[0].str() if exc.args and hasattr(exc.args[0], "str") else str(exc)
    return SourceError(f"cannot reach Kafka at {spec.bootstrap} within {CONNECT_TIMEOUT:.0f} s "
                       f"(source {spec.name}): {detail}")


def cluster_metadata(client: AdminClient | Consumer, spec: KafkaSourceConfig, topic: str | None = None
                     ) -> ClusterMetadata:
    try:
        return client.list_topics(topic, timeout=CONNECT_TIMEOUT)
    except KafkaException as exc:
        raise unreachable(spec, exc) from None


def make_consumer(spec: KafkaSourceConfig) -> Consumer:
    # Partitions are assigned by hand and offsets never committed: the lake's ledger is the only cursor,
    # and no consumer group on the audited cluster is touched.
    return Consumer(client_settings(spec, **{
        "group.id": f"sovaudit-{spec.name}", "enable.auto.commit": False, "enable.auto.offset.store": False,
        "auto.offset.reset": "earliest", "enable.partition.eof": False, "isolation.level": "read_committed",
    }))


def make_admin(spec: KafkaSourceConfig) -> AdminClient:
    return AdminClient(client_settings(spec))
