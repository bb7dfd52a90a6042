"""A real Apache Kafka broker for the Kafka tests: a single KRaft node (broker and controller) on a free port of
127.0.0.1, run on the machine's Java from the jars `tests/kafka/pom.xml` fetches from Maven Central.

The session fixture formats the storage with a random cluster id, starts `kafka.Kafka`, waits until it
answers a metadata request, and stops it at the end. Without Java or the jars the Kafka tests are
skipped on a developer's machine and fail under CI=true. Test modules import the fixtures they use
by name (with `# ruff: noqa: F811`, as fixture arguments shadow the imports) alongside the helpers.
"""

import base64
import json
import os
import shutil
import signal
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parent.parent
KAFKA_SAMPLES = REPO / "fixtures" / "kafka"  # copy of ../shared/samples/kafka (MIT, kafka-docker-playground)
KAFKA_CI = REPO / "tests" / "kafka"
KAFKA_LIB = KAFKA_CI / "lib"
START_TIMEOUT = 90.0
AUDIT_TOPIC = "confluent-audit-log-events"

_SERVER_PROPERTIES = """\
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:{controller_port}
listeners=PLAINTEXT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{controller_port}
advertised.listeners=PLAINTEXT://127.0.0.1:{port}
controller.listener.names=CONTROLLER
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
log.dirs={data}
num.partitions=1
auto.create.topics.enable=false
offsets.topic.replication.factor=1
offsets.topic.num.partitions=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
"""
# Small and quick to start: the machine has 2 cores shared with other work.
_JAVA_OPTS = ["-Xms128m", "-Xmx512m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Djava.awt.headless=true"]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _missing(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"the Kafka tests need a real broker under CI: {reason}", pytrace=False)
    pytest.skip(reason)


def _jars() -> str:
    java = shutil.which("java")
    if java is None:
        _missing("no `java` on PATH (the broker runs on Java 17+)")
    if not any(KAFKA_LIB.glob("kafka_2.13-*.jar")):
        if shutil.which("mvn") is None:
            _missing(f"no Kafka jars in {KAFKA_LIB} and no `mvn` to fetch them (see .ci/run)")
        fetched = subprocess.run(["mvn", "-q", "-B", "-f", str(KAFKA_CI / "pom.xml"), "dependency:copy-dependencies"],
                                 capture_output=True, text=True, timeout=600)
        if fetched.returncode != 0:
            _missing(f"fetching the Kafka jars from Maven Central failed: {fetched.stdout[-2000:]}{fetched.stderr[-2000:]}")
    return str(KAFKA_LIB / "*")


@dataclass
class Broker:
    bootstrap: str
    cluster_id: str
    started_in: float

    def admin(self):
        from confluent_kafka.admin import AdminClient

        return AdminClient({"bootstrap.servers": self.bootstrap})

    def create_topic(self, name: str, partitions: int = 1, config: dict[str, str] | None = None) -> None:
        from confluent_kafka.admin import NewTopic

        admin = self.admin()  # kept referenced until the futures resolve: a collected client cancels them
        futures = admin.create_topics([NewTopic(name, partitions, 1, config=config or {})], operation_timeout=30)
        futures[name].result(timeout=60)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:  # metadata reaches the broker's cache a moment after the controller
            topic = admin.list_topics(name, timeout=10).topics.get(name)
            if topic is not None and topic.error is None and len(topic.partitions) == partitions:
                return
            time.sleep(0.1)
        raise AssertionError(f"topic {name} did not appear")

    def produce(self, topic: str, values: list[bytes | None], *, partition: int | None = None,
                headers: list[list[tuple[str, bytes]]] | None = None, timestamps: list[int] | None = None) -> None:
        from confluent_kafka import Producer

        producer = Producer({"bootstrap.servers": self.bootstrap, "linger.ms": 5, "acks": "all"})
        for n, value in enumerate(values):
            extra: dict[str, Any] = {}
            if partition is not None:
                extra["partition"] = partition
            if headers is not None:
                extra["headers"] = headers[n]
            if timestamps is not None:
                extra["timestamp"] = timestamps[n]
            producer.produce(topic, value=value, **extra)
        assert producer.flush(30) == 0, "messages left unsent"


