"""The native extractor (sovaudit.ingest.extract over sovaudit._native): every blob shape, every damage class as
one record's problem, the field types, the Arrow hand-over, and the GIL released while it reads."""

import gzip
import json
import re
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest
from conftest import REPO, ct_event
from extract_reference import assert_same_rows, reference_extract

from sovaudit.ingest.blobs import gunzip_if_needed
from sovaudit.ingest.extract import MAX_DEPTH, SpecError, extract, load_spec, parse_spec

SPEC = load_spec("cloudtrail")
SAMPLES = sorted((REPO / "fixtures" / "aws" / "cloudtrail").glob("*.json.gz"))
DEMO = sorted((REPO / "sovaudit" / "demo" / "data").rglob("*CloudTrail*.json.gz"))


def _records(n: int = 3) -> list[dict]:
    return [ct_event(f"e{i}", time=f"2024-01-02T10:00:0{i}Z") for i in range(n)]


def _dump(record: dict) -> bytes:
    return json.dumps(record).encode()


def _ids(extracted) -> list[str]:
    return extracted.batch.column("event_id").to_pylist()


def _wrapped(spans: list[bytes], key: bytes = b"Records") -> bytes:
    return b'{"' + key + b'": [' + b",".join(spans) + b"]}"


def _lines(spans: list[bytes]) -> bytes:
    return b"\n".join(spans) + b"\n"


# -- shapes ---------------------------------------------------------------------------------------------------------

SHAPES = {
    "Records": lambda rs: _wrapped([_dump(r) for r in rs]),
    "records": lambda rs: _wrapped([_dump(r) for r in rs], b"records"),
    "value": lambda rs: _wrapped([_dump(r) for r in rs], b"value"),
    "wrapper with members around it": lambda rs: b'{"kind": "x", "Records": [' + b",".join(map(_dump, rs))
    + b'], "next": {"a": [1]}}',
    "bare array": lambda rs: b"[" + b",".join(map(_dump, rs)) + b"]",
    "JSON lines": lambda rs: _lines([_dump(r) for r in rs]),
    "JSON lines, CRLF": lambda rs: b"\r\n".join(map(_dump, rs)) + b"\r\n",
    "pretty-printed objects": lambda rs: b"\n".join(json.dumps(r, indent=2).encode() for r in rs),
    "concatenated objects": lambda rs: b"".join(map(_dump, rs)),
    "concatenated wrappers": lambda rs: _wrapped([_dump(rs[0])]) + _wrapped([_dump(r) for r in rs[1:]]),
    "concatenated pretty wrappers": lambda rs: b"\n".join(json.dumps({"Records": [r]}, indent=1).encode() for r in rs),
    "a wrapper per line": lambda rs: _lines([_wrapped([_dump(r)]) for r in rs]),
    "a BOM first": lambda rs: b"\xef\xbb\xbf" + _wrapped([_dump(r) for r in rs]),
    "a BOM before each document": lambda rs: b"".join(b"\xef\xbb\xbf" + _wrapped([_dump(r)]) for r in rs),
}


@pytest.mark.parametrize("shape", SHAPES)
def test_every_shape_gives_every_record_with_its_position_and_offset(shape):
    records = _records()
    blob = SHAPES[shape](records)
    out = extract(blob, SPEC)
    assert out.set_aside == []
    assert _ids(out) == ["e0", "e1", "e2"]
    for row in out.batch.to_pylist():
        span = blob[row["_offset"]:row["_offset"] + row["_length"]]
        assert json.loads(span)["eventID"] == row["event_id"]
        assert span.startswith(b"{") and span.endswith(b"}")
    positions = out.batch.column("_position").to_pylist()
    assert len(set(positions)) == 3 and positions == sorted(positions)


@pytest.mark.parametrize("shape", [s for s in SHAPES if "BOM" not in s])
def test_positions_and_offsets_are_the_careful_paths(shape):
    """The same positions and offsets as sovaudit.ingest.records, so evidence indexes stay what they are."""
    blob = SHAPES[shape](_records())
    reference = reference_extract(blob, SPEC)
    assert_same_rows(extract(blob, SPEC).batch.to_pylist(), reference.rows, SPEC)


