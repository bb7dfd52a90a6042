"""Properties of the native extractor over real CloudTrail records (fixtures/aws/cloudtrail, see its SOURCES),
mutated: no crash; a damaged record is set aside alone and every other record gives the reference's row; a
damaged byte anywhere costs nothing before it. Over real Confluent audit events (fixtures/kafka), bare and in a
broker's envelope: the reference's rows, and damage inside an envelope's value costs only its record."""

import json

from conftest import REPO, sample_records
from extract_reference import assert_same_rows, reference_extract
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from sovaudit.ingest.extract import MAX_DEPTH, extract, load_spec

SPEC = load_spec("cloudtrail")
POOL = [json.dumps(r).encode() for records in sample_records().values() for r in records]

SHAPES = {
    "Records": lambda spans: b'{"Records": [' + b", ".join(spans) + b"]}",
    "JSON lines": lambda spans: b"\n".join(spans) + b"\n",
    "bare array": lambda spans: b"[\n" + b",\n".join(spans) + b"\n]",
    "concatenated": lambda spans: b"".join(spans),
    "pretty": lambda spans: b"\n".join(json.dumps(json.loads(s), indent=2).encode() for s in spans),
}


def _first_string_value(span: bytes) -> int:
    """Where the text of the record's first string value starts (after its quote)."""
    return span.index(b'": "') + 4


DAMAGE = {
    "duplicate key": lambda s: s[:1] + b'"eventID": "dup", ' + s[1:],
    "nested duplicate key": lambda s: s[:-1] + b', "userIdentity": {"a": 1, "a": 2}}',
    "lone surrogate": lambda s: s[:_first_string_value(s)] + b"\\udbff" + s[_first_string_value(s):],
    "invalid UTF-8": lambda s: s[:_first_string_value(s)] + b"\xfe" + s[_first_string_value(s):],
    "control character": lambda s: s[:_first_string_value(s)] + b"\x01" + s[_first_string_value(s):],
    "too deep": lambda s: s[:-1] + b', "deep": ' + b"[" * (MAX_DEPTH + 1) + b"]" * (MAX_DEPTH + 1) + b"}",
    "huge number": lambda s: s[:-1] + b', "n": ' + b"7" * 5000 + b"}",
    "case-variant key": lambda s: s[:1] + b'"EVENTTIME": "x", ' + s[1:],
    "not an object": lambda s: b"[" + s + b"]",
}

records = st.lists(st.sampled_from(POOL), min_size=1, max_size=6)
PROPERTY = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY
@given(records, st.sampled_from(sorted(SHAPES)))
def test_undamaged_real_records_give_the_references_rows(spans, shape):
    blob = SHAPES[shape](spans)
    out = extract(blob, SPEC)
    reference = reference_extract(blob, SPEC)
    assert out.set_aside == [] and reference.set_aside == {}
    assert_same_rows(out.batch.to_pylist(), reference.rows, SPEC)


@PROPERTY
@given(records, st.sampled_from([s for s in sorted(SHAPES) if s != "pretty"]),  # pretty re-serializes the damage
       st.sampled_from(sorted(DAMAGE)), st.data())
def test_one_damaged_record_is_set_aside_alone(spans, shape, damage, data):
    k = data.draw(st.integers(0, len(spans) - 1))
    # An array that starts a blob or stands between documents is a bare array, whose elements are the records.
    assume(damage != "not an object" or shape in ("Records", "bare array") or (shape == "JSON lines" and k > 0))
    clean = SHAPES[shape](spans)
    bad = DAMAGE[damage](spans[k])
    blob = SHAPES[shape]([bad if i == k else s for i, s in enumerate(spans)])
    out = extract(blob, SPEC)
    reference = reference_extract(clean, SPEC)
    position = sorted(reference.rows)[k]
    assert [(s.position, s.raw) for s in out.set_aside] == [(position, bad)], out.set_aside
    assert out.records_read == len(spans)
    shift = len(bad) - len(spans[k])
    expected = {p: {**row, "_offset": row["_offset"] + (shift if p > position else 0)}
                for p, row in reference.rows.items() if p != position}
    assert_same_rows(out.batch.to_pylist(), expected, SPEC)


INTERESTING = [b"{", b"}", b"[", b"]", b'"', b"\\", b",", b":", b"\n", b" ", b"\x00", b"\xff", b"\xef\xbb\xbf",
               b"0", b"e", b"\\u", b"\\ud800"]


@PROPERTY
@given(records, st.sampled_from(sorted(SHAPES)), st.sampled_from(["insert", "delete", "replace"]),
       st.sampled_from(INTERESTING), st.data())
def test_a_damaged_byte_costs_nothing_before_it(spans, shape, op, byte, data):
    clean = SHAPES[shape](spans)
    at = data.draw(st.integers(0, len(clean) - 1))
    blob = {"insert": clean[:at] + byte + clean[at:], "delete": clean[:at] + clean[at + 1:],
            "replace": clean[:at] + byte + clean[at + 1:]}[op]
    out = extract(blob, SPEC)  # never raises
    rows = out.batch.to_pylist()
    positions = [r["_position"] for r in rows] + [s.position for s in out.set_aside]
    assert len(positions) == len(set(positions))
    for s in out.set_aside:
        assert blob[s.offset:s.offset + len(s.raw)] == s.raw
    reference = reference_extract(clean, SPEC)
    # A record that ends before the damaged byte, and the whitespace after it, is read as before.
    before = {p: row for p, row in reference.rows.items() if row["_offset"] + row["_length"] < at}
    assert_same_rows([r for r in rows if r["_position"] in before], before, SPEC)
    assert len(out.set_aside) + len(rows) >= len(before)


