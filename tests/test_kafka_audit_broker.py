"""`pull kafka-audit --bootstrap` against a real Apache Kafka broker: bounded, incremental reads with offsets in the
ledger, --since/--until through offsets_for_times, odd messages quarantined, secrets from the environment
kept out of everything written, and a clear error for an unreachable cluster."""

import base64
import json
import threading
import time
import uuid
from itertools import pairwise
from pathlib import Path

from conftest import assert_counts_add_up, run_cli
from kafka_fixtures import AUDIT_TOPIC, KAFKA_SAMPLES, audit_event, encoded, free_port

from sovaudit import open_lake
from sovaudit.lake import Lake
from sovaudit.pull import pull_source
from sovaudit.sources import config_from_flags

REGION = "eu-central-1"


def new_topic(broker, partitions: int = 1) -> str:
    name = f"audit-{uuid.uuid4().hex[:8]}"
    broker.create_topic(name, partitions)
    return name


def pull(lake_dir: Path, broker, topic: str | None, since: str | None = None, until: str | None = None):
    spec = config_from_flags("kafka-audit", bootstrap=broker.bootstrap, topic=topic, region=REGION)
    result = pull_source(Lake(lake_dir), spec, since=since, until=until)
    assert_counts_add_up(result)
    return result


def kafka_inputs(result) -> list[tuple[int, int, int]]:
    return sorted((i["partition"], i["first_offset"], i["last_offset"]) for i in result.entry["inputs"])


def offsets(lake_dir: Path) -> dict[int, list[int]]:
    found: dict[int, list[int]] = {}
    for partition, offset in open_lake(lake_dir).sql(
            "SELECT kafka_partition, kafka_offset FROM kafka_audit ORDER BY ALL").fetchall():
        found.setdefault(partition, []).append(offset)
    return found


def test_pull_is_incremental_by_partition_offsets_kept_in_the_ledger(kafka_broker, lake_dir):
    topic = new_topic(kafka_broker, partitions=2)
    kafka_broker.produce(topic, encoded([audit_event(n) for n in range(5)]), partition=0)
    kafka_broker.produce(topic, encoded([audit_event(n) for n in range(5, 8)]), partition=1)

    first = pull(lake_dir, kafka_broker, topic)
    assert first.counts == {"read": 8, "stored": 8, "duplicate": 0, "quarantined": 0}
    assert kafka_inputs(first) == [(0, 0, 4), (1, 0, 2)]
    assert {i["cluster_id"] for i in first.entry["inputs"]} == {kafka_broker.cluster_id}
    assert {i["high_watermark"] for i in first.entry["inputs"] if i["partition"] == 0} == {5}
    assert offsets(lake_dir) == {0: [0, 1, 2, 3, 4], 1: [0, 1, 2]}
    row = open_lake(lake_dir).sql("SELECT account, region, kafka_cluster_id, kafka_topic, src_ip, action_class "
                                  "FROM kafka_audit WHERE id = ?", [audit_event(6)["id"]]).fetchall()[0]
    assert row == ("lkc-eu1", REGION, kafka_broker.cluster_id, topic, "192.0.2.10", "read")

    again = pull(lake_dir, kafka_broker, topic)
    assert again.counts == {"read": 0, "stored": 0, "duplicate": 0, "quarantined": 0}
    assert again.entry["inputs"] == [] and again.exit_code == 0

    kafka_broker.produce(topic, encoded([audit_event(n) for n in range(8, 10)]), partition=1)
    third = pull(lake_dir, kafka_broker, topic)
    assert third.counts == {"read": 2, "stored": 2, "duplicate": 0, "quarantined": 0}
    assert kafka_inputs(third) == [(1, 3, 4)]
    assert offsets(lake_dir) == {0: [0, 1, 2, 3, 4], 1: [0, 1, 2, 3, 4]}
    assert open_lake(lake_dir).sql("SELECT count(*) FROM events").fetchall()[0] == (10,)


