"""Split a decoded blob into JSON records, setting aside whatever cannot be a record, with its reason.

The fast path hands DuckDB the blob's own `[...]` slice untouched. This module is the careful path:
it walks the records one by one so that a damaged record costs only itself, and it writes the good
records, byte-for-byte, into a JSON array file plus the list of their positions in the blob.
"""

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

MAX_RECORD_BYTES = 10 * 1024 * 1024

_DECODER = json.JSONDecoder()
_WS = re.compile(r"[ \t\r\n]*")
_RECORDS_WRAPPER = re.compile(r'\s*\{\s*"Records"\s*:\s*\[')


@dataclass
class SetAside:
    reason: str
    record_index: int | None = None
    byte_offset: int | None = None


@dataclass
class SplitResult:
    array_path: Path
    positions: list[int] = field(default_factory=list)
    records_read: int = 0
    set_aside: list[SetAside] = field(default_factory=list)


class _ArrayWriter:
    def __init__(self, path: Path):
        self.path = path
        self.handle = open(path, "wb")
        self.handle.write(b"[")
        self.count = 0

    def add(self, record: bytes) -> None:
        if self.count:
            self.handle.write(b",")
        self.handle.write(record)
        self.count += 1

    def close(self) -> None:
        self.handle.write(b"]")
        self.handle.close()


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


def split_array(text: str, start: int, writer: _ArrayWriter, result: SplitResult) -> None:
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
        problem = _check_record(span, value, index, _byte_offset(text, pos))
        if problem:
            result.set_aside.append(problem)
        else:
            writer.add(span.encode("utf-8"))
            result.positions.append(index)
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


def split_lines(payload: bytes, writer: _ArrayWriter, result: SplitResult) -> None:
    """One JSON record per line; a record's position is its line number."""
    offset = 0
    for line_no, line in enumerate(payload.split(b"\n")):
        line_offset = offset
        offset += len(line) + 1
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
        problem = _check_record(text, value, line_no, line_offset)
        if problem:
            result.set_aside.append(problem)
        else:
            writer.add(line.strip())
            result.positions.append(line_no)


def _single_object(text: str, first: int, writer: _ArrayWriter, result: SplitResult) -> bool:
    """A whole blob that is one JSON object (possibly pretty-printed) is one record at position 0."""
    try:
        value, end = _DECODER.raw_decode(text, first)
    except json.JSONDecodeError:
        return False
    if text[end:].strip():
        return False
    result.records_read += 1
    span = text[first:end]
    problem = _check_record(span, value, 0, _byte_offset(text, first))
    if problem:
        result.set_aside.append(problem)
    else:
        writer.add(span.encode("utf-8"))
        result.positions.append(0)
    return True


def split_records(payload: bytes, array_path: Path) -> SplitResult:
    """Accept `{"Records": [...]}`, a bare `[...]`, JSON lines, or one JSON object."""
    result = SplitResult(array_path)
    writer = _ArrayWriter(array_path)
    try:
        text = payload.decode("utf-8", "surrogateescape")
        wrapper = _RECORDS_WRAPPER.match(text)
        first = _WS.match(text).end()
        if wrapper:
            split_array(text, wrapper.end() - 1, writer, result)
        elif first < len(text) and text[first] == "[":
            split_array(text, first, writer, result)
        elif first >= len(text):
            pass
        elif not _single_object(text, first, writer, result):
            split_lines(payload, writer, result)
    finally:
        writer.close()
    return result