def test_json_lines_positions_are_line_numbers_and_blank_lines_count():
    a, b = (_dump(r) for r in _records(2))
    out = extract(a + b"\n\n   \n" + b + b"\n", SPEC)
    assert out.batch.column("_position").to_pylist() == [0, 3]


def test_gzip_members_concatenated_are_one_blob_whose_every_member_is_read():
    """Decompression stays in Python (isal): every member, as `gzip -c a b` writes them."""
    records = _records(4)
    data = gzip.compress(_wrapped([_dump(r) for r in records[:2]])) + gzip.compress(_wrapped(
        [_dump(r) for r in records[2:]]))
    out = extract(gunzip_if_needed(data), SPEC)
    assert _ids(out) == ["e0", "e1", "e2", "e3"]
    assert out.batch.column("_position").to_pylist() == [0, 1, 2, 3]


def test_an_empty_or_blank_blob_has_no_records():
    for blob in (b"", b"  \n\t ", b"\xef\xbb\xbf"):
        out = extract(blob, SPEC)
        assert out.records_read == 0


def test_an_empty_wrapper_holds_no_records_and_is_none_itself():
    out = extract(b'{"Records": []}', SPEC)
    assert out.records_read == 0


# -- damage: each one record's problem --------------------------------------------------------------------------

def _good(i: int) -> bytes:
    return _dump(ct_event(f"e{i}"))


# (name, the bad record's bytes, the reason's words); each sits between two good records, and is set aside alone.
EVENT = _good(1)
DAMAGE = [
    ("invalid UTF-8", EVENT.replace(b'"GetObject"', b'"Get\xffObject"'), "non-UTF-8 byte 0xff"),
    ("overlong UTF-8", EVENT.replace(b'"GetObject"', b'"Get\xc0\xafObject"'), "non-UTF-8 byte 0xc0"),
    ("lone high surrogate", EVENT.replace(b'"GetObject"', b'"Get\\ud800Object"'), "lone surrogate escape \\ud800"),
    ("lone low surrogate", EVENT.replace(b'"a.csv"', b'"\\udc00"'), "lone surrogate escape \\udc00"),
    ("surrogate in a key", EVENT.replace(b'"bucketName"', b'"\\ud83d"'), "lone surrogate"),
    ("duplicate key", EVENT.replace(b'"eventName": "GetObject"', b'"eventName": "GetObject", "eventName": "X"'),
     'duplicate member "eventName"'),
    ("duplicate nested key", EVENT.replace(b'"key": "a.csv"', b'"key": "a.csv", "key": "b.csv"'),
     'duplicate member "key"'),
    ("duplicate key spelt with an escape", EVENT.replace(b'"eventName": "GetObject"',
                                                        b'"eventName": "GetObject", "event\\u004eame": "X"'),
     "duplicate member"),
    ("case-variant key", EVENT.replace(b'"eventName"', b'"EventName"'),
     'member "EventName" differs only in letter case from the mapped "eventName"'),
    ("case-variant beside the key", EVENT.replace(b'"eventName": "GetObject"',
                                                 b'"eventName": "GetObject", "EVENTNAME": "X"'), "letter case"),
    ("depth over the limit", EVENT.replace(b'"a.csv"', b"[" * 1000 + b"]" * 1000), f"deeper than {MAX_DEPTH}"),
    ("depth far over the limit", EVENT.replace(b'"a.csv"', b'{"a":' * 100_000 + b"1" + b"}" * 100_000),
     "deeper than"),
    ("a 5,000-digit integer", EVENT.replace(b"1234", b"9" * 5000), "a number of 5000 characters"),
    ("integer field out of range", EVENT.replace(b"1234", b"18446744073709551616"),
     "additionalEventData.bytesTransferredOut is an integer out of the 64-bit range"),
    ("integer field out of range, as a string", EVENT.replace(b"1234", b'"-9223372036854775809"'),
     "out of the 64-bit range"),
    ("raw NUL in a string", EVENT.replace(b'"GetObject"', b'"Get\x00Object"'), "control character 0x00"),
    ("raw tab in a string", EVENT.replace(b'"GetObject"', b'"Get\tObject"'), "control character 0x09"),
    ("a number", b"42", "record is a JSON number, expected an object"),
    ("a string", b'"eventID"', "record is a JSON string"),
    ("an array", b"[1, 2]", "record is a JSON array"),
    ("null", b"null", "record is a JSON null"),
    ("true", b"true", "record is a JSON boolean"),
]


