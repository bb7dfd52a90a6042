"""A LookupEvents event and the CloudTrail record it carries.

The API, and `aws cloudtrail lookup-events` with it, returns each event as a few lookup fields (`EventId`,
`EventName`, `Username`, …) plus `CloudTrailEvent`: the record itself, as a JSON string. A pull through the API
(`--lookup`) archives those strings; a pull of the CLI's output files (`--path`) finds them in the pages.
"""

import json
from collections.abc import Mapping
from typing import Any

from sovaudit.ingest.records import NotARecord, describe_keys, json_error, json_type

FIELD = "CloudTrailEvent"


def is_lookup_event(value: Mapping[str, Any]) -> bool:
    return FIELD in value


def record_text(event: Mapping[str, Any]) -> str:
    """The record's JSON text; NotARecord when the event has none."""
    text = event.get(FIELD)
    if not isinstance(text, str):
        raise NotARecord(f"lookup event whose {FIELD} is a JSON {json_type(text)}, expected the record as a "
                         f"JSON string; found keys: {describe_keys(dict(event))}")
    return text


def record_bytes(text: str) -> bytes:
    """The record as UTF-8. A lone surrogate (a `\\udXXX` escape the API kept) becomes that escape again, which
    is the same JSON and, unlike the character, can be written."""
    return text.encode("utf-8", "backslashreplace")


def open_event(event: Mapping[str, Any]) -> tuple[bytes, dict[str, Any]]:
    """The record inside a lookup event: its bytes and parsed form. NotARecord says why there is none."""
    text = record_text(event)
    try:
        record = json.loads(text)
    except json.JSONDecodeError as exc:
        raise NotARecord(f"{FIELD} is not valid JSON: {json_error(exc)} at character {exc.pos} of the string") from None
    if not isinstance(record, dict):
        raise NotARecord(f"{FIELD} holds a JSON {json_type(record)}, expected a CloudTrail record (an object)")
    return record_bytes(text), record
