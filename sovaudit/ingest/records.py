"""Split a decoded blob into JSON records, setting aside whatever cannot be a record, with its reason.

The fast path hands DuckDB the blob's own `[...]` slice untouched. This module is the careful path:
it walks the records one by one so that a damaged record costs only itself, and hands each good
record, byte-for-byte, to a sink: a JSON array file plus the list of the records' positions in the
blob, or a router that sorts records into one such file per table.

How a blob is read, in this order:

1. JSON lines, when its first line is a whole JSON value and more follows, or when its first line is broken and the
   next is a whole object: each line is a record.
2. Otherwise JSON documents, one or several one after another (pretty-printed or not): a bare array's elements
   are records, and so is each object.
3. Anything else is read as lines, so that each bad line is set aside on its own.

A source may name record arrays that an object wraps (`wrappers`: `{"Records": [...]}`, a LookupEvents page's
`{"Events": [...]}`, a search response's `{"hits": {"hits": [...]}}`). An object (a whole document, or a line)
holding one is not a record: the array's elements are, wherever the key stands in the object. A record's
position is its line number or array index; the elements of a wrapper in a file of several take the positions
after the previous record's, so that positions stay unique in the blob.
"""

import json
import re
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

MAX_RECORD_BYTES = 10 * 1024 * 1024
# As the extractor's (sovaudit.ingest.extract.MAX_DEPTH): audit records nest about ten deep. Python's decoder would
# stop near 1,000, at a depth that depends on the stack it is called from; this limit does not.
MAX_DEPTH = 64
# The JSON handed to one normalize query: well inside the pull's DuckDB memory limit (768 MB) for any table.
SLICE_BYTES = 16 * 1024 * 1024
# How many keys a reason names, and how much of each: a record's keys are as hostile as its values.
SHOWN_KEYS = 8
SHOWN_KEY_CHARS = 64

_last_offset = threading.local()  # per worker thread: (text, char position, its byte offset), see _byte_offset


class _DuplicateMember(ValueError):
    """An object that names one member twice; the argument is the name."""


def _unique_members(pairs: list[tuple[str, object]]) -> dict:
    members = dict(pairs)
    if len(members) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _DuplicateMember(key)
            seen.add(key)
    return members


# A member named twice sets its record aside, as the extractor does: readers disagree on which value wins (this
# decoder keeps the last, DuckDB's the first), so the record says two things at once.
_DECODER = json.JSONDecoder(object_pairs_hook=_unique_members)
_LAX_DECODER = json.JSONDecoder(strict=False)  # takes control characters inside strings
_WS = re.compile(r"[ \t\r\n]*")
# Where a document may start, a byte order mark is skipped too: files joined with `cat`, one saved by a Windows
# editor, carry one before a record.
_DOC_WS = re.compile("(?:[ \t\r\n]|\ufeff)*")
_DOC_WS_BYTES = re.compile(b"(?:[ \t\r\n]|\xef\xbb\xbf)*")
# Finding where a value ends without decoding it: its strings skipped, its brackets counted.
_BRACKET_OR_QUOTE = re.compile(r'["\[\]{}]')
_STRING_REST = re.compile(r'(?:[^"\\]|\\.)*"', re.S)
_SCALAR = re.compile(r"[^ \t\r\n,\]}]*")
_INT_DIGITS = re.compile(r"value has (\d+) digits")
# A \uD800-\uDFFF escape (after an odd run of backslashes), and the low half that must follow a high one.
_SURROGATE_ESCAPE = re.compile(r"(\\+)u[dD]([89a-fA-F])[0-9a-fA-F]{2}")
_LOW_SURROGATE_ESCAPE = re.compile(r"\\u[dD][c-fC-F][0-9a-fA-F]{2}")

Wrappers = tuple[tuple[str, ...], ...]


@dataclass
class SetAside:
    reason: str
    record_index: int | None = None
    byte_offset: int | None = None


@dataclass
class SplitResult:
    records_read: int = 0
    set_aside: list[SetAside] = field(default_factory=list)


class Unreadable(Exception):
    """A value that is JSON but that the decoder cannot take: the message says why."""