@pytest.mark.parametrize("shape", ["Records", "JSON lines", "concatenated objects", "bare array"])
@pytest.mark.parametrize("name,bad,why", DAMAGE, ids=[d[0] for d in DAMAGE])
def test_a_damaged_record_is_set_aside_alone_with_its_reason_and_offset(shape, name, bad, why):
    spans = [_good(0), bad, _good(2)]
    if shape == "Records":
        blob = _wrapped(spans)
    elif shape == "JSON lines":
        blob = _lines(spans)
    elif shape == "bare array":
        blob = b"[" + b",".join(spans) + b"]"
    else:
        blob = b"\n".join(spans)
    out = extract(blob, SPEC)
    assert _ids(out) == ["e0", "e2"], [s.reason for s in out.set_aside]
    [aside] = out.set_aside
    assert why in aside.reason
    assert aside.raw == bad and blob[aside.offset:aside.offset + len(bad)] == bad
    assert aside.position == 1
    assert out.records_read == 3


@pytest.mark.parametrize("text", ["0000-06-01T00:00:00Z", "10000-01-01T00:00:00Z", "infinity", "-infinity",
                                  "2024-02-30T10:00:00Z", "0001-01-01T00:30:00+01:00", "epoch", ""])
def test_a_time_out_of_range_is_null_for_the_normalize_sql_to_quarantine(text):
    out = extract(_wrapped([_good(0), _dump(ct_event("e1", time=text)), _good(2)]), SPEC)
    assert _ids(out) == ["e0", "e1", "e2"]
    assert out.batch.column("time").to_pylist()[1] is None
    assert out.batch.column("event_time").to_pylist()[1] == text


def test_rfc3339_times_are_read_as_the_sql_reads_them():
    from test_hostile_records import NOT_RFC3339, RFC3339

    texts = [t for t, _ in RFC3339] + NOT_RFC3339 + ["9999-12-31T23:59:59.999999Z", "0001-01-01T00:00:00Z",
                                                     "2024-02-29T00:00:00Z", "2023-02-29T00:00:00Z"]
    out = extract(_wrapped([_dump(ct_event(f"e{i}", time=t)) for i, t in enumerate(texts)]), SPEC)
    got = out.batch.column("time").to_pylist()
    expected = [w for _, w in RFC3339] + [None] * len(NOT_RFC3339) + [
        datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC), datetime(1, 1, 1, tzinfo=UTC),
        datetime(2024, 2, 29, tzinfo=UTC), None]
    assert got == expected


def test_a_null_byte_as_an_escape_is_valid_json_and_kept():
    out = extract(_wrapped([_dump(ct_event("e0", userAgent="a\u0000b"))]), SPEC)
    assert out.batch.column("user_agent").to_pylist() == ["a\x00b"]


@pytest.mark.parametrize("damage,kept", [
    (b'{"eventID": "bad", ', ["e0"]),  # a record cut off by the next one
    (b'{"eventID": "bad" "x": 1}', ["e0"]),  # a missing comma
    (b"{'eventID': 'bad'}", ["e0"]),  # Python's repr, not JSON
    (b'{"eventID": NaN}', ["e0"]),
    (b'{"eventID": "bad\\x"}', ["e0"]),  # an escape JSON has not
])
def test_a_syntax_error_in_an_array_sets_aside_the_rest_as_one_record(damage, kept):
    blob = _wrapped([_good(0), damage, _good(2)])
    out = extract(blob, SPEC)
    assert _ids(out) == kept
    [rest] = out.set_aside
    assert rest.position == 1 and rest.raw == blob[rest.offset:] and rest.offset == blob.index(damage)
    assert "invalid JSON" in rest.reason and f"the remaining {len(blob) - rest.offset} bytes" in rest.reason


def test_a_syntax_error_in_json_lines_costs_its_line_only():
    blob = _lines([_good(0), b'{"eventID": "bad", ', _good(2), b"garbage", _good(4)])
    out = extract(blob, SPEC)
    assert _ids(out) == ["e0", "e2", "e4"]
    assert [(s.position, s.raw) for s in out.set_aside] == [(1, b'{"eventID": "bad", '), (3, b"garbage")]
    assert out.set_aside[0].reason.startswith("invalid JSON on line 2:")


