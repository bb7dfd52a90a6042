"""Every `pull … --path` verb against hostile files: arbitrary bytes, and records in the source's shape whose fields
hold hostile strings, odd times, deep nesting or the wrong types. Whatever the file holds, the pull ends without a
traceback, `read = stored + duplicate + quarantined`, every stored row can be read back, and `verify` passes.

Bounded and deterministic (derandomize, no example database), so it takes seconds and never flakes in CI."""

import base64
import gzip
import json
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from azure_fixtures import activity_rest_event, keyvault_record, storage_record
from conftest import assert_counts_add_up, ct_event
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from kafka_fixtures import audit_event

from sovaudit.lake import Lake
from sovaudit.pull import pull_source
from sovaudit.schema import lake_tables
from sovaudit.sources import config_from_flags
from sovaudit.verify import verify_lake

BOUNDED = settings(max_examples=10, deadline=None, derandomize=True, database=None, print_blob=True,
                   suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
BOUNDED_RECORDS = settings(BOUNDED, max_examples=14)

HOSTILE = ["", " ", "\x00", "\x1b[31mred\x1b[0m", "\u202egnp.exe", "\ud800", "\U0001f4a9", "'; DROP TABLE events; --",
           "${jndi:ldap://x}", "%s%n%x", "{{7*7}}", "<script>alert(1)</script>", "\r\n\tinjected: header",
           "../../../../etc/passwd", "A" * 5000, "null", "[]", "{}", "1e999", "-0", "NaN", "AKIAIOSFODNN7EXAMPLE",
           "arn:aws:s3:::bucket/key", "/subscriptions/x/resourceGroups/y/providers/Microsoft.KeyVault/vaults/z",
           "crn:///kafka=lkc-1/topic=t", "192.168.0.1:11111", "[2001:db8::7]:443", "::", "999.999.999.999"]
ODD_TIMES = ["epoch", "infinity", "-infinity", "now", "2024-01-02", "2024-01-02T10:00:00", "2024-01-02T10:00:00+25:00",
             "9999-12-31T23:59:59", "9999-12-31T23:59:59Z", "9999-12-31T23:59:59-23:59", "0000-01-01T00:00:00Z",
             "0001-01-01T00:00:00+01:00", "2024-02-30T00:00:00Z", "2024-01-02T23:59:60Z", "1970-01-01T00:00:00Z",
             "2024-01-02T10:00:00." + "9" * 40 + "Z", "294247-01-10T04:00:54.775807Z", "-0001-01-01T00:00:00Z",
             "\uff12\uff10\uff12\uff14-01-02T10:00:00Z", " 2024-01-02T10:00:00Z", "2031-01-01T00:00:00Z"]
_RFC3339ISH = r"\A[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,9})?([Zz]|[+-][0-9]{2}:[0-9]{2})?\Z"

texts = st.sampled_from(HOSTILE) | st.text(max_size=24)
times = (st.sampled_from(ODD_TIMES) | st.from_regex(_RFC3339ISH)
         | st.datetimes(timezones=st.timezones()).map(lambda t: t.isoformat()))
numbers = (st.integers(min_value=-(2**70), max_value=2**70) | st.sampled_from([2**63 - 1, -(2**63), 2**64, -1, 0])
           | st.floats())
scalars = st.none() | st.booleans() | numbers | texts | times
json_values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=3)
                           | st.dictionaries(texts, inner, max_size=3), max_leaves=10)


def _lineage(n: int, when: Any) -> dict[str, Any]:
    return {"kafka": {"cluster_id": "lkc-eu1", "topic": "eu.orders", "partition": 0, "offset": n,
                      "timestamp": 1788220800000 + n if when is _KEEP else when},
            "headers": {"region_origin": "eu-west-1"}}


def _topic(n: int, when: Any) -> dict[str, Any]:
    return _timed({"snapshot_time": "2026-09-01T00:00:00Z", "cluster_id": "lkc-eu1", "topic": f"topic-{n}",
                   "partitions": 3, "replication_factor": 3,
                   "configs": {"retention.ms": "604800000", "cleanup.policy": "delete"}}, "snapshot_time", when)


def _kafka_audit(n: int, when: Any) -> dict[str, Any]:
    event = _timed(audit_event(n), "time", when)
    if n % 3 == 0:
        return event
    envelope = {"kafka": {"cluster_id": "lkc-eu1", "topic": "confluent-audit-log-events", "partition": 0, "offset": n,
                          "timestamp": 1788220800000 + n}}
    if n % 3 == 1:
        return {**envelope, "value_base64": base64.b64encode(json.dumps(event).encode()).decode()}
    return {**envelope, "value": event}


def _azure(n: int, when: Any) -> dict[str, Any]:
    at = datetime(2026, 3, 2, 9, n % 60, tzinfo=UTC)
    if n % 3 == 0:
        return _timed(keyvault_record(at, "KeyDecrypt"), "time", when)
    if n % 3 == 1:
        return _timed(storage_record(at, "GetBlob"), "time", when)
    return _timed(activity_rest_event(at, n=n), "eventTimestamp", when)


_KEEP = object()  # the record's own, plausible time


def _timed(record: dict[str, Any], key: str, when: Any) -> dict[str, Any]:
    return record if when is _KEEP else {**record, key: when}


