"""A hostile-input corpus for the five `--path` verbs (issue 15, "Tests"): for each verb and each damage class, a
file of good records of that verb with one bad record between them, and what the pull must make of it.

Every record carries its class in its id (`<class>-g0`, `<class>-bad`), so one pull of a directory holding every
class's file still says, class by class, which records were stored; quarantine rows name their file.
"""

import copy
import gzip
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from azure_fixtures import activity_rest_event, keyvault_record
from conftest import ct_event
from kafka_fixtures import audit_event

WHEN = datetime(2024, 1, 2, 10, tzinfo=UTC)
BOM = b"\xef\xbb\xbf"
DEEP = 1000
HUGE_DIGITS = 5000
BEYOND_64_BITS = 2**64 + 1


@dataclass(frozen=True)
class Verb:
    name: str  # as `sovaudit pull <name>` spells it
    tables: tuple[str, ...]
    good: Callable[[str], dict]  # a good record whose identity is the given id
    uid: Callable[[str], str]  # the event_uid the lake gives that record
    time: tuple[str, ...]  # where its time is
    mapped: str  # a top-level name its mapping reads, for the case-variant class
    integer: tuple[str, ...] | None  # a field read as an integer, if the verb has one
    flags: tuple[str, ...] = ()

    def with_value(self, record_id: str, path: tuple[str, ...], value: Any) -> dict:
        record = self.good(record_id)
        inner = record
        for key in path[:-1]:
            inner = inner.setdefault(key, {})
        inner[path[-1]] = value
        return record


def _cloudtrail(record_id: str) -> dict:
    return ct_event(record_id)


def _azure(record_id: str) -> dict:
    """A Key Vault resource-log record, or (ids ending in an odd digit) an activity-log event: both tables."""
    if record_id[-1] in "13579":
        return {**activity_rest_event(WHEN, n=int(record_id[-1])), "eventDataId": record_id}
    return {**keyvault_record(WHEN, "KeyGet"), "id": record_id}


def _kafka_audit(record_id: str) -> dict:
    return {**audit_event(0), "id": record_id}


def _kafka_topic(record_id: str) -> dict:
    return {"snapshot_time": "2026-09-01T00:00:00Z", "cluster_id": "lkc-us1", "topic": record_id, "partitions": 3,
            "replication_factor": 3, "configs": {"retention.ms": "604800000", "cleanup.policy": "delete"}}


def _kafka_lineage(record_id: str) -> dict:
    return {"kafka": {"cluster_id": "lkc-eu1", "topic": record_id, "partition": 0, "offset": 7,
                      "timestamp": 1788220800000},
            "headers": {"region_origin": "eu-west-1", "encryption_key_id": "kms-eu"}}


VERBS = {
    "cloudtrail": Verb("cloudtrail", ("cloudtrail",), _cloudtrail, lambda i: i, ("eventTime",), "eventName",
                       ("additionalEventData", "bytesTransferredOut")),
    "azure": Verb("azure", ("azure_activity", "azure_resource"), _azure, lambda i: i, ("time",), "operationName",
                  ("durationMs",)),
    "kafka-audit": Verb("kafka-audit", ("kafka_audit",), _kafka_audit, lambda i: i, ("time",), "time", None,
                        ("--region", "eu-west-1")),
    "kafka-inventory": Verb("kafka-inventory", ("kafka_topics",), _kafka_topic,
                            lambda i: f"lkc-us1/{i}@2026-09-01T00:00:00Z", ("snapshot_time",), "topic",
                            ("partitions",), ("--region", "us-east-1")),
    "kafka-lineage": Verb("kafka-lineage", ("kafka_lineage",), _kafka_lineage, lambda i: f"lkc-eu1/{i}/0@7",
                          ("kafka", "timestamp"), "kafka", ("kafka", "offset"), ("--region", "eu-west-1")),
}


def compact(record: object) -> bytes:
    return json.dumps(record, separators=(",", ":")).encode()


def json_lines(spans: list[bytes]) -> bytes:
    return b"".join(span + b"\n" for span in spans)


def trail(spans: list[bytes]) -> bytes:
    return b'{"Records":[' + b",".join(spans) + b"]}"