@pytest.mark.parametrize("first", [b'{"eventID": "bad", ', b"{", b'{"eventID": "x" "y"}', b'{"Records": {}'])
def test_json_lines_whose_first_line_is_broken_lose_that_line_only(first):
    blob = _lines([first, _good(1), _good(2)])
    out = extract(blob, SPEC)
    assert _ids(out) == ["e1", "e2"]
    [bad] = out.set_aside
    assert (bad.position, bad.offset, bad.raw) == (0, 0, first)
    assert bad.reason.startswith("invalid JSON on line 1:")
    reference = reference_extract(blob, SPEC)
    assert sorted(reference.rows) == [1, 2] and list(reference.set_aside) == [0]


def test_a_broken_first_document_without_a_whole_record_on_its_second_line_is_set_aside_whole():
    blob = b'{"eventID": "bad",\n  "x": }\n' + _good(1) + b"\n"
    out = extract(blob, SPEC)
    assert _ids(out) == []
    [rest] = out.set_aside
    assert rest.position == 0 and rest.raw == blob and "cannot be split into records" in rest.reason


@pytest.mark.parametrize("blob", [b'{"Records": [}\n', b"[}\n"])
def test_a_record_array_broken_on_the_first_line_sets_the_rest_aside_as_before(blob):
    blob += _good(1) + b"\n" + _good(2) + b"\n"
    out = extract(blob, SPEC)
    assert _ids(out) == []
    [rest] = out.set_aside
    assert rest.position == 0 and "cannot be split into records" in rest.reason
    assert reference_extract(blob, SPEC).rows == {}


def test_trailing_garbage_after_the_records_is_one_set_aside_record():
    blob = _wrapped([_good(0), _good(1)]) + b"\n\x00\x01garbage"
    out = extract(blob, SPEC)
    assert _ids(out) == ["e0", "e1"]
    [rest] = out.set_aside
    assert rest.raw == b"\x00\x01garbage" and rest.position == 2


def test_a_blob_cut_off_inside_its_array_keeps_the_records_before():
    blob = _wrapped([_good(0), _good(1)])[:-2] + b","
    out = extract(blob, SPEC)
    assert _ids(out) == ["e0", "e1"]
    assert out.set_aside[0].reason.endswith("the blob ends there")


def test_an_oversize_record_is_set_aside_and_its_neighbours_kept():
    big = _dump(ct_event("e1", userAgent="x" * 5000))
    out = extract(_wrapped([_good(0), big, _good(2)]), SPEC, max_record_bytes=4096)
    assert _ids(out) == ["e0", "e2"]
    assert f"record of {len(big)} bytes exceeds the 4096-byte limit" in out.set_aside[0].reason


def test_a_damaged_wrapper_line_in_json_lines_is_that_line():
    blob = _lines([_wrapped([_good(0), _good(1)]), _wrapped([_good(2), b"[oops"]), _good(3)])
    out = extract(blob, SPEC)
    assert _ids(out) == ["e0", "e1", "e3"]
    assert [s.position for s in out.set_aside] == [2]


def test_a_record_with_no_mapped_fields_is_still_a_row():
    """Whether a record is a CloudTrail record is the normalize SQL's word (no eventID: quarantined)."""
    out = extract(_wrapped([b'{"something": "else"}']), SPEC)
    assert out.batch.num_rows == 1 and _ids(out) == [None]


# -- field types ----------------------------------------------------------------------------------------------------

TYPES = parse_spec("t", """
[columns]
s = { path = "v", type = "string" }
j = { path = "v", type = "json" }
b = { path = "v", type = "bool" }
i = { path = "v", type = "integer" }
t = { path = "v", type = "timestamp" }
dotted = { path = ["a.b", "c"], type = "string" }
""")


