"""Split a decoded blob into JSON records, setting aside whatever cannot be a record, with its reason.

The fast path hands DuckDB the blob's own `[...]` slice untouched. This module is the careful path:
it walks the records one by one so that a damaged record costs only itself, and hands each good
record, byte-for-byte, to a sink: a JSON array file plus the list of the records' positions in the
blob, or a router that sorts records into one such file per table.
"""

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

MAX_RECORD_BYTES = 10 * 1024 * 1024
# The JSON handed to one normalize query: well inside the pull's DuckDB memory limit (768 MB) for any table.
SLICE_BYTES = 16 * 1024 * 1024

_DECODER = json.JSONDecoder()
_WS = re.compile(r"[ \t\r\n]*")
# A record array wrapped in an object: {"Records": [...]}, {"records": [...]}, or an API page's {"value": [...]}.
_WRAPPER = re.compile(r'\s*\{\s*"(?:Records|records|value)"\s*:\s*\[')


@dataclass
class SetAside:
    reason: str
    record_index: int | None = None
    byte_offset: int | None = None


@dataclass
class SplitResult:
    records_read: int = 0
    set_aside: list[SetAside] = field(default_factory=list)


class RecordSink(Protocol):
    def add(self, index: int, offset: int, span: bytes, value: dict) -> SetAside | None:
        """Take one good record (position, byte offset, bytes, parsed); a SetAside when it cannot use it."""


class ArrayFile:
    """Records written byte-for-byte into JSON array files, with each one's position in the blob. A new file
    starts every `max_bytes`, so that DuckDB normalizes a big blob a slice at a time within its memory limit."""

    def __init__(self, path: Path, max_bytes: int | None = None):
        self.base, self.max_bytes = path, max_bytes or SLICE_BYTES
        self.chunks: list[tuple[Path, list[int]]] = []
        self.handle = None
        self.written = 0

    def _start(self) -> None:
        if self.handle:
            self._finish()
        n = len(self.chunks)
        path = self.base if n == 0 else self.base.with_name(f"{self.base.stem}.{n}{self.base.suffix}")
        self.chunks.append((path, []))
        self.handle = open(path, "wb")
        self.handle.write(b"[")
        self.written = 0

    def _finish(self) -> None:
        self.handle.write(b"]")
        self.handle.close()
        self.handle = None

    def add(self, index: int, offset: int, span: bytes, value: dict) -> None:
        if self.handle is None or (self.written and self.written + len(span) > self.max_bytes):
            self._start()
        elif self.written:
            self.handle.write(b",")
        self.handle.write(span)
        self.written += len(span) + 1
        self.chunks[-1][1].append(index)

    def close(self) -> None:
        if self.handle:
            self._finish()


def _byte_offset(text: str, char_pos: int) -> int:
    return len(text[:char_pos].encode("utf-8", "surrogateescape"))


def _check_record(span: str, value: object, index: int, offset: int) -> SetAside | None:
    size = len(span.encode("utf-8", "surrogateescape"))
    if size > MAX_RECORD_BYTES:
        return SetAside(f"record of {size:,} bytes exceeds the {MAX_RECORD_BYTES:,}-byte limit", index, offset)
    try:
        span.encode("utf-8")
    except UnicodeEncodeError as exc:
        bad = exc.object[exc.start].encode("utf-8", "surrogateescape")[0]
        where = offset + len(span[: exc.start].encode("utf-8", "surrogateescape"))
        return SetAside(f"non-UTF-8 byte 0x{bad:02x} at byte offset {where}", index, offset)
    if not isinstance(value, dict):
        return SetAside(f"record is a JSON {type(value).__name__}, expected an object", index, offset)
    return None


def split_array(text: str, start: int, sink: RecordSink, result: SplitResult) -> None:
    """Walk the array whose '[' is at text[start]."""
    pos = start + 1
    index = 0
    while True:
        pos = _WS.match(text, pos).end()
        if pos < len(text) and text[pos] == "]":
            return
        if index:
            if pos >= len(text) or text[pos] != ",":
                _set_aside_rest(text, pos, index, result, "expected ',' or ']' between records")
                return
            pos = _WS.match(text, pos + 1).end()
        try:
            value, end = _DECODER.raw_decode(text, pos)
        except json.JSONDecodeError as exc:
            _set_aside_rest(text, pos, index, result, f"invalid JSON: {exc.msg}")
            return
        result.records_read += 1
        span = text[pos:end]
        offset = _byte_offset(text, pos)
        problem = _check_record(span, value, index, offset) or sink.add(index, offset, span.encode("utf-8"), value)
        if problem:
            result.set_aside.append(problem)
        index += 1
        pos = end