def test_a_pull_stops_at_the_high_watermark_while_producers_keep_writing(kafka_broker, lake_dir):
    topic = new_topic(kafka_broker)
    kafka_broker.produce(topic, encoded([audit_event(n) for n in range(300)]))
    stop = threading.Event()
    produced = [300]

    def keep_producing() -> None:
        while not stop.is_set():
            kafka_broker.produce(topic, encoded([audit_event(produced[0] + n) for n in range(20)]))
            produced[0] += 20

    writer = threading.Thread(target=keep_producing)
    writer.start()
    try:
        time.sleep(0.5)
        first = pull(lake_dir, kafka_broker, topic)
    finally:
        stop.set()
        writer.join()
    # One blob per BLOB_RECORDS records: a fast producer can fill more than one before the pull starts.
    blobs = kafka_inputs(first)
    assert all(later[1] == earlier[2] + 1 for earlier, later in pairwise(blobs)), blobs
    start, last = blobs[0][1], blobs[-1][2]
    high = first.entry["inputs"][-1]["high_watermark"]
    assert start == 0 and last == high - 1 and first.counts["stored"] == high >= 300
    rest = pull(lake_dir, kafka_broker, topic)
    assert rest.counts["stored"] == produced[0] - high
    assert open_lake(lake_dir).sql("SELECT count(DISTINCT kafka_offset), max(kafka_offset) FROM kafka_audit"
                                   ).fetchall()[0] == (produced[0], produced[0] - 1)


def test_since_and_until_map_to_offsets_through_offsets_for_times(kafka_broker, tmp_path):
    topic = new_topic(kafka_broker)
    base = 1_772_442_000_000  # 2026-03-02T09:00:00Z
    events = [audit_event(n, time_text=f"2026-03-02T09:0{n}:00.000Z") for n in range(4)]
    kafka_broker.produce(topic, encoded(events), timestamps=[base + n * 60_000 for n in range(4)])

    since = pull(tmp_path / "since", kafka_broker, topic, since="2026-03-02T09:02:00Z")
    assert kafka_inputs(since) == [(0, 2, 3)]
    until = pull(tmp_path / "until", kafka_broker, topic, until="2026-03-02T09:02:00Z")
    assert kafka_inputs(until) == [(0, 0, 1)]
    # The next pull goes on from where the bounded one stopped.
    assert kafka_inputs(pull(tmp_path / "until", kafka_broker, topic)) == [(0, 2, 3)]


def test_messages_that_are_not_audit_events_are_quarantined_with_their_offset(kafka_broker, lake_dir):
    topic = new_topic(kafka_broker)
    pretty = json.dumps(audit_event(1), indent=2).encode()  # valid JSON over several lines: kept, via base64
    kafka_broker.produce(topic, [encoded([audit_event(0)])[0], b"not json at all", None, pretty, b"{\xff}",
                                 json.dumps({"schema": {}, "payload": {}}).encode()])
    result = pull(lake_dir, kafka_broker, topic)
    assert result.counts == {"read": 6, "stored": 2, "duplicate": 0, "quarantined": 4}
    assert result.exit_code == 3
    reasons = dict(open_lake(lake_dir).sql("SELECT record_index, reason FROM quarantine").fetchall())
    assert reasons[1].startswith("message at partition 0 offset 1 is not JSON")
    assert reasons[2] == "message at partition 0 offset 2 has no value (a tombstone)"
    assert reasons[4] == "message at partition 0 offset 4 is not UTF-8 text"
    assert reasons[5].startswith("message at partition 0 offset 5 is not a Confluent audit event (CloudEvents)")
    assert offsets(lake_dir) == {0: [0, 3]}
    # The archive holds the multi-line value exactly as the broker delivered it.
    blob = result.entry["inputs"][0]["blob"]
    archived = (lake_dir / "raw" / blob[:2] / blob).read_bytes()
    line = json.loads(archived.splitlines()[3])
    assert base64.b64decode(line["value_base64"]) == pretty