@pytest.mark.parametrize("value,expected", [
    (b'"text \\u00e9\\n\\ud83d\\ude00"', ("text \u00e9\n\U0001f600", '"text \\u00e9\\n\\ud83d\\ude00"', None, None, None)),
    (b"12", ("12", "12", None, 12, None)),
    (b"-9223372036854775808", ("-9223372036854775808", "-9223372036854775808", None, -(2**63), None)),
    (b"1.5e3", ("1.5e3", "1.5e3", None, None, None)),
    (b'"77"', ("77", '"77"', None, 77, None)),
    (b"true", ("true", "true", True, None, None)),
    (b'"FALSE"', ("FALSE", '"FALSE"', False, None, None)),
    (b"null", (None, None, None, None, None)),
    (b'{ "k" : [1, {"x": "\\u00e9"}] }', ('{ "k" : [1, {"x": "\\u00e9"}] }',) * 2 + (None, None, None)),
    (b'"2024-01-02T10:00:00Z"', ("2024-01-02T10:00:00Z", '"2024-01-02T10:00:00Z"', None, None,
                                 datetime(2024, 1, 2, 10, tzinfo=UTC))),
])
def test_each_type_reads_each_json_value(value, expected):
    out = extract(b'{"v": ' + value + b', "a.b": {"c": "dot"}}', TYPES)
    row = out.batch.to_pylist()[0]
    assert (row["s"], row["j"], row["b"], row["i"], row["t"]) == expected
    assert row["dotted"] == "dot"


def test_a_missing_field_is_null_and_the_batch_types_are_arrows():
    out = extract(b'{"other": 1}', TYPES)
    assert out.batch.to_pylist()[0] == {"_position": 0, "_offset": 0, "_length": 12, "s": None, "j": None,
                                        "b": None, "i": None, "t": None, "dotted": None}
    schema = out.batch.schema
    assert schema.field("s").type == pa.large_string()
    assert schema.field("j").type.extension_name == "arrow.json"
    assert schema.field("b").type == pa.bool_() and schema.field("i").type == pa.int64()
    assert schema.field("t").type == pa.timestamp("us", tz="UTC")


def test_raw_json_is_the_bytes_as_delivered_and_duckdb_reads_it_as_json():
    blob = b'{"Records": [{"eventID": "e0", "requestParameters": {"bucketName" :"b",  "n": 1.50E+2, "s": "\\u00e9"}}]}'
    out = extract(blob, SPEC)
    raw = out.batch.column("request_parameters").to_pylist()[0]
    assert raw == '{"bucketName" :"b",  "n": 1.50E+2, "s": "\\u00e9"}'
    batch = out.batch  # noqa: F841 (read by DuckDB's replacement scan)
    [(kind, bucket, key)] = duckdb.sql("SELECT typeof(request_parameters), request_parameters->>'$.s', _bucket "
                                       "FROM batch").fetchall()
    assert (kind, bucket, key) == ("JSON", "\u00e9", "b")


def test_the_batch_outlives_the_blob_and_its_buffers_are_freed_with_it():
    blob = _wrapped([_good(i) for i in range(100)])
    batch = extract(blob, SPEC).batch
    del blob
    assert batch.column("event_id").to_pylist()[99] == "e99"
    before = pa.total_allocated_bytes()
    del batch
    assert pa.total_allocated_bytes() == before  # the buffers were never pyarrow's pool's: no copy was made


@pytest.mark.parametrize("text,words", [
    ('[columns]\nx = { path = "a", type = "float" }', "type 'float' is none of"),
    ('[columns]\n_position = { path = "a", type = "string" }', "the extractor's own"),
    ('[columns]\nx = { path = "", type = "string" }', "path must be"),
    ('[columns]\nx = "string"', "expected { path"),
    ("wrappers = []", "no [columns]"),
])
def test_a_spec_that_cannot_be_used_says_why(text, words):
    with pytest.raises(SpecError, match=words.replace("[", r"\[").replace("{", r"\{")):
        parse_spec("t", text)


def test_the_cloudtrail_spec_maps_every_field_the_normalize_sql_reads_by_name():
    sql = (REPO / "queries" / "normalize" / "cloudtrail.sql").read_text()
    paths = {".".join(c.path) for c in SPEC.columns}
    read = re.findall(r"'(\w+)': '(?:VARCHAR|JSON)'", sql)
    assert len(read) == 30
    for name in read:
        assert name in paths, name
    for path in ("userIdentity.arn", "requestParameters.bucketName", "additionalEventData.bytesTransferredOut"):
        assert path in {".".join(c.path) for c in SPEC.columns}