def decode(text: str, pos: int = 0) -> tuple[object, int]:
    """The JSON value at text[pos] and where it ends, as json.JSONDecoder.raw_decode gives them; Unreadable for one
    that is valid JSON but beyond what Python's decoder reads (nested too deep, an integer too long), which would
    otherwise escape as a RecursionError or ValueError and end the pull, and for one whose only fault is a raw
    control character inside a string: its end is certain, so it need not cost what follows it."""
    try:
        return _DECODER.raw_decode(text, pos)
    except json.JSONDecodeError as exc:
        if not exc.msg.startswith("Invalid control character"):
            raise
        try:
            _LAX_DECODER.raw_decode(text, pos)
        except (ValueError, RecursionError):
            raise exc from None
        raise Unreadable(f"control character 0x{ord(text[exc.pos]):02x} inside a string") from None
    except _DuplicateMember as exc:
        raise Unreadable(f'duplicate member "{shown_key(exc.args[0])}"') from None
    except RecursionError:
        raise Unreadable(f"nested deeper than {MAX_DEPTH} levels") from None
    except ValueError as exc:  # int() refuses more digits than sys.get_int_max_str_digits()
        digits = _INT_DIGITS.search(str(exc))
        raise Unreadable(f"an integer of {int(digits[1]) if digits else 'too many'} digits, too long to read "
                         f"(the limit is {sys.get_int_max_str_digits():,})") from None


def value_end(text: str, pos: int) -> int | None:
    """Where the JSON value at text[pos] ends, found without decoding it (for one `decode` cannot take), or None
    when it does not end."""
    if text[pos] not in "[{":
        return _SCALAR.match(text, pos).end()
    depth = 0
    while found := _BRACKET_OR_QUOTE.search(text, pos):
        if found[0] == '"':
            rest = _STRING_REST.match(text, found.end())
            if rest is None:
                return None
            pos = rest.end()
            continue
        depth += 1 if found[0] in "[{" else -1
        pos = found.end()
        if depth == 0:
            return pos
    return None


class NotARecord(ValueError):
    """A value that carries no record a sink can use; the message says why."""


class RecordSink(Protocol):
    def add(self, index: int, offset: int, span: bytes, value: dict) -> SetAside | None:
        """Take one good record (position, byte offset, bytes, parsed); a SetAside when it cannot use it."""


def shown_key(key: str) -> str:
    """A key for a reason: cut to SHOWN_KEY_CHARS, and a lone surrogate (which no UTF-8 file can hold) in its escape
    form."""
    key = key if len(key) <= SHOWN_KEY_CHARS else key[: SHOWN_KEY_CHARS - 1] + "…"
    return key.encode("utf-8", "backslashreplace").decode("utf-8")


def describe_keys(record: dict) -> str:
    """The record's keys for a reason: sorted, at most SHOWN_KEYS of them, each as shown_key gives it. Never a
    value."""
    keys = sorted(record)
    text = ", ".join(shown_key(key) for key in keys[:SHOWN_KEYS]) or "none"
    return text + (f" (and {len(keys) - SHOWN_KEYS} more)" if len(keys) > SHOWN_KEYS else "")


def json_type(value: object) -> str:
    """A parsed value's JSON type, for reasons."""
    names = {dict: "object", list: "array", str: "string", bool: "boolean", type(None): "null"}
    return names.get(type(value), "number")


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


def json_error(exc: json.JSONDecodeError) -> str:
    """The decoder's message, without the dangling "at" some of them end in ("Invalid control character at")."""
    return exc.msg.removesuffix(" at")


def _byte_offset(text: str, char_pos: int) -> int:
    """The byte offset of text[char_pos]. Records come in order, so each is counted on from the last one asked
    for in the same text: counting from the start every time made a blob of n records cost n² / 2."""
    memo = getattr(_last_offset, "memo", None)
    if memo is not None and memo[0] is text and memo[1] <= char_pos:
        offset = memo[2] + len(text[memo[1]:char_pos].encode("utf-8", "surrogateescape"))
    else:
        offset = len(text[:char_pos].encode("utf-8", "surrogateescape"))
    _last_offset.memo = (text, char_pos, offset)
    return offset


def _lone_surrogate(span: str) -> int | None:
    """Where the first escape of half a surrogate pair (`\\ud800` with no low half after it) stands in `span`: JSON
    that Python decodes to a string no UTF-8 can hold, and DuckDB refuses with every record read alongside."""
    pos = 0
    while found := _SURROGATE_ESCAPE.search(span, pos):
        pos = found.end()
        if len(found[1]) % 2 == 0:  # an escaped backslash, then a plain "u"
            continue
        if found[2] in "89abAB" and (low := _LOW_SURROGATE_ESCAPE.match(span, pos)):
            pos = low.end()
            continue
        return found.start() + len(found[1]) - 1
    return None


