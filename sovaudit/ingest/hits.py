"""Records inside Elasticsearch and OpenSearch exports.

A hit (`{"_index": …, "_id": …, "_source": {…}}`, from a search response's `hits.hits`, an elasticdump or
OpenSearch export with one per line, or a document copied from Kibana's Discover) keeps the indexed document
in `_source`. A pipeline that indexes the raw record stores it there as it came. One that maps it to ECS fields
(as Elastic's integrations do) keeps the raw JSON, if at all, as the string `event.original` (with the
`preserve_original_event` tag). Anything else holds no record this tool can read.
"""

import json
from collections.abc import Callable
from typing import Any

from sovaudit.ingest.records import NotARecord, describe_keys, json_error, json_type, member_span

WHERE = "an Elasticsearch/OpenSearch hit"


def is_hit(value: dict[str, Any]) -> bool:
    return "_source" in value or ("_index" in value and "_id" in value)


def _original(source: dict[str, Any]) -> object:
    """ECS `event.original`, nested or with a dotted key."""
    event = source.get("event")
    if isinstance(event, dict) and "original" in event:
        return event["original"]
    return source.get("event.original")


def open_hit(span: bytes, hit: dict[str, Any], is_raw: Callable[[dict[str, Any]], bool],
             what: str) -> tuple[bytes, dict[str, Any]]:
    """The raw record a hit holds, as bytes and parsed; `is_raw` tells a raw record of the source from a mapped
    document. NotARecord says why there is none."""
    source = hit.get("_source")
    if not isinstance(source, dict):
        raise NotARecord(f"{WHERE} without a _source object (export the documents with _source); found keys: "
                         f"{describe_keys(hit)}")
    if is_raw(source):
        text = span.decode("utf-8")
        start, end = member_span(text, "_source")
        return text[start:end].encode("utf-8"), source
    original = _original(source)
    if original is None:
        raise NotARecord(f"{WHERE} whose _source is not a raw {what} record and keeps none in event.original; "
                         f"found keys: {describe_keys(source)}")
    if not isinstance(original, str):
        raise NotARecord(f"{WHERE} whose event.original is a JSON {json_type(original)}, expected the raw "
                         "record as a JSON string")
    try:
        record = json.loads(original)
    except json.JSONDecodeError as exc:
        raise NotARecord(f"{WHERE} whose event.original is not JSON: {json_error(exc)} at character {exc.pos}") from None
    if not isinstance(record, dict):
        raise NotARecord(f"{WHERE} whose event.original holds a JSON {json_type(record)}, expected a {what} "
                         "record (an object)")
    return original.encode("utf-8", "backslashreplace"), record