# -- real records -----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("path", SAMPLES + DEMO[:5], ids=lambda p: p.name)
def test_real_trail_files_give_the_references_rows(path: Path):
    blob = gzip.decompress(path.read_bytes())
    out = extract(blob, SPEC)
    reference = reference_extract(blob, SPEC)
    assert out.set_aside == [] and reference.set_aside == {}
    assert_same_rows(out.batch.to_pylist(), reference.rows, SPEC)
    records = json.loads(blob)["Records"]
    assert _ids(out) == [r["eventID"] for r in records]


# -- the GIL -----------------------------------------------------------------------------------------------------

def test_the_gil_is_released_while_a_blob_is_read():
    blob = _lines([_good(i) for i in range(1000)] * 150)  # ~100 MB of work: a few hundred ms
    started = threading.Event()
    result = {}

    def work():
        started.set()
        result["out"] = extract(blob, SPEC)

    thread = threading.Thread(target=work)
    thread.start()
    started.wait()
    time.sleep(0.01)
    spins = 0
    begun = time.perf_counter()
    while thread.is_alive():
        spins += 1
    elapsed = time.perf_counter() - begun
    thread.join()
    assert result["out"].batch.num_rows == 150_000
    # Holding the GIL, the extraction would leave this loop no turn until it returned.
    assert elapsed > 0.05 and spins > 10_000, (elapsed, spins)


def test_two_threads_extract_the_same_rows_as_one():
    blobs = [_lines([_good(i + 1000 * k) for i in range(2000)]) for k in range(4)]
    alone = [extract(b, SPEC).batch for b in blobs]
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(2) as pool:
        together = list(pool.map(lambda b: extract(b, SPEC).batch, blobs))
    assert all(a.equals(t) for a, t in zip(alone, together, strict=True))


def test_capsules_dropped_unread_free_their_buffers():
    from sovaudit import _native

    columns = [(c.name, list(c.path), c.type) for c in SPEC.columns]
    blob = _wrapped([_good(i) for i in range(50)])
    for _ in range(200):
        schema, array, rows, set_aside = _native.extract(blob, columns, [["Records"]], None, "set_aside", 64, 1 << 20, 100)
        assert rows == 50 and set_aside == []
        del schema, array  # the capsules' destructors release what pyarrow never took
    batch = extract(blob, SPEC).batch
    assert batch.num_rows == 50


def test_a_depth_limit_the_stack_cannot_take_is_refused():
    from sovaudit import _native

    with pytest.raises(ValueError, match="max_depth above 1024"):
        _native.extract(b"{}", [("a", ["a"], "string")], [], None, "set_aside", 100_000, 1 << 20, 100)


KAFKA = sorted((REPO / "sovaudit" / "demo" / "data" / "kafka").glob("*/*.ndjson.gz"))


@pytest.mark.parametrize("table", ["kafka_lineage", "kafka_topics"])
def test_the_kafka_specs_read_what_their_normalize_sql_reads(table):
    spec = load_spec(table)
    sql = (REPO / "queries" / "normalize" / f"{table}.sql").read_text()
    paths = {".".join(c.path) for c in spec.columns}
    assert set(re.findall(r"r->>?'\$\.([\w.]+)'", sql)) <= paths


@pytest.mark.parametrize("path", [p for p in KAFKA if "/lineage/" in p.as_posix()][:3]
                         + [p for p in KAFKA if "/inventory" in p.as_posix()][:3], ids=lambda p: p.name)
def test_demo_kafka_files_give_the_references_rows(path):
    table = "kafka_lineage" if "/lineage/" in path.as_posix() else "kafka_topics"
    spec = load_spec(table)
    blob = gzip.decompress(path.read_bytes())
    out = extract(blob, spec)
    reference = reference_extract(blob, spec)
    assert out.set_aside == [] and reference.set_aside == {}
    assert out.batch.num_rows == blob.count(b"\n")
    assert_same_rows(out.batch.to_pylist(), reference.rows, spec)


