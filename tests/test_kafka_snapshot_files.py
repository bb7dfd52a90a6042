"""`pull kafka-inventory --path` and `pull kafka-lineage --path`: inventory snapshots and header exports taken
elsewhere, in the format a broker pull writes, read from files. No broker needed."""

import gzip
import json
from pathlib import Path

import pytest
from conftest import assert_counts_add_up, run_cli

from sovaudit.config import parse_config
from sovaudit.errors import ConfigError, UsageError
from sovaudit.lake import Lake
from sovaudit.pull import pull_source
from sovaudit.sources import config_from_flags

SNAPSHOT = "2026-09-01T00:00:00Z"
CLUSTER = "lkc-us1"
WEEK_MS = str(7 * 24 * 3600 * 1000)


def topic_line(topic: str, **configs: str) -> dict:
    return {"snapshot_time": SNAPSHOT, "cluster_id": CLUSTER, "topic": topic, "partitions": 3,
            "replication_factor": 3, "configs": {"retention.bytes": "-1", "cleanup.policy": "delete", **configs}}


def write_ndjson(path: Path, records: list[dict], gz: bool = False) -> Path:
    data = b"".join(json.dumps(r, separators=(",", ":")).encode() + b"\n" for r in records)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(data) if gz else data)
    return path


def inventory(path: Path) -> Path:
    return write_ndjson(path, [
        topic_line("eu.loyalty.transactions", **{"retention.ms": "-1"}),  # mirrored from the configured alias eu
        topic_line("ap.heartbeats"),  # reveals the alias ap
        topic_line("ap.metrics", **{"retention.ms": "86400000"}),
        topic_line("orders.v2", **{"retention.ms": WEEK_MS, "cleanup.policy": "compact,delete"}),
    ])


def lineage_record(partition: int, offset: int, **headers: str) -> dict:
    return {"kafka": {"cluster_id": "lkc-eu1", "topic": "eu.loyalty.transactions", "partition": partition,
                      "offset": offset, "timestamp": 1788220800000 + offset},
            "headers": headers}


def query(lake_dir: Path, sql: str) -> list[tuple]:
    lake = Lake(lake_dir)
    lake.refresh()
    return lake.sql(sql).fetchall()


def test_an_inventory_snapshot_file_lands_in_kafka_topics_with_mirrormaker2_roles(tmp_path):
    lake_dir = tmp_path / "lake"
    snapshot = inventory(tmp_path / "snapshots" / "us-inventory.ndjson")
    spec = config_from_flags("kafka-inventory", path=str(snapshot.parent), region="us-east-1",
                                   mirror_aliases=["eu"])
    result = pull_source(Lake(lake_dir), spec)
    assert result.counts == {"read": 4, "stored": 4, "duplicate": 0, "quarantined": 0}
    assert_counts_add_up(result)
    assert result.exit_code == 0 and result.notes == []
    assert [(i["kind"], i["status"]) for i in result.entry["inputs"]] == [("file", "ingested")]

    got = {r[0]: r[1:] for r in query(lake_dir, (
        "SELECT topic, region, cluster_id, retention_ms, retention_bytes, cleanup_policy, mm2_role, mirror_alias, "
        "mirrored_topic, partitions, replication_factor, CAST(snapshot_time AS VARCHAR) FROM kafka_topics"))}
    assert set(got) == {"eu.loyalty.transactions", "ap.heartbeats", "ap.metrics", "orders.v2"}
    assert got["eu.loyalty.transactions"][:8] == ("us-east-1", CLUSTER, -1, -1, "delete", "remote_topic", "eu",
                                                  "loyalty.transactions")
    assert got["ap.metrics"][2:8] == (86400000, -1, "delete", "remote_topic", "ap", "metrics")
    assert got["ap.heartbeats"][5:8] == ("remote_heartbeats", None, None)
    assert got["orders.v2"][2:10] == (int(WEEK_MS), -1, "compact,delete", None, None, None, 3, 3)
    assert got["orders.v2"][10].startswith("2026-09-01 00:00:00")
    assert query(lake_dir, "SELECT count(*) FROM events") == [(0,)]  # not audit events

    # The same file again: an archived blob, skipped unread; nothing new is stored.
    again = pull_source(Lake(lake_dir), spec)
    assert again.counts == {"read": 0, "stored": 0, "duplicate": 0, "quarantined": 0}
    assert again.entry["blobs"]["blobs_skipped"] == 1 and again.exit_code == 0
    # The same snapshot in other bytes (gzipped, next to it): read, and every record a duplicate.
    records = [json.loads(line) for line in snapshot.read_text().splitlines()]
    write_ndjson(snapshot.parent / "copy" / "us-inventory.ndjson.gz", records, gz=True)
    copy = pull_source(Lake(lake_dir), spec)
    assert copy.counts == {"read": 4, "stored": 0, "duplicate": 4, "quarantined": 0}
    assert_counts_add_up(copy)
    assert query(lake_dir, "SELECT count(*) FROM kafka_topics") == [(4,)]