def _too_deep(span: str) -> bool:
    if span.count("[") + span.count("{") <= MAX_DEPTH:  # most records: no need to look further
        return False
    depth, pos = 0, 0
    while found := _BRACKET_OR_QUOTE.search(span, pos):
        pos = found.end()
        if found[0] == '"':
            rest = _STRING_REST.match(span, pos)
            if rest is None:
                return False
            pos = rest.end()
            continue
        depth += 1 if found[0] in "[{" else -1
        if depth > MAX_DEPTH:
            return True
    return False


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
    if "\\u" in span and (lone := _lone_surrogate(span)) is not None:
        where = offset + len(span[:lone].encode("utf-8"))
        return SetAside(f"a lone surrogate escape {span[lone:lone + 6]} at byte offset {where}", index, offset)
    if _too_deep(span):
        return SetAside(f"nested deeper than {MAX_DEPTH} levels", index, offset)
    if not isinstance(value, dict):
        return SetAside(f"record is a JSON {json_type(value)}, expected an object", index, offset)
    return None


def _take(text: str, start: int, end: int, value: object, index: int, base: int, sink: RecordSink,
          result: SplitResult) -> None:
    """One record, text[start:end], at position `index`; `base` is the byte offset of `text` in the blob."""
    result.records_read += 1
    span = text[start:end]
    offset = base + _byte_offset(text, start)
    problem = _check_record(span, value, index, offset) or sink.add(index, offset, span.encode("utf-8"), value)
    if problem:
        result.set_aside.append(problem)


def split_array(text: str, start: int, sink: RecordSink, result: SplitResult, first_index: int = 0,
                base: int = 0) -> int | None:
    """Walk the array whose '[' is at text[start]; its elements take positions from `first_index`. Returns the
    position after its ']', or None when the rest could not be split (and was set aside)."""
    pos = start + 1
    index = 0
    while True:
        pos = _WS.match(text, pos).end()
        if pos < len(text) and text[pos] == "]":
            return pos + 1
        if index:
            if pos >= len(text) or text[pos] != ",":
                _set_aside_rest(text, pos, first_index + index, result, "expected ',' or ']' between records", base)
                return None
            pos = _WS.match(text, pos + 1).end()
        try:
            value, end = decode(text, pos)
        except json.JSONDecodeError as exc:
            _set_aside_rest(text, pos, first_index + index, result, f"invalid JSON: {json_error(exc)}", base)
            return None
        except Unreadable as exc:
            end = value_end(text, pos)
            if end is None:
                _set_aside_rest(text, pos, first_index + index, result, str(exc), base)
                return None
            result.records_read += 1
            result.set_aside.append(SetAside(str(exc), first_index + index, base + _byte_offset(text, pos)))
            index += 1
            pos = end
            continue
        _take(text, pos, end, value, first_index + index, base, sink, result)
        index += 1
        pos = end


def _set_aside_rest(text: str, pos: int, index: int, result: SplitResult, why: str, base: int = 0) -> None:
    offset = _byte_offset(text, pos)
    remaining = len(text.encode("utf-8", "surrogateescape")) - offset
    rest = (f"the remaining {remaining:,} bytes cannot be split into records" if remaining
            else "the blob ends there")
    result.records_read += 1
    result.set_aside.append(SetAside(f"{why} at byte offset {base + offset} (record {index}); {rest}",
                                     index, base + offset))


def _walk_object(text: str, pos: int, paths: Wrappers,
                 on_value: Callable[[int], int | None]) -> tuple[int, dict | None]:
    """Walk the object whose '{' is at text[pos] member by member. The value at the end of one of `paths` is offered
    to `on_value(its position)`, which returns the position after it when it takes it, else None; other values are
    decoded whole. Returns the position after the '}', and the object as decoded, or None when `on_value` took a
    value of it."""
    members: dict = {}
    taken = False
    pos = _WS.match(text, pos + 1).end()
    if text.startswith("}", pos):
        return pos + 1, members
    while True:
        if not text.startswith('"', pos):
            raise json.JSONDecodeError("Expecting property name enclosed in double quotes", text, pos)
        key, pos = _DECODER.raw_decode(text, pos)
        if key in members:
            raise Unreadable(f'duplicate member "{shown_key(key)}"')
        pos = _WS.match(text, pos).end()
        if not text.startswith(":", pos):
            raise json.JSONDecodeError("Expecting ':' delimiter", text, pos)
        pos = _WS.match(text, pos + 1).end()
        deeper = tuple(path[1:] for path in paths if path and path[0] == key)
        end = on_value(pos) if () in deeper else None
        if end is not None:
            pos, taken = end, True
        elif any(deeper) and text.startswith("{", pos):
            pos, inner = _walk_object(text, pos, tuple(path for path in deeper if path), on_value)
            if inner is None:
                taken = True
            else:
                members[key] = inner
        else:
            members[key], pos = decode(text, pos)
        pos = _WS.match(text, pos).end()
        if text.startswith(",", pos):
            pos = _WS.match(text, pos + 1).end()
        elif text.startswith("}", pos):
            return pos + 1, None if taken else members
        else:
            raise json.JSONDecodeError("Expecting ',' delimiter", text, pos)