def _set_aside_rest(text: str, pos: int, index: int, result: SplitResult, why: str) -> None:
    offset = _byte_offset(text, pos)
    remaining = len(text.encode("utf-8", "surrogateescape")) - offset
    result.records_read += 1
    result.set_aside.append(
        SetAside(f"{why} at byte offset {offset} (record {index}); the remaining {remaining:,} bytes "
                 "cannot be split into records", index, offset)
    )


def split_lines(payload: bytes, sink: RecordSink, result: SplitResult) -> None:
    """One JSON record per line; a record's position is its line number."""
    # Walked by offsets rather than split(): a list of every line would copy the whole blob once more.
    offset, line_no, size = 0, -1, len(payload)
    while offset < size or (offset == size and line_no < 0):
        end = payload.find(b"\n", offset)
        end = size if end < 0 else end
        line, line_offset, line_no = payload[offset:end], offset, line_no + 1
        offset = end + 1
        if not line.strip():
            continue
        result.records_read += 1
        text = line.decode("utf-8", "surrogateescape")
        try:
            value, end = _DECODER.raw_decode(text, _WS.match(text).end())
            if text[end:].strip():
                raise json.JSONDecodeError("extra data after the record", text, end)
        except json.JSONDecodeError as exc:
            result.set_aside.append(SetAside(f"invalid JSON on line {line_no + 1}: {exc.msg}", line_no, line_offset))
            continue
        problem = (_check_record(text, value, line_no, line_offset)
                   or sink.add(line_no, line_offset, line.strip(), value))
        if problem:
            result.set_aside.append(problem)


def _single_object(text: str, first: int, sink: RecordSink, result: SplitResult) -> bool:
    """A whole blob that is one JSON object (possibly pretty-printed) is one record at position 0."""
    try:
        value, end = _DECODER.raw_decode(text, first)
    except json.JSONDecodeError:
        return False
    if text[end:].strip():
        return False
    result.records_read += 1
    span = text[first:end]
    offset = _byte_offset(text, first)
    problem = _check_record(span, value, 0, offset) or sink.add(0, offset, span.encode("utf-8"), value)
    if problem:
        result.set_aside.append(problem)
    return True


def _first_line_is_a_record(text: str, first: int) -> bool:
    end = text.find("\n", first)
    line = text[first : end if end >= 0 else len(text)]
    try:
        _, stop = _DECODER.raw_decode(line)
    except json.JSONDecodeError:
        return False
    return not line[stop:].strip()


def _broken_document(text: str, first: int, result: SplitResult) -> None:
    """A blob that opens like one JSON object but does not parse, and is not JSON lines either:
    one damaged record, not one complaint per line."""
    try:
        _DECODER.decode(text[first:])
        why = "not a JSON object"
    except json.JSONDecodeError as exc:
        where = _byte_offset(text, first + exc.pos)
        why = f"{exc.msg} at line {exc.lineno} column {exc.colno} (byte offset {where})"
    result.records_read += 1
    result.set_aside.append(SetAside(f"invalid JSON: {why}; the document is one record that cannot be read",
                                     0, _byte_offset(text, first)))


def _is_json_lines(payload: bytes) -> bool:
    """Whether the blob is JSON lines, told from its first line alone: a whole record, with more after it.
    Such a blob is split without decoding all of it at once (the result is the same as below)."""
    first = _WS.match(payload[:4096].decode("utf-8", "surrogateescape")).end()
    if payload[first:first + 1] != b"{":
        return False
    end = payload.find(b"\n", first)
    if end < 0 or not payload[end:].strip():
        return False
    return _first_line_is_a_record(payload[first:end].decode("utf-8", "surrogateescape"), 0)


def split_records(payload: bytes, sink: RecordSink) -> SplitResult:
    """Accept `{"Records"|"records"|"value": [...]}`, a bare `[...]`, JSON lines, or one JSON object."""
    result = SplitResult()
    if _is_json_lines(payload):
        split_lines(payload, sink, result)
        return result
    text = payload.decode("utf-8", "surrogateescape")
    wrapper = _WRAPPER.match(text)
    first = _WS.match(text).end()
    if wrapper:
        split_array(text, wrapper.end() - 1, sink, result)
    elif first < len(text) and text[first] == "[":
        split_array(text, first, sink, result)
    elif first >= len(text):
        pass
    elif _single_object(text, first, sink, result):
        pass
    elif text[first] == "{" and not _first_line_is_a_record(text, first):
        _broken_document(text, first, result)
    else:
        split_lines(payload, sink, result)
    return result
