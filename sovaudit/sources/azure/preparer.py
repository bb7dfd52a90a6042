"""Prepare one Azure Monitor blob: its records by the native extractor (queries/normalize/azure.fields.toml), each
routed by schema to its table's batch SQL (queries/normalize/azure_*_batch.sql); a blob of search hits goes record
by record through the Python splitter into azure_*.sql.

Azure delivers the same activity log in two shapes (the REST API's `eventTimestamp`/`{value,
localizedValue}` shape, and the resource-log shape of diagnostic exports), and resource logs of
any category (Key Vault AuditEvent, Storage, …) in the resource-log shape. Detection looks only
at which top-level keys a record has, with a value (a member that is null counts as absent: the extractor's columns
cannot tell the two apart); the rule is `route`, over columns, for the extractor's batch and a parsed record alike.
"""

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sovaudit.ingest import hits
from sovaudit.ingest.blobs import DecompressError, gunzip_if_needed
from sovaudit.ingest.prepared import PreparedBlob, TableBatch, TableSlice
from sovaudit.ingest.records import ArrayFile, NotARecord, SetAside, describe_keys, split_records

if TYPE_CHECKING:  # `pull --help` loads the preparers: no pyarrow for it
    import pyarrow as pa

ACTIVITY = "azure_activity"
RESOURCE = "azure_resource"
# Activity-log categories as they appear in the resource-log shape (exports to storage and event hubs).
_ACTIVITY_CATEGORIES = {"administrative", "security", "servicehealth", "alert", "recommendation", "policy",
                        "autoscale", "resourcehealth", "write", "delete", "action"}
_RESOURCE_LOG_KEYS = ("time", "resourceId", "operationName", "category")
# Objects whose array holds the records: an export's `records`, a REST page's `value`, an Elasticsearch/OpenSearch
# search response (or its `hits`).
WRAPPERS = (("records",), ("Records",), ("value",), ("hits",), ("hits", "hits"))


def is_storage_fragment(record: dict[str, Any]) -> bool:
    """A Storage log record's `properties` alone, as Microsoft's documentation publishes it: no time and no
    resource id, but the service's own fields. Stored (with no time, so no check window holds it), not lost."""
    properties = record.get("properties")
    return (set(record) == {"properties"} and isinstance(properties, dict)
            and "serviceType" in properties and "accountName" in properties)


class _Python:
    """`route`'s operations on one record's facts."""

    @staticmethod
    def activity_category(category: str | None) -> bool:
        return category is not None and category.lower() in _ACTIVITY_CATEGORIES

    @staticmethod
    def or_(a: bool, b: bool) -> bool:
        return a or b

    @staticmethod
    def if_else(condition: bool, then: str | None, otherwise: str | None) -> str | None:
        return then if condition else otherwise


class _Arrow:
    """`route`'s operations on a batch's columns of facts."""

    @staticmethod
    def activity_category(category):
        import pyarrow as pa
        import pyarrow.compute as pc

        return pc.fill_null(pc.is_in(pc.utf8_lower(category), pa.array(sorted(_ACTIVITY_CATEGORIES))), False)

    @staticmethod
    def or_(a, b):
        import pyarrow.compute as pc

        return pc.or_(a, b)

    @staticmethod
    def if_else(condition, then, otherwise):
        import pyarrow as pa
        import pyarrow.compute as pc

        return pc.if_else(condition, then, pa.scalar(otherwise, pa.string()) if otherwise is None else otherwise)


def route(rest, logged, category, arm, ops: type = _Python):
    """A record's table by the facts about its top-level members: `rest`, it has an eventTimestamp or an
    eventDataId, or its operationName is an object (the REST shape); `logged`, it has one of the resource-log shape's
    keys; `category`, its category when that is a string; `arm`, its identity has claims and authorization. None
    where the record has neither shape: a Storage fragment (is_storage_fragment) or no Azure record. The same rule
    for one record (`ops=_Python`, detect_table) and for a batch's columns (`ops=_Arrow`, _routed)."""
    activity = ops.or_(ops.activity_category(category), arm)
    return ops.if_else(rest, ACTIVITY, ops.if_else(logged, ops.if_else(activity, ACTIVITY, RESOURCE), None))