def _wait_until_up(bootstrap: str, process: subprocess.Popen, log: Path) -> str:
    from confluent_kafka import KafkaException
    from confluent_kafka.admin import AdminClient

    admin = AdminClient({"bootstrap.servers": bootstrap, "logger": _silent_logger()})
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the Kafka broker exited with {process.returncode}:\n{log.read_text()[-4000:]}")
        try:
            metadata = admin.list_topics(timeout=2)
            if metadata.brokers:
                return metadata.cluster_id
        except KafkaException:
            time.sleep(0.3)
    raise RuntimeError(f"the Kafka broker did not answer within {START_TIMEOUT:.0f} s:\n{log.read_text()[-4000:]}")


def _silent_logger():
    import logging

    logger = logging.getLogger("tests.kafka")
    logger.addHandler(logging.NullHandler())
    logger.propagate = False
    return logger


@pytest.fixture(scope="session")
def kafka_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Broker]:
    classpath = _jars()
    work = tmp_path_factory.mktemp("kafka")
    port, controller_port = free_port(), free_port()
    properties = work / "server.properties"
    properties.write_text(_SERVER_PROPERTIES.format(port=port, controller_port=controller_port, data=work / "data"))
    cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
    java = ["java", *_JAVA_OPTS, "-cp", classpath]
    started = time.monotonic()
    subprocess.run([*java, "kafka.tools.StorageTool", "format", "-t", cluster_id, "-c", str(properties)],
                   check=True, capture_output=True, timeout=120)
    log = work / "broker.log"
    with open(log, "wb") as out:
        process = subprocess.Popen([*java, "kafka.Kafka", str(properties)], stdout=out, stderr=subprocess.STDOUT,
                                   start_new_session=True)
    try:
        answered = _wait_until_up(f"127.0.0.1:{port}", process, log)
        assert answered == cluster_id, (answered, cluster_id)
        yield Broker(f"127.0.0.1:{port}", cluster_id, time.monotonic() - started)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


# -- audit events in the shapes Confluent writes -------------------------------------------------------------

def sample(name: str) -> dict[str, Any]:
    return json.loads((KAFKA_SAMPLES / name).read_text(encoding="utf-8"))


def audit_event(n: int, *, cluster: str = "lkc-eu1", topic: str = "eu.loyalty.transactions", granted: bool = True,
                principal: str = "User:sa-loyalty", address: str = "/192.0.2.10", method: str = "kafka.FetchConsumer",
                operation: str = "Read", time_text: str | None = None) -> dict[str, Any]:
    """A Confluent Platform authorization event, shaped like the kafka-docker-playground samples."""
    event = sample("kdp-01-fetchconsumer-metadata-auth-456.json")
    crn = f"crn:///kafka={cluster}"
    event.update(id=str(uuid.UUID(int=n + 1)), source=crn, subject=f"{crn}/topic={topic}",
                 time=time_text or f"2026-03-02T09:{n // 60 % 60:02d}:{n % 60:02d}.000Z")
    data = event["data"]
    data.update(methodName=method, resourceName=f"{crn}/topic={topic}", serviceName=crn)
    data["authenticationInfo"]["principal"] = principal
    data["authorizationInfo"].update(granted=granted, operation=operation, resourceName=topic,
                                     superUserAuthorization=False)
    data["request"]["correlation_id"] = str(n)
    data["requestMetadata"]["client_address"] = address
    return event


def encoded(events: list[dict[str, Any]]) -> list[bytes]:
    return [json.dumps(e, separators=(",", ":")).encode() for e in events]