def test_a_gzipped_lineage_export_lands_in_kafka_lineage(tmp_path):
    lake_dir = tmp_path / "lake"
    export = write_ndjson(tmp_path / "lineage" / "eu-lineage.ndjson.gz", [
        lineage_record(0, 0, region_origin="eu-west-1", encryption_key_id="kms-key-0",
                       processing_timestamp="2026-09-01T00:00:00Z", tenant="acme"),
        lineage_record(0, 1, region_origin="us-east-1", encryption_key_id="kms-key-1"),
        lineage_record(1, 0),  # no lineage headers: unlabelled data is a row too
    ], gz=True)
    spec = config_from_flags("kafka-lineage", path=str(export), region="eu-west-1")
    result = pull_source(Lake(lake_dir), spec)
    assert result.counts == {"read": 3, "stored": 3, "duplicate": 0, "quarantined": 0}
    assert_counts_add_up(result)

    rows = query(lake_dir, 'SELECT partition, "offset", region_origin, encryption_key_id, processing_timestamp, '
                           "headers, cluster_id, region, topic, epoch_ms(message_time) FROM kafka_lineage "
                           'ORDER BY partition, "offset"')
    assert [r[:5] for r in rows] == [
        (0, 0, "eu-west-1", "kms-key-0", "2026-09-01T00:00:00Z"), (0, 1, "us-east-1", "kms-key-1", None),
        (1, 0, None, None, None)]
    assert json.loads(rows[0][5])["tenant"] == "acme" and json.loads(rows[2][5]) == {}
    assert {r[6:9] for r in rows} == {("lkc-eu1", "eu-west-1", "eu.loyalty.transactions")}
    assert rows[1][9] == 1788220800001

    again = pull_source(Lake(lake_dir), spec)
    assert again.counts["stored"] == 0 and again.entry["blobs"]["blobs_skipped"] == 1
    assert query(lake_dir, "SELECT count(*) FROM kafka_lineage") == [(3,)]


def test_lineage_topics_with_path_do_not_filter_and_say_so(tmp_path):
    export = write_ndjson(tmp_path / "lineage.jsonl", [lineage_record(0, 0, region_origin="eu-west-1")])
    spec = config_from_flags("kafka-lineage", path=str(export), topics=["another.topic"], region="eu-west-1")
    result = pull_source(Lake(tmp_path / "lake"), spec)
    assert result.counts["stored"] == 1
    assert any("another.topic" in note and "every record is pulled" in note for note in result.notes), result.notes


def test_a_malformed_line_and_a_non_json_file_are_quarantined_and_the_rest_stored(tmp_path):
    lake_dir = tmp_path / "lake"
    snapshots = tmp_path / "snapshots"
    good = json.dumps(topic_line("orders.v2", **{"retention.ms": WEEK_MS}), separators=(",", ":"))
    broken = '{"snapshot_time":"2026-09-01T00:00:00Z","topic":"broken'
    (snapshots / "part").mkdir(parents=True)
    (snapshots / "part" / "a.ndjson").write_text(
        good + "\n" + broken + "\n"
        + json.dumps(topic_line("payments"), separators=(",", ":")) + "\n")
    (snapshots / "b.json").write_text("this is not JSON at all\n")
    (snapshots / "README.md").write_text("ignored: not a snapshot file suffix\n")
    result = pull_source(Lake(lake_dir), config_from_flags("kafka-inventory", path=str(snapshots),
                                                                 region="us-east-1"))
    assert result.counts["stored"] == 2 and result.counts["quarantined"] == 2, result.counts
    assert_counts_add_up(result)
    assert result.exit_code == 3  # partial evidence
    assert sorted(r[0] for r in query(lake_dir, "SELECT topic FROM kafka_topics")) == ["orders.v2", "payments"]
    quarantined = {Path(origin).name: reason for origin, reason in query(lake_dir,
                                                                          "SELECT origin, reason FROM quarantine")}
    assert set(quarantined) == {"a.ndjson", "b.json"}, quarantined
    # The extractor's reasons, naming the byte offset where the JSON broke.
    unterminated = len(good) + 1 + broken.index('"broken')
    assert quarantined["a.ndjson"] == ("invalid JSON on line 2: a string runs to the end of the data at byte offset "
                                       f"{unterminated}"), quarantined
    assert quarantined["b.json"] == "invalid JSON on line 1: expected a JSON value, found 't' at byte offset 0"


def test_an_empty_or_missing_path_is_a_usage_error(tmp_path):
    (tmp_path / "empty").mkdir()
    for what, where in (("Kafka inventory", tmp_path / "empty"), ("Kafka lineage", tmp_path / "missing")):
        source_type = "kafka-inventory" if "inventory" in what else "kafka-lineage"
        with pytest.raises(UsageError, match=f"no {what} files found"):
            pull_source(Lake(tmp_path / "lake"), config_from_flags(source_type, path=str(where)))