def test_unreachable_broker_fails_within_15_seconds_naming_the_address(tmp_path):
    address = f"127.0.0.1:{free_port()}"
    started = time.monotonic()
    cli = run_cli("pull", "kafka-audit", "--bootstrap", address, "--lake", str(tmp_path / "lake"), timeout=60)
    elapsed = time.monotonic() - started
    assert cli.returncode == 3, cli.stderr
    assert elapsed < 15, elapsed
    assert f"cannot reach Kafka at {address}" in " ".join(cli.stdout.split())
    assert "%3|" not in cli.stderr  # librdkafka's own retry log stays off the terminal


def test_client_settings_come_from_the_config_and_secrets_from_the_environment_only(kafka_broker, tmp_path):
    topic = new_topic(kafka_broker)
    kafka_broker.produce(topic, encoded([audit_event(n) for n in range(3)]))
    secret = f"s3cret-{uuid.uuid4().hex}"
    config = tmp_path / "sovaudit.toml"
    config.write_text(f'''
[[sources]]
name = "audit-eu"
type = "kafka-audit"
bootstrap = "{kafka_broker.bootstrap}"
topic = "{topic}"
region = "eu-central-1"
[sources.client]
"client.id" = "sovaudit-${{SOVAUDIT_TEST_SECRET}}"
"sasl.password" = "${{SOVAUDIT_TEST_SECRET}}"
"fetch.wait.max.ms" = 100
''')
    lake = tmp_path / "lake"
    missing = run_cli("pull", "--config", str(config), "--lake", str(lake))
    assert missing.returncode == 2
    assert "client.client.id refers to ${SOVAUDIT_TEST_SECRET}" in " ".join(missing.stderr.split())

    env = {"SOVAUDIT_TEST_SECRET": secret}
    pulled = run_cli("pull", "--config", str(config), "--lake", str(lake), "--format", "json", env=env)
    assert pulled.returncode == 0, pulled.stderr
    assert json.loads(pulled.stdout)[0]["counts"]["stored"] == 3
    # The same cluster on the command line takes the entry's client settings and region.
    kafka_broker.produce(topic, encoded([audit_event(3)]))
    flags = run_cli("pull", "kafka-audit", "--bootstrap", kafka_broker.bootstrap, "--topic", topic,
                    "--config", str(config), "--lake", str(lake), env=env)
    assert flags.returncode == 0, flags.stderr
    assert open_lake(lake).sql("SELECT DISTINCT region FROM kafka_audit").fetchall() == [("eu-central-1",)]
    entries = open_lake(lake).ledger.entries()
    assert entries[-1]["source"]["client"]["sasl.password"] == "${SOVAUDIT_TEST_SECRET}"
    needle = secret.encode()
    leaked = [p for p in lake.rglob("*") if p.is_file() and needle in p.read_bytes()]
    assert leaked == []
    assert secret not in pulled.stdout + pulled.stderr + flags.stdout + flags.stderr


def test_the_published_samples_produced_to_the_default_topic_are_pulled_without_topic_flag(kafka_broker, tmp_path):
    if AUDIT_TOPIC not in kafka_broker.admin().list_topics(timeout=10).topics:
        kafka_broker.create_topic(AUDIT_TOPIC)
    samples = sorted(KAFKA_SAMPLES.glob("kdp-0*.json"))
    kafka_broker.produce(AUDIT_TOPIC, [p.read_bytes() for p in samples])  # pretty-printed, exactly as published
    lake_dir = tmp_path / "lake"
    cli = run_cli("pull", "kafka-audit", "--bootstrap", kafka_broker.bootstrap, "--region", "eu-west-1",
                  "--lake", str(lake_dir), "--format", "json")
    assert cli.returncode == 0, cli.stderr
    assert json.loads(cli.stdout)[0]["counts"] == {"read": 5, "stored": 5, "duplicate": 0, "quarantined": 0}
    got = open_lake(lake_dir).sql("SELECT id, kafka_topic, specversion FROM kafka_audit ORDER BY kafka_offset").fetchall()
    assert got == [(json.loads(p.read_text())["id"], AUDIT_TOPIC, "0.3") for p in samples]