def member_span(text: str, key: str) -> tuple[int, int] | None:
    """Where the value of the top-level member `key` stands in `text`, a JSON object: (start, end), or None."""
    spans: list[tuple[int, int]] = []

    def take(pos: int) -> int:
        end = decode(text, pos)[1]
        spans.append((pos, end))
        return end

    _walk_object(text, _WS.match(text).end(), ((key,),), take)
    return spans[-1] if spans else None  # the last one, as a decoder keeps of a repeated key


class _BrokenOff(Exception):
    """A wrapped array could not be split to its end; what was left of the blob was set aside."""


class _Wrapped:
    """Splits the record arrays of wrapper objects in one blob, numbering their elements on from `next_index`."""

    def __init__(self, text: str, wrappers: Wrappers, sink: RecordSink, result: SplitResult, base: int = 0):
        self.text, self.wrappers, self.sink, self.result, self.base = text, wrappers, sink, result, base
        self.next_index = 0

    def array(self, pos: int) -> int | None:
        if not self.text.startswith("[", pos):
            return None
        before = self.result.records_read
        end = split_array(self.text, pos, self.sink, self.result, self.next_index, self.base)
        self.next_index += self.result.records_read - before
        if end is None:
            raise _BrokenOff
        return end

    def document(self, pos: int) -> int:
        """One top-level value at text[pos]: a bare array's records, a wrapper's records, or one record. Returns the
        position after it."""
        if self.text.startswith("[", pos):
            return self.array(pos)
        read_before = self.result.records_read
        try:
            if self.wrappers and self.text.startswith("{", pos):
                end, value = _walk_object(self.text, pos, self.wrappers, self.array)
            else:
                value, end = decode(self.text, pos)
        except Unreadable as exc:
            end = value_end(self.text, pos)
            if end is None:
                raise json.JSONDecodeError(str(exc), self.text, pos) from None
            if self.result.records_read == read_before:  # else a wrapper's records were read: it held them
                self.result.records_read += 1
                self.result.set_aside.append(SetAside(str(exc), self.next_index, self.base + _byte_offset(self.text, pos)))
                self.next_index += 1
            return end
        if value is not None:
            _take(self.text, pos, end, value, self.next_index, self.base, self.sink, self.result)
            self.next_index += 1
        return end


def _holds_wrapped_array(value: object, wrappers: Wrappers) -> bool:
    for path in wrappers:
        inner = value
        for key in path:
            inner = inner.get(key) if isinstance(inner, dict) else None
        if isinstance(inner, list):
            return True
    return False


def split_lines(payload: bytes, sink: RecordSink, result: SplitResult, wrappers: Wrappers = ()) -> None:
    """One JSON record per line; a record's position is its line number (a wrapper line's records take the
    positions from its line number on, and the lines after them move up)."""
    # Walked by offsets rather than split(): a list of every line would copy the whole blob once more.
    offset, line_no, size, next_index = 0, -1, len(payload), 0
    while offset < size or (offset == size and line_no < 0):
        end = payload.find(b"\n", offset)
        end = size if end < 0 else end
        line, line_offset, line_no = payload[offset:end], offset, line_no + 1
        offset = end + 1
        text = line.decode("utf-8", "surrogateescape")
        start = _DOC_WS.match(text).end()
        if start == len(text):  # blank, or a byte order mark alone
            continue
        index = max(line_no, next_index)
        next_index = index + 1
        result.records_read += 1
        try:
            value, stop = decode(text, start)
            if text[stop:].strip():
                raise json.JSONDecodeError("extra data after the record", text, stop)
        except json.JSONDecodeError as exc:
            result.set_aside.append(SetAside(f"invalid JSON on line {line_no + 1}: {json_error(exc)}", index, line_offset))
            continue
        except Unreadable as exc:
            result.set_aside.append(SetAside(f"line {line_no + 1}: {exc}", index, line_offset))
            continue
        if _holds_wrapped_array(value, wrappers):
            result.records_read -= 1  # the wrapper is not a record; its elements are
            wrapped = _Wrapped(text, wrappers, sink, result, line_offset)
            wrapped.next_index = index
            wrapped.document(start)  # cannot break off: the line decoded whole
            next_index = wrapped.next_index
            continue
        problem = (_check_record(text, value, index, line_offset)
                   or sink.add(index, line_offset, text[start:stop].encode("utf-8"), value))
        if problem:
            result.set_aside.append(problem)