def azure_export(spans: list[bytes]) -> bytes:
    return b'{"records":[' + b",".join(spans) + b"]}"


def array(spans: list[bytes]) -> bytes:
    return b"[" + b",".join(spans) + b"]"


def _string_field(verb: Verb) -> tuple[str, ...]:
    """A string the damage can sit in without changing what the record is."""
    return {"cloudtrail": ("userAgent",), "azure": ("callerIpAddress",), "kafka-audit": ("data", "methodName"),
            "kafka-inventory": ("configs", "cleanup.policy"), "kafka-lineage": ("headers", "encryption_key_id")}[
        verb.name]


def _in_string(verb: Verb, record_id: str, raw: bytes) -> bytes:
    """The record with `raw` (bytes as they stand in the file) inside one of its strings."""
    return compact(verb.with_value(record_id, _string_field(verb), "<<here>>")).replace(b"<<here>>", raw)


def _deep(verb: Verb, record_id: str) -> bytes:
    return compact(verb.good(record_id))[:-1] + b',"deep":' + b"[" * DEEP + b"]" * DEEP + b"}"


def _huge_number(verb: Verb, record_id: str) -> bytes:
    return compact(verb.good(record_id))[:-1] + b',"huge":' + b"7" * HUGE_DIGITS + b"}"


def _duplicate(verb: Verb, record_id: str) -> bytes:
    """The record's time key twice, with two different values: readers disagree on which one wins."""
    return b'{"' + verb.time[0].encode() + b'":"2024-01-01T00:00:00Z",' + compact(verb.good(record_id))[1:]


def _case_variant(verb: Verb, record_id: str) -> bytes:
    record = verb.good(record_id)
    variant = verb.mapped[0].upper() + verb.mapped[1:]
    return compact({variant: copy.deepcopy(record[verb.mapped]), **record}) if verb.mapped != "eventName" else \
        compact({"EventName": "DeleteBucket", **record})


def _time(value_text: str, value_ms: int | str) -> Callable[[Verb, str], bytes]:
    def bad(verb: Verb, record_id: str) -> bytes:
        return compact(verb.with_value(record_id, verb.time, value_ms if verb.name == "kafka-lineage" else value_text))
    return bad


def _integer(verb: Verb, record_id: str) -> bytes:
    if verb.integer is None:  # a Kafka audit file's records are CloudEvents; an envelope's offset is its integer
        envelope = {"kafka": {"cluster_id": "lkc-eu1", "topic": "confluent-audit-log-events", "partition": 0,
                              "offset": BEYOND_64_BITS, "timestamp": 1772442000000}, "value": verb.good(record_id)}
        return compact(envelope)
    return compact(verb.with_value(record_id, verb.integer, BEYOND_64_BITS))


@dataclass(frozen=True)
class Damage:
    """One damage class: the bad record (None: the class damages the file, not a record), and the file."""

    name: str
    bad: Callable[[Verb, str], bytes] | None
    layout: str = "between"  # how the file holds the good records and the bad one (see _write)


DAMAGE = [
    Damage("time-year-0", _time("0000-06-01T00:00:00Z", -62162035200000)),
    Damage("time-year-10000", _time("10000-01-01T00:00:00Z", 253402300800000)),
    Damage("time-infinity", _time("infinity", "infinity")),
    # Past DuckDB's timestamps (year 294247): for Kafka's milliseconds a cast that fails rather than a time to judge.
    Damage("time-beyond-range", _time("294248-01-01T00:00:00Z", 10**17)),
    Damage("depth", _deep),
    Damage("huge-number", _huge_number),
    Damage("integer-beyond-64-bits", _integer),
    Damage("invalid-utf8", lambda v, i: _in_string(v, i, b"agent-\xff\xfe")),
    Damage("nul-raw", lambda v, i: _in_string(v, i, b"agent-\x00")),
    Damage("nul-escaped", lambda v, i: _in_string(v, i, b"agent-\\u0000")),
    Damage("lone-surrogate", lambda v, i: _in_string(v, i, b"agent-\\ud800")),
    Damage("bom-at-start", None, "bom-at-start"),
    Damage("bom-mid-file", None, "bom-mid-file"),
    Damage("duplicate-key", _duplicate),
    Damage("case-variant-key", _case_variant),
    Damage("non-object-number", lambda v, i: b"42"),
    Damage("non-object-string", lambda v, i: b'"a record?"'),
    Damage("non-object-array", lambda v, i: b"[1,2]"),
    Damage("non-object-null", lambda v, i: b"null"),
    Damage("concatenated", None, "concatenated"),
    Damage("gzip-members", None, "gzip-members"),
    Damage("trailing-garbage", None, "trailing-garbage"),
    Damage("truncated-gzip", None, "truncated-gzip"),
    Damage("invalid-json", lambda v, i: compact(v.good(i))[:-1] + b',"broken":}'),
    Damage("invalid-json-first", lambda v, i: compact(v.good(i))[:-1] + b',"broken":}', "first"),
]


