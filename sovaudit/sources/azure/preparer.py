"""Prepare one Azure Monitor blob: split it into records and sort each by schema into its table.

Azure delivers the same activity log in two shapes (the REST API's `eventTimestamp`/`{value,
localizedValue}` shape, and the resource-log shape of diagnostic exports), and resource logs of
any category (Key Vault AuditEvent, Storage, …) in the resource-log shape. Detection looks only
at which top-level keys a record has; the mapping itself is SQL (queries/normalize/azure_*.sql).
"""

from pathlib import Path
from typing import Any

from sovaudit.ingest import hits
from sovaudit.ingest.blobs import DecompressError, gunzip_if_needed
from sovaudit.ingest.prepared import PreparedBlob, TableSlice
from sovaudit.ingest.records import ArrayFile, NotARecord, SetAside, describe_keys, split_records

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


def detect_table(record: dict[str, Any]) -> str | None:
    """azure_activity, azure_resource, or None for a record that is neither shape."""
    if "eventTimestamp" in record or "eventDataId" in record or isinstance(record.get("operationName"), dict):
        return ACTIVITY  # REST shape
    if not any(key in record for key in _RESOURCE_LOG_KEYS):
        return RESOURCE if is_storage_fragment(record) else None
    category = record.get("category")
    identity = record.get("identity")
    if isinstance(category, str) and category.lower() in _ACTIVITY_CATEGORIES:
        return ACTIVITY
    if isinstance(identity, dict) and "claims" in identity and "authorization" in identity:
        return ACTIVITY  # only the activity log carries ARM claims and authorization together
    return RESOURCE


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
        try:
            return PreparedBlob([], None, payload=gunzip_if_needed(data))
        except DecompressError as exc:
            return PreparedBlob([], 1, [SetAside(str(exc))])

    def careful(self, payload: bytes, work: Path) -> PreparedBlob:
        router = _Router(work)
        try:
            result = split_records(payload, router, WRAPPERS)
        finally:
            router.close()
        slices = [TableSlice(table, path, positions) for table, file in router.files.items()
                  for path, positions in file.chunks]
        return PreparedBlob(slices, result.records_read, result.set_aside)