@pytest.mark.parametrize("source_type", ["kafka-inventory", "kafka-lineage"])
def test_exactly_one_of_bootstrap_or_path(source_type):
    topics = {"topics": ["t"]} if source_type == "kafka-lineage" else {}
    topics_toml = 'topics = ["t"]\n' if topics else ""
    for flags in ({"bootstrap": "h:9092", "path": "x", **topics}, {"bootstrap": "h:9092", "path": "x"}, topics):
        with pytest.raises(UsageError, match="set exactly one of bootstrap \\(a broker\\) or path \\(files\\)"):
            config_from_flags(source_type, **flags)
    with pytest.raises(ConfigError, match=r"cfg.toml: sources\[0\].*set exactly one of bootstrap"):
        parse_config(f'[[sources]]\nname = "k"\ntype = "{source_type}"\nbootstrap = "h:9092"\npath = "x"\n'
                     + topics_toml, "cfg.toml")
    with pytest.raises(ConfigError, match="set exactly one of bootstrap"):
        parse_config(f'[[sources]]\nname = "k"\ntype = "{source_type}"\n', "cfg.toml")
    assert parse_config(f'[[sources]]\nname = "k"\ntype = "{source_type}"\npath = "x"\n').sources[0].path == "x"


def test_lineage_from_a_broker_still_needs_topics():
    with pytest.raises(UsageError, match="--topics: at least one data topic to read from the broker"):
        config_from_flags("kafka-lineage", bootstrap="h:9092")
    with pytest.raises(ConfigError, match=r"sources\[0\]\.topics: .*at least one data topic"):
        parse_config('[[sources]]\nname = "k"\ntype = "kafka-lineage"\nbootstrap = "h:9092"\n', "cfg.toml")
    assert config_from_flags("kafka-lineage", bootstrap="h:9092", topics=["t"]).topics == ["t"]
    assert config_from_flags("kafka-lineage", path="x").topics == []


def test_the_cli_pulls_inventory_and_lineage_files_as_json(tmp_path):
    lake_dir = tmp_path / "lake"
    snapshot = inventory(tmp_path / "inventory.ndjson")
    cli = run_cli("pull", "kafka-inventory", "--path", str(snapshot), "--mirror-alias", "eu", "--lake",
                  str(lake_dir), "--region", "us-east-1", "--format", "json", cwd=tmp_path)
    assert cli.returncode == 0, cli.stderr
    [summary] = json.loads(cli.stdout)
    assert summary["counts"] == {"read": 4, "stored": 4, "duplicate": 0, "quarantined": 0}
    assert query(lake_dir, "SELECT mirror_alias FROM kafka_topics WHERE topic = 'eu.loyalty.transactions'") == [("eu",)]

    export = write_ndjson(tmp_path / "lineage" / "x.jsonl", [lineage_record(0, 0, region_origin="eu-west-1")])
    cli = run_cli("pull", "kafka-lineage", "--path", str(export.parent), "--lake", str(lake_dir), "--region",
                  "eu-west-1", "--format", "json", cwd=tmp_path)
    assert cli.returncode == 0, cli.stderr
    assert json.loads(cli.stdout)[0]["counts"]["stored"] == 1
    assert query(lake_dir, "SELECT region_origin, region FROM kafka_lineage") == [("eu-west-1", "eu-west-1")]


def test_the_cli_refuses_both_or_neither_input(tmp_path):
    for verb, topic in (("kafka-inventory", []), ("kafka-lineage", ["--topic", "t"])):
        for flags in (["--bootstrap", "h:9092", "--path", str(tmp_path), *topic], []):
            cli = run_cli("pull", verb, *flags, "--lake", str(tmp_path / "lake"), cwd=tmp_path)
            message = "".join(cli.stderr.splitlines())  # Rich wraps long lines on the terminal
            assert cli.returncode == 2, (verb, flags, cli.stdout, cli.stderr)
            assert f"pull {verb}: set exactly one of bootstrap (a broker) or path (files)" in message, message
    cli = run_cli("pull", "kafka-lineage", "--bootstrap", "h:9092", "--lake", str(tmp_path / "lake"), cwd=tmp_path)
    assert cli.returncode == 2 and "at least one data topic" in "".join(cli.stderr.splitlines()), cli.stderr


def test_help_of_both_verbs_shows_path_and_a_path_example():
    for verb in ("kafka-inventory", "kafka-lineage"):
        shown = run_cli("pull", verb, "--help")
        assert shown.returncode == 0, shown.stderr
        assert "--path" in shown.stdout and "--bootstrap" in shown.stdout
        assert f"sovaudit pull {verb} --path" in shown.stdout, shown.stdout