@dataclass
class ClassFile:
    """What one class's file holds: the ids of its good records, where its bad record stands (None: no bad record),
    and the file(s) written."""

    verb: str
    damage: str
    shape: str
    good: list[str]
    bad_id: str | None
    bad_position: int | None
    paths: list[Path]


def _shapes(verb: Verb) -> dict[str, Callable[[list[bytes]], bytes]]:
    """JSON lines for every verb, and the other shape each verb's exporters write, where there is one."""
    others = {"cloudtrail": {"records": trail}, "azure": {"records": azure_export}, "kafka-audit": {"array": array}}
    return {"lines": json_lines, **others.get(verb.name, {})}


def write_corpus(verb: Verb, root: Path, damages: list[Damage] | None = None) -> list[ClassFile]:
    """Every damage class's file(s) for `verb` under `root`, one per file shape the verb's exporters write."""
    root.mkdir(parents=True, exist_ok=True)
    files = []
    for shape_name, shape in _shapes(verb).items():
        for damage in damages or DAMAGE:
            stem = f"{damage.name}-{shape_name}"
            ids = [f"{stem}-g{n}" for n in range(3)]
            good = [compact(verb.good(i)) for i in ids]
            files.append(_write(verb, root, damage, shape_name, shape, stem, ids, good))
    return files


def _write(verb: Verb, root: Path, damage: Damage, shape_name: str, shape: Callable[[list[bytes]], bytes],
           stem: str, ids: list[str], good: list[bytes]) -> ClassFile:
    path = root / f"{stem}.json"
    entry = ClassFile(verb.name, damage.name, shape_name, ids, None, None, [path])
    if damage.layout == "between":
        entry.bad_id, entry.bad_position = f"{stem}-bad", 1
        path.write_bytes(shape([good[0], damage.bad(verb, entry.bad_id), good[1], good[2]]))
    elif damage.layout == "first":
        entry.bad_id, entry.bad_position = f"{stem}-bad", 0
        path.write_bytes(shape([damage.bad(verb, entry.bad_id), *good]))
    elif damage.layout == "bom-at-start":
        path.write_bytes(BOM + shape(good))
    elif damage.layout == "bom-mid-file":
        # Two exports joined (`cat`), the second written with a byte order mark.
        path.write_bytes(shape(good[:1]) + BOM + shape(good[1:]))
    elif damage.layout == "concatenated":
        path.write_bytes(b"".join(shape([span]).rstrip(b"\n") for span in good))
    elif damage.layout == "gzip-members":
        path = path.with_suffix(".json.gz")
        path.write_bytes(gzip.compress(shape(good[:2])) + gzip.compress(shape(good[2:])))
        entry.paths = [path]
    elif damage.layout == "trailing-garbage":
        entry.bad_position = len(good)
        path.write_bytes(shape(good) + b"<html>502 Bad Gateway</html>")
    elif damage.layout == "truncated-gzip":
        # The truncated file is the bad "record" (the blob as a whole); its good neighbours are in a sound file.
        path.write_bytes(shape(good))
        whole = gzip.compress(shape([compact(verb.good(f"{stem}-bad"))] * 2))
        cut = root / f"{stem}-cut.json.gz"
        cut.write_bytes(whole[: len(whole) // 2])
        entry.paths = [path, cut]
    else:
        raise ValueError(damage.layout)
    return entry