def _first_line_is_a_record(text: str, first: int) -> bool:
    end = text.find("\n", first)
    line = text[first : end if end >= 0 else len(text)]
    try:
        _, stop = decode(line)
    except json.JSONDecodeError:
        return False
    except Unreadable:
        stop = value_end(line, 0)
        if stop is None:
            return False
    return not line[stop:].strip()


def _broken_document(text: str, first: int, exc: json.JSONDecodeError, result: SplitResult) -> None:
    """A blob that opens like one JSON object but does not parse, and is not JSON lines either:
    one damaged record, not one complaint per line."""
    where = _byte_offset(text, exc.pos)
    why = f"{json_error(exc)} at line {exc.lineno} column {exc.colno} (byte offset {where})"
    if '"""' in text:
        why += ('; """-quoted strings, as the Kibana Dev Tools console shows them, are not JSON: save the '
                "response itself (curl, or Copy as cURL)")
    result.records_read += 1
    result.set_aside.append(SetAside(f"invalid JSON: {why}; the document is one record that cannot be read",
                                     0, _byte_offset(text, first)))


def _split_documents(text: str, first: int, wrappers: Wrappers, sink: RecordSink,
                     result: SplitResult) -> json.JSONDecodeError | None:
    """One JSON document (an array or an object), or several one after another. Returns the error when the first
    document is an object that does not parse, with nothing read from it (the caller decides what it was)."""
    wrapped = _Wrapped(text, wrappers, sink, result)
    pos = first
    while pos < len(text):
        read_before = result.records_read
        try:
            pos = _DOC_WS.match(text, wrapped.document(pos)).end()
        except _BrokenOff:
            return
        except json.JSONDecodeError as exc:
            if result.records_read > read_before:  # a wrapper whose records were read, broken after them
                _set_aside_rest(text, exc.pos, wrapped.next_index, result, f"invalid JSON: {json_error(exc)}")
            elif pos == first:
                return exc
            else:
                _set_aside_rest(text, pos, wrapped.next_index, result, f"invalid JSON: {json_error(exc)}")
            return None
    return None


def _second_line_is_a_record(text: str, first: int) -> bool:
    """Whether the next non-blank line after the one at text[first] is a whole JSON object: a JSON lines blob whose
    first record is broken, rather than one broken document."""
    end = text.find("\n", first)
    if end < 0:
        return False
    start = _DOC_WS.match(text, end + 1).end()
    return text.startswith("{", start) and _first_line_is_a_record(text, start)


def _is_json_lines(payload: bytes) -> bool:
    """Whether the blob is JSON lines, told from its first line alone: a whole record, with more after it.
    Such a blob is split without decoding all of it at once (the result is the same as below)."""
    first = _DOC_WS_BYTES.match(payload, 0, 4096).end()
    if payload[first:first + 1] != b"{":
        return False
    end = payload.find(b"\n", first)
    if end < 0 or not payload[end:].strip():
        return False
    return _first_line_is_a_record(payload[first:end].decode("utf-8", "surrogateescape"), 0)


def split_records(payload: bytes, sink: RecordSink, wrappers: Wrappers = ()) -> SplitResult:
    """JSON lines, a bare `[...]`, or JSON objects, with the record arrays of `wrappers` split (module docstring)."""
    result = SplitResult()
    try:
        if _is_json_lines(payload):
            split_lines(payload, sink, result, wrappers)
            return result
        text = payload.decode("utf-8", "surrogateescape")
        first = _DOC_WS.match(text).end()
        if first >= len(text):
            pass
        elif text[first] in "[{":
            broken = _split_documents(text, first, wrappers, sink, result)
            if broken is not None and _second_line_is_a_record(text, first):
                split_lines(payload, sink, result, wrappers)  # the first line is set aside, not every record
            elif broken is not None:
                _broken_document(text, first, broken, result)
        else:
            split_lines(payload, sink, result, wrappers)
        return result
    finally:
        _last_offset.memo = None  # the blob's text is not kept alive by it