@pytest.mark.parametrize("path", [p for p in KAFKA if "/audit/" in p.as_posix()][:3], ids=lambda p: p.name)
def test_demo_audit_files_give_the_references_rows(path):
    spec = load_spec("kafka_audit")
    blob = gzip.decompress(path.read_bytes())
    out = extract(blob, spec)
    reference = reference_extract(blob, spec)
    assert out.set_aside == [] and reference.set_aside == {}
    assert out.batch.num_rows == blob.count(b"\n")
    assert_same_rows(out.batch.to_pylist(), reference.rows, spec, blob)


# -- the envelope step -----------------------------------------------------------------------------------------

ENVELOPED = parse_spec("t", """
[envelope]
when = "meta.offset"
record = "body"
[envelope.columns]
offset = { path = "meta.offset", type = "integer" }
[columns]
name = { path = "name", type = "string" }
deep = { path = "a.b", type = "string" }
""")


def test_a_record_in_an_envelope_is_read_from_its_member_and_the_envelope_columns_from_it():
    spans = [b'{"meta": {"offset": 7}, "body": {"name": "x", "a": {"b": "y"}}}',  # an envelope
             b'{"name": "bare", "a": {"b": "z"}, "meta": {"other": 1}}',          # no marker: the record itself
             b'{"meta": {"offset": 8}, "body": null}',                             # a tombstone
             b'{"meta": {"offset": null}}',                                        # marker present as null
             b'{"meta": {"offset": 9}, "body": [1]}',                              # a value that is no object
             b'{"body": {"name": "not enveloped"}, "name": "outer"}']              # no marker: body is a member
    blob = _lines(spans)
    rows = extract(blob, ENVELOPED).batch.to_pylist()
    got = [(r["_enveloped"], r["_record_type"], r["name"], r["deep"], r["offset"]) for r in rows]
    assert got == [(True, "object", "x", "y", 7), (False, "object", "bare", "z", None), (True, "null", None, None, 8),
                   (True, None, None, None, None), (True, "array", None, None, 9),
                   (False, "object", "outer", None, None)]
    inner = [blob[r["_record_offset"]:r["_record_offset"] + r["_record_length"]] if r["_record_offset"] is not None
             else None for r in rows]
    assert inner == [b'{"name": "x", "a": {"b": "y"}}', spans[1], b"null", None, b"[1]", spans[5]]
    assert [(r["_offset"], r["_length"]) for r in rows] == [(blob.index(s), len(s)) for s in spans]
    reference = reference_extract(blob, ENVELOPED)
    assert_same_rows(rows, reference.rows, ENVELOPED, blob)


@pytest.mark.parametrize("bad,why", [
    (b'{"meta": {"offset": 7}, "body": {"name": "x", "name": "y"}}', 'duplicate member "name"'),
    (b'{"meta": {"offset": 7}, "body": {"Name": "x"}}', 'member "Name" differs only in letter case from the mapped'),
    (b'{"meta": {"offset": 7, "offset": 8}, "body": {}}', 'duplicate member "offset"'),
    (b'{"meta": {"offset": 99999999999999999999}, "body": {}}', "meta.offset is an integer out of the 64-bit range"),
    (b'{"meta": {"offset": 7}, "body": {"name": "\\udc00"}}', "a lone surrogate escape"),
])
def test_damage_in_an_envelope_or_its_record_sets_that_record_aside_alone(bad, why):
    good = b'{"meta": {"offset": 1}, "body": {"name": "ok"}}'
    out = extract(_lines([good, bad, good]), ENVELOPED)
    assert out.batch.column("name").to_pylist() == ["ok", "ok"]
    [aside] = out.set_aside
    assert aside.position == 1 and aside.raw == bad and why in aside.reason, aside.reason


@pytest.mark.parametrize("text,words", [
    ('[envelope]\nwhen = "k"\n[columns]\nx = { path = "a", type = "string" }', "[envelope] takes when"),
    ('[envelope]\nwhen = "k"\nrecord = "v"\n[envelope.columns]\nx = { path = "k", type = "string" }\n'
     '[columns]\nx = { path = "a", type = "string" }', "named twice"),
    ('[envelope]\nwhen = ""\nrecord = "v"\n[envelope.columns]\n[columns]\nx = { path = "a", type = "string" }',
     "envelope when: path must be"),
    ('[envelope]\nwhen = "k"\nrecord = "v"\n[envelope.columns]\n_enveloped = { path = "k", type = "bool" }\n'
     '[columns]\nx = { path = "a", type = "string" }', "the extractor's own"),
])
def test_an_envelope_that_cannot_be_used_says_why(text, words):
    with pytest.raises(SpecError, match=re.escape(words)):
        parse_spec("t", text)