def _present(value: object) -> bool:
    return value is not None


def detect_table(record: dict[str, Any]) -> str | None:
    """azure_activity, azure_resource, or None for a record that is neither shape (by `route`)."""
    identity = record.get("identity")
    category = record.get("category")
    table = route(_present(record.get("eventTimestamp")) or _present(record.get("eventDataId"))
                  or isinstance(record.get("operationName"), dict),
                  any(_present(record.get(key)) for key in _RESOURCE_LOG_KEYS),
                  category if isinstance(category, str) else None,
                  isinstance(identity, dict) and _present(identity.get("claims"))
                  and _present(identity.get("authorization")))
    return table or (RESOURCE if is_storage_fragment(record) else None)


def _routed(batch: "pa.RecordBatch") -> "pa.Array":
    """`route` over the extractor's columns (queries/normalize/azure.fields.toml)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    def present(name: str) -> "pa.Array":
        return pc.is_valid(batch.column(name))

    def text(name: str) -> "pa.Array":  # a json column's text
        column = batch.column(name)
        return column.storage if isinstance(column.type, pa.BaseExtensionType) else column

    def object_(name: str) -> "pa.Array":
        return pc.fill_null(pc.starts_with(text(name), "{"), False)

    rest = pc.or_(pc.or_(present("_event_timestamp"), present("event_data_id")), object_("_operation_name"))
    logged = pc.or_(pc.or_(present("_time_string"), present("resource_id")),
                    pc.or_(present("_operation_name"), present("_category")))
    category = pc.if_else(pc.fill_null(pc.starts_with(text("_category"), '"'), False),
                          batch.column("category"), None)
    arm = pc.and_(present("_identity_claims"), present("_identity_authorization"))
    return route(rest, logged, category, arm, _Arrow)


def is_azure_record(value: dict[str, Any]) -> bool:
    return detect_table(value) is not None


class _Router:
    """A record sink that writes each record into its table's array file."""

    def __init__(self, work: Path):
        self.work = work
        self.files: dict[str, ArrayFile] = {}

    def add(self, index: int, offset: int, span: bytes, value: dict) -> SetAside | None:
        if hits.is_hit(value):
            try:
                span, value = hits.open_hit(span, value, is_azure_record, "Azure Monitor")
            except NotARecord as exc:
                return SetAside(str(exc), index, offset)
        table = detect_table(value)
        if table is None:
            return SetAside("not an Azure Monitor record: expected eventTimestamp (activity log, REST shape) or "
                            "time/resourceId/operationName/category (resource-log shape); found keys: "
                            f"{describe_keys(value)}", index, offset)
        if table not in self.files:
            self.files[table] = ArrayFile(self.work.with_name(f"{self.work.name}.{table}.json"))
        self.files[table].add(index, offset, span, value)
        return None

    def close(self) -> None:
        for file in self.files.values():
            file.close()


class AzurePreparer:
    tables = (ACTIVITY, RESOURCE)
    setup_queries = ("normalize/azure_macros.sql",)

    def __init__(self, locations: dict[str, str] | None = None):
        # resourceId glob (case-insensitive) -> Azure location, for records that do not say where they ran.
        self.locations = {pattern.lower(): location.lower().replace(" ", "")
                          for pattern, location in (locations or {}).items()}

    def sql_params(self, table: str) -> dict[str, Any]:
        return {"loc_patterns": list(self.locations), "loc_regions": list(self.locations.values())}

    def fast(self, data: bytes, work: Path) -> PreparedBlob:
        """The extracted batches, one per table; for a blob of search hits, none (the careful path reads it)."""
        try:
            payload = gunzip_if_needed(data)
        except DecompressError as exc:
            return PreparedBlob([], 1, [SetAside(str(exc))])
        return extracted(payload) or PreparedBlob([], None, payload=payload)

    def careful(self, payload: bytes, work: Path) -> PreparedBlob:
        router = _Router(work)
        try:
            result = split_records(payload, router, WRAPPERS)
        finally:
            router.close()
        slices = [TableSlice(table, path, positions) for table, file in router.files.items()
                  for path, positions in file.chunks]
        return PreparedBlob(slices, result.records_read, result.set_aside)


