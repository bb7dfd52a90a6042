"""Properties of the native extractor over real CloudTrail records (fixtures/aws/cloudtrail, see its SOURCES),
mutated: no crash; a damaged record is set aside alone and every other record gives the reference's row; a
damaged byte anywhere costs nothing before it."""

import json

from conftest import sample_records
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