def _invariants(blob: bytes, out) -> None:
    positions = out.batch.column("_position").to_pylist() + [s.position for s in out.set_aside]
    assert len(positions) == len(set(positions))
    for s in out.set_aside:
        assert blob[s.offset:s.offset + len(s.raw)] == s.raw and s.reason
    for offset, length in zip(out.batch.column("_offset").to_pylist(), out.batch.column("_length").to_pylist(),
                              strict=True):
        assert json.loads(blob[offset:offset + length]) is not None


@PROPERTY
@given(st.binary(max_size=3000) | st.lists(st.sampled_from(INTERESTING + [b"1", b"true", b"null", b'"a"']),
                                           max_size=200).map(b"".join))
def test_any_bytes_are_read_without_a_crash(blob):
    _invariants(blob, extract(blob, SPEC))


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=30)


@PROPERTY
@given(st.lists(json_values, min_size=1, max_size=5), st.sampled_from(sorted(SHAPES)))
def test_any_json_values_are_records_or_set_aside_with_a_reason(values, shape):
    spans = [json.dumps(v).encode() for v in values]
    blob = SHAPES[shape](spans)
    out = extract(blob, SPEC)
    _invariants(blob, out)
    if shape in ("Records", "bare array", "JSON lines") and all("\n" not in s.decode() for s in spans):
        assume(shape != "JSON lines" or not blob.startswith(b"["))
        assert out.records_read == len(values)
        objects = sum(isinstance(v, dict) for v in values)
        assert out.batch.num_rows <= objects


# Kafka: the Confluent audit samples (fixtures/kafka, see its SOURCES.md), bare as a file holds them or in a broker's
# envelope as sovaudit.sources.kafka.audit writes it (a value, a tombstone, or no value member at all).
AUDIT_SPEC = load_spec("kafka_audit")
KAFKA_EVENTS = [json.loads(p.read_text()) for p in sorted((REPO / "fixtures" / "kafka").glob("kdp-0*.json"))]
WRAPS = ("bare", "value", "null value", "no value", "array value")


def _kafka_record(event: dict, wrap: str, offset: int) -> bytes:
    if wrap == "bare":
        return json.dumps(event).encode()
    envelope = {"kafka": {"cluster_id": "lkc-1", "topic": "confluent-audit-log-events", "partition": offset % 7,
                          "offset": offset, "timestamp": 1585648803532}}
    value = {"value": event, "null value": None, "array value": [event]}
    if wrap in value:
        envelope["value"] = value[wrap]
    return json.dumps(envelope).encode()


kafka_records = st.lists(st.builds(_kafka_record, st.sampled_from(KAFKA_EVENTS), st.sampled_from(WRAPS),
                                   st.integers(0, 2**40)), min_size=1, max_size=6)


@PROPERTY
@given(kafka_records, st.sampled_from([s for s in sorted(SHAPES) if s != "Records"]))
def test_undamaged_kafka_records_bare_or_in_envelopes_give_the_references_rows(spans, shape):
    blob = SHAPES[shape](spans)
    out = extract(blob, AUDIT_SPEC)
    reference = reference_extract(blob, AUDIT_SPEC)
    assert out.set_aside == [] and reference.set_aside == {}
    assert_same_rows(out.batch.to_pylist(), reference.rows, AUDIT_SPEC, blob)


def _in_value(span: bytes, insert: bytes) -> bytes:
    """`insert` at the start of the envelope's value (the record proper), or of a bare record."""
    at = span.index(b'"value": {') + len(b'"value": {') if b'"value": {' in span else 1
    return span[:at] + insert + span[at:]


KAFKA_DAMAGE = {
    "duplicate key in the value": lambda s: _in_value(s, b'"id": "dup", "id": "dup", '),
    "lone surrogate in the value": lambda s: _in_value(s, b'"x": "\\udc00", '),
    "case-variant key in the value": lambda s: _in_value(s, b'"SpecVersion": "1.0", '),
}


@PROPERTY
@given(kafka_records, st.sampled_from(["JSON lines", "bare array", "concatenated"]), st.sampled_from(sorted(KAFKA_DAMAGE)),
       st.data())
def test_damage_inside_an_envelope_sets_that_record_aside_alone(spans, shape, damage, data):
    k = data.draw(st.integers(0, len(spans) - 1))
    bad = KAFKA_DAMAGE[damage](spans[k])
    blob = SHAPES[shape]([bad if i == k else s for i, s in enumerate(spans)])
    out = extract(blob, AUDIT_SPEC)
    reference = reference_extract(SHAPES[shape](spans), AUDIT_SPEC)
    position = sorted(reference.rows)[k]
    assert [(s.position, s.raw) for s in out.set_aside] == [(position, bad)], out.set_aside
    shift = len(bad) - len(spans[k])
    expected = {p: {**row, "_offset": row["_offset"] + (shift if p > position else 0)}
                for p, row in reference.rows.items() if p != position}
    assert_same_rows(out.batch.to_pylist(), expected, AUDIT_SPEC, blob)