# A hit holds its record in `_source`: a blob whose records all map holds none, and needs no search for them.
_HIT_SHAPES = (b'"_source"', b'"hits"')
# The columns that make an event_uid; a row with none of them is named by the hash of its text (`_record_text`).
_ID_COLUMNS = {ACTIVITY: ("event_data_id", "_pa_event_data_id", "id"), RESOURCE: ("event_data_id", "id")}


def extracted(payload: bytes) -> PreparedBlob | None:
    """The blob's records by the native extractor, routed to their tables; None for a blob that may hold search hits
    (a record that is set aside or of neither shape, and a hit's member names in its bytes)."""
    # Here, not at the top: `pull --help` loads the preparers, and must not load pyarrow.
    import pyarrow as pa
    import pyarrow.compute as pc

    from sovaudit.ingest.extract import extract, load_spec

    result = extract(payload, load_spec("azure"))
    batch = result.batch
    tables = _routed(batch)
    if (result.set_aside or tables.null_count) and any(name in payload for name in _HIT_SHAPES):
        return None
    set_aside = [SetAside(s.reason, s.position, s.offset) for s in result.set_aside]
    if tables.null_count:  # neither shape: a Storage fragment, or set aside naming its keys
        unmapped = pc.is_null(tables)
        fragments = []
        for row in batch.filter(unmapped).select(["_position", "_offset", "_length"]).to_pylist():
            value = json.loads(payload[row["_offset"]:row["_offset"] + row["_length"]])
            if is_storage_fragment(value):
                fragments.append(row["_position"])
            else:
                set_aside.append(SetAside("not an Azure Monitor record: expected eventTimestamp (activity log, REST "
                                          "shape) or time/resourceId/operationName/category (resource-log shape); "
                                          f"found keys: {describe_keys(value)}", row["_position"], row["_offset"]))
        tables = pc.if_else(pc.is_in(batch.column("_position"), pa.array(fragments, pa.int64())), RESOURCE, tables)
    batches = []
    for table in (ACTIVITY, RESOURCE):
        rows = batch.filter(pc.fill_null(pc.equal(tables, table), False))
        if rows.num_rows:
            batches.append(TableBatch(table, _with_record_text(rows, payload, _ID_COLUMNS[table])))
    return PreparedBlob([], result.records_read, set_aside, payload=payload, batches=batches)


def _with_record_text(rows: "pa.RecordBatch", payload: bytes, ids: tuple[str, ...]) -> "pa.RecordBatch":
    """`_record_text`: the record's text where none of `ids` names it (azure_record_hash hashes it), else null."""
    import pyarrow as pa
    import pyarrow.compute as pc

    unnamed = None
    for name in ids:
        column = rows.column(name)
        blank = pc.fill_null(pc.equal(column, ""), True)
        unnamed = blank if unnamed is None else pc.and_(unnamed, blank)
    texts: list[str | None] = [None] * rows.num_rows
    if pc.any(unnamed).as_py():
        spans = rows.select(["_offset", "_length"]).to_pydict()
        for i, flag in enumerate(unnamed.to_pylist()):
            if flag:
                start = spans["_offset"][i]
                texts[i] = payload[start:start + spans["_length"][i]].decode("utf-8")
    return rows.append_column("_record_text", pa.array(texts, pa.string()))