def test_long_partitions_split_into_consecutive_blobs(kafka_broker, lake_dir, monkeypatch):
    import sovaudit.sources.kafka.reader as kafka_reader

    monkeypatch.setattr(kafka_reader, "BLOB_RECORDS", 4)
    topic = new_topic(kafka_broker)
    kafka_broker.produce(topic, encoded([audit_event(n) for n in range(10)]))
    result = pull(lake_dir, kafka_broker, topic)
    assert kafka_inputs(result) == [(0, 0, 3), (0, 4, 7), (0, 8, 9)]
    assert result.counts["stored"] == 10
    assert open_lake(lake_dir).sql("SELECT evidence_index, kafka_offset FROM kafka_audit WHERE kafka_offset >= 4 "
                                   "AND kafka_offset < 8 ORDER BY 2").fetchall() == [(0, 4), (1, 5), (2, 6), (3, 7)]


def test_a_partition_that_stops_short_of_its_planned_end_is_reported_not_waited_for(kafka_broker, monkeypatch):
    import sovaudit.sources.kafka.reader as kafka_reader
    from sovaudit.ingest.blobs import FailedInput
    from sovaudit.sources.kafka.audit import audit_line
    from sovaudit.sources.kafka.client import make_consumer
    from sovaudit.sources.kafka.offsets import PartitionRead

    monkeypatch.setattr(kafka_reader, "IDLE_LIMIT", 1.0)
    topic = new_topic(kafka_broker)
    kafka_broker.produce(topic, encoded([audit_event(n) for n in range(3)]))
    spec = config_from_flags("kafka-audit", bootstrap=kafka_broker.bootstrap, topic=topic)
    consumer = make_consumer(spec)
    try:
        reader = kafka_reader.TopicReader(consumer, kafka_broker.cluster_id, topic, audit_line(kafka_broker.cluster_id))
        items = list(reader.blobs([PartitionRead(0, 0, 10, 0, 10)]))  # an end the partition never reaches
    finally:
        consumer.close()
    blob, failed = items
    assert (blob.origin["first_offset"], blob.origin["last_offset"]) == (0, 2)
    assert isinstance(failed, FailedInput) and "at offset 3, short of offset 10" in failed.error


def test_records_deleted_before_a_pull_reached_them_are_reported_once_as_a_gap(kafka_broker, lake_dir):
    from confluent_kafka import TopicPartition

    topic = new_topic(kafka_broker)
    kafka_broker.produce(topic, encoded([audit_event(n) for n in range(5)]))
    assert pull(lake_dir, kafka_broker, topic).counts["stored"] == 5
    kafka_broker.produce(topic, encoded([audit_event(n) for n in range(5, 10)]))
    admin = kafka_broker.admin()
    for future in admin.delete_records([TopicPartition(topic, 0, 8)], request_timeout=30).values():
        future.result(timeout=60)  # what retention does to old segments: the log now starts at offset 8

    gapped = pull(lake_dir, kafka_broker, topic)
    assert gapped.exit_code == 3 and kafka_inputs(gapped) == [(0, 8, 9)]
    [failure] = gapped.entry["failures"]
    assert (failure["partition"], failure["first_offset"], failure["last_offset"]) == (0, 5, 7)
    assert "offsets 5–7 were removed by the topic's retention before they were pulled" in failure["error"]
    after = pull(lake_dir, kafka_broker, topic)
    assert after.exit_code == 0 and after.entry["failures"] == [] and after.counts["read"] == 0