# -- case_variants ---------------------------------------------------------------------------------------------

def _case_spec(rule: str | None) -> str:
    head = f'case_variants = "{rule}"\n' if rule else ""
    return head + '[columns]\nproperties = { path = "properties", type = "json" }\n' \
        'caller = { path = "properties.caller", type = "string" }\ntime = { path = "time", type = "string" }\n'


CASE_RECORDS = [b'{"time": "t0", "properties": {"caller": "a"}}',
                b'{"time": "t1", "Properties": {"caller": "b"}}',
                b'{"TIME": "t2", "PROPERTIES": {"Caller": "c"}}',                       # nested names stay exact
                b'{"time": "t3", "Properties": {"caller": "d"}, "properties": {"caller": "e"}}',
                b'{"time": "t4", "properties": {"caller": "f"}, "Properties": {"caller": "g"}}']


def test_case_variants_set_aside_is_the_default_and_sets_a_variant_aside():
    for rule in (None, "set_aside"):
        spec = parse_spec("t", _case_spec(rule))
        assert spec.case_variants == "set_aside"
        out = extract(_lines(CASE_RECORDS), spec)
        assert out.batch.column("caller").to_pylist() == ["a"]
        assert [s.position for s in out.set_aside] == [1, 2, 3, 4]
        assert 'member "Properties" differs only in letter case from the mapped "properties"' in out.set_aside[0].reason


def test_case_variants_first_reads_either_spelling_and_the_first_of_two():
    spec = parse_spec("t", _case_spec("first"))
    blob = _lines(CASE_RECORDS)
    out = extract(blob, spec)
    assert out.set_aside == []
    rows = out.batch.to_pylist()
    assert [(r["time"], r["caller"]) for r in rows] == [("t0", "a"), ("t1", "b"), ("t2", None), ("t3", "d"),
                                                        ("t4", "f")]
    assert json.loads(rows[2]["properties"]) == {"Caller": "c"}
    assert_same_rows(rows, reference_extract(blob, spec).rows, spec)


def test_case_variants_first_still_sets_a_duplicate_aside_and_reaches_an_envelopes_record():
    spec = parse_spec("t", 'case_variants = "first"\n[envelope]\nwhen = "meta.offset"\nrecord = "body"\n'
                           '[envelope.columns]\noffset = { path = "meta.offset", type = "integer" }\n'
                           '[columns]\nname = { path = "name", type = "string" }\n')
    blob = _lines([b'{"meta": {"offset": 1}, "body": {"NAME": "x"}}', b'{"Meta": {"offset": 2}, "Body": {"name": "y"}}',
                   b'{"meta": {"offset": 3}, "body": {"Name": "z", "Name": "w"}}'])
    out = extract(blob, spec)
    assert [(r["name"], r["offset"]) for r in out.batch.to_pylist()] == [("x", 1), ("y", 2)]
    assert [s.position for s in out.set_aside] == [2] and "duplicate member" in out.set_aside[0].reason
    assert_same_rows(out.batch.to_pylist(), reference_extract(blob, spec).rows, spec, blob)


def test_case_variants_exact_reads_only_the_mapped_spelling_and_sets_nothing_aside():
    """As DuckDB's json_transform reads names (the Azure SQL's reader): `properties` wins wherever it stands."""
    spec = parse_spec("t", _case_spec("exact"))
    blob = _lines(CASE_RECORDS)
    out = extract(blob, spec)
    assert out.set_aside == []
    rows = out.batch.to_pylist()
    assert [(r["time"], r["caller"]) for r in rows] == [("t0", "a"), ("t1", None), (None, None), ("t3", "e"),
                                                        ("t4", "f")]
    assert_same_rows(rows, reference_extract(blob, spec).rows, spec)


def test_an_unknown_case_rule_says_which_there_are():
    with pytest.raises(SpecError, match="case_variants 'ignore' is none of set_aside, first, exact"):
        parse_spec("t", _case_spec("ignore"))