# verb -> (record n with the given time, the wrapper key a whole file may use)
VERBS: dict[str, tuple[Callable[[int, Any], dict[str, Any]], str | None]] = {
    "cloudtrail": (lambda n, when: _timed(ct_event(f"e{n}"), "eventTime", when), "Records"),
    "azure": (_azure, "records"),
    "kafka-audit": (_kafka_audit, None),
    "kafka-inventory": (_topic, None),
    "kafka-lineage": (_lineage, None),
}
record_times = st.just(_KEEP) | times | times | numbers | st.none()


def _overwrite(record: dict[str, Any], draw: st.DrawFn) -> dict[str, Any]:
    """The record with some top-level fields and some fields of one nested object replaced by hostile values."""
    record = dict(record)
    record.update(draw(st.dictionaries(st.sampled_from(sorted(record)) | texts, json_values | times, max_size=4)))
    nested = [key for key, value in record.items() if isinstance(value, dict) and value]
    if nested:
        key = draw(st.sampled_from(nested))
        inner = dict(record[key])
        inner.update(draw(st.dictionaries(st.sampled_from(sorted(inner)), json_values | times, min_size=1, max_size=3)))
        record[key] = inner
    return record


@st.composite
def hostile_file(draw: st.DrawFn, verb: str) -> tuple[str, bytes]:
    """(file name, bytes): plausible records, some overwritten, in one of the layouts the verb reads."""
    make, wrapper = VERBS[verb]
    records: list[Any] = [make(n, draw(record_times)) for n in range(draw(st.integers(min_value=1, max_value=5)))]
    records = [_overwrite(r, draw) if draw(st.booleans()) else r for r in records]
    if draw(st.booleans()):
        records.insert(draw(st.integers(0, len(records))), draw(json_values))  # not an object, or a stray one
    compact, ascii_only = draw(st.booleans()), draw(st.booleans())

    def dump(value: Any) -> str:
        return json.dumps(value, ensure_ascii=ascii_only, separators=(",", ":") if compact else None)

    layout = draw(st.sampled_from(["lines", "array", "wrapper", "single"]))
    if layout == "lines":
        text = "".join(dump(r) + "\n" for r in records)
    elif layout == "array":
        text = dump(records)
    elif layout == "wrapper":
        text = dump({wrapper or "records": records})
    else:
        text = json.dumps(records[0], indent=2, ensure_ascii=ascii_only)
    data = text.encode("utf-8", "surrogatepass")
    return _maybe_gzip(draw, data)


FRAGMENTS = [b"{", b"}", b"[", b"]", b",", b":", b'"', b"\n", b"\r\n", b" ", b'"Records"', b'"records"', b'"value"',
             b'"eventTime"', b'"eventID"', b'"time"', b'"kafka"', b'"snapshot_time"', b'"specversion"', b"null",
             b"1e999", b"-0", b"\xff\xfe", b"\xc3", b"\x00", b"\x1f\x8b", b'"\\ud800"', b"NaN", b"{k=v, x=y}"]
raw_bytes = st.binary(max_size=2048) | st.lists(st.sampled_from(FRAGMENTS) | st.binary(max_size=8), max_size=60).map(
    b"".join)


def _maybe_gzip(draw: st.DrawFn, data: bytes) -> tuple[str, bytes]:
    how = draw(st.sampled_from(["plain", "plain", "plain", "gzip", "truncated gzip"]))
    if how == "plain":
        return draw(st.sampled_from(["in.json", "in.ndjson", "in.jsonl"])), data
    packed = gzip.compress(data, mtime=0)
    return "in.json.gz", packed if how == "gzip" else packed[: max(2, len(packed) * 2 // 3)]


@st.composite
def hostile_bytes(draw: st.DrawFn) -> tuple[str, bytes]:
    return _maybe_gzip(draw, draw(raw_bytes))


def _pull_survives(verb: str, name: str, data: bytes) -> None:
    with tempfile.TemporaryDirectory(prefix="sovaudit-fuzz-") as tmp:
        path = Path(tmp) / name
        path.write_bytes(data)
        lake = Lake(Path(tmp) / "lake")
        result = pull_source(lake, config_from_flags(verb, path=str(path)))
        assert_counts_add_up(result)
        assert result.exit_code in (0, 3)
        lake.refresh()
        for table in result.entry["tables"]:
            if table in lake_tables():
                lake.sql(f"SELECT * FROM {table}").fetchall()  # noqa: S608 (our own table names)
        lake.sql("SELECT * FROM quarantine").fetchall()
        report = verify_lake(Lake(lake.root))
        assert report.ok, report.breaks


def _bytes_target(verb: str) -> Callable[[], None]:
    @BOUNDED
    @given(hostile_bytes())
    def target(named: tuple[str, bytes]) -> None:
        _pull_survives(verb, *named)

    return target


def _records_target(verb: str) -> Callable[[], None]:
    @BOUNDED_RECORDS
    @given(hostile_file(verb))
    def target(named: tuple[str, bytes]) -> None:
        _pull_survives(verb, *named)

    return target


test_cloudtrail_path_bytes = _bytes_target("cloudtrail")
test_cloudtrail_path_records = _records_target("cloudtrail")
test_azure_path_bytes = _bytes_target("azure")
test_azure_path_records = _records_target("azure")
test_kafka_audit_path_bytes = _bytes_target("kafka-audit")
test_kafka_audit_path_records = _records_target("kafka-audit")
test_kafka_inventory_path_bytes = _bytes_target("kafka-inventory")
test_kafka_inventory_path_records = _records_target("kafka-inventory")
test_kafka_lineage_path_bytes = _bytes_target("kafka-lineage")
test_kafka_lineage_path_records = _records_target("kafka-lineage")
