"""The Azure activity log through its REST API (azure-mgmt-monitor), page by page.

Each page is archived as the JSON bytes Azure sent (`{"value": [...], "nextLink": ...}`), taken from
the pipeline's raw-response hook, not re-serialised from the SDK's models.
"""

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from azure.core.exceptions import AzureError

from sovaudit.errors import SourceError
from sovaudit.ingest.blobs import RawBlob
from sovaudit.sources.azure.errors import describe_azure_error

API_RETENTION = timedelta(days=90)
# Activity-log events can appear in the API some minutes after they happened: an incremental pull
# starts this much before the end of the last one, and the overlap is dropped as duplicates.
LATE_ARRIVAL = timedelta(hours=1)
PUBLIC_CLOUD = "https://management.azure.com"


def _stamp(ts: datetime) -> str:
    return ts.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def activity_window(since: datetime | None, until: datetime | None, last_end: datetime | None,
                    now: datetime, warn: Callable[[str], None]) -> tuple[datetime, datetime]:
    """The eventTimestamp window to ask for: --since, else where the last pull ended, else 90 days."""
    end = min(until or now, now)
    oldest = now - API_RETENTION
    if since is None:
        start = max(last_end - LATE_ARRIVAL, oldest) if last_end else oldest
    elif since < oldest:
        warn(f"the Activity Log API keeps only 90 days: events before {_stamp(oldest)} cannot be pulled from it "
             f"(asked for {_stamp(since)}); pulling what exists from {_stamp(oldest)} on. Older events are only in "
             "a diagnostic export (sovaudit pull azure-storage)")
        start = oldest
    else:
        start = since
    return start, end


class ActivityLogSource:
    def __init__(self, client: Any, subscription: str, start: datetime, end: datetime, where: str):
        self.client = client
        self.subscription = subscription
        self.start, self.end = start, end
        self.where = where

    def blobs(self) -> Iterator[RawBlob]:
        query = f"eventTimestamp ge '{_stamp(self.start)}' and eventTimestamp le '{_stamp(self.end)}'"
        bodies: list[bytes] = []

        def keep_page(response: Any) -> None:
            # Called for every HTTP response, retries included: only a page that was served counts.
            if response.http_response.status_code == 200:
                bodies.append(response.http_response.body())

        try:
            pages = self.client.activity_logs.list(filter=query, raw_response_hook=keep_page).by_page()
            for number, _page in enumerate(pages):
                data = bodies.pop()
                origin = {"kind": "azure_activity_api", "subscription": self.subscription, "page": number,
                          "start": _stamp(self.start), "end": _stamp(self.end)}
                yield RawBlob(data, origin, f"{self.where}, page {number}")
        except AzureError as exc:
            raise SourceError(describe_azure_error(exc, self.where)) from None


def make_monitor_client(credential: Any, subscription: str, endpoint: str | None) -> Any:
    from azure.mgmt.monitor import MonitorManagementClient

    base = (endpoint or PUBLIC_CLOUD).rstrip("/")
    # A few quick retries: the SDK's default of ten with back-off makes an unreachable endpoint take minutes.
    # 429 and 5xx answers are retried after their Retry-After.
    return MonitorManagementClient(credential, subscription, base_url=base, credential_scopes=[f"{base}/.default"],
                                   retry_total=4, retry_backoff_factor=0.5, retry_backoff_max=30,
                                   connection_timeout=10, read_timeout=120)


def last_pulled_until(entries: list[dict[str, Any]], subscription: str) -> datetime | None:
    """Where the last complete activity-log pull of this subscription ended, from the ledger."""
    ends = [
        i["end"] for e in entries if not e.get("failures")
        for i in e.get("inputs", []) if i.get("kind") == "azure_activity_api" and i.get("subscription") == subscription
    ]
    return datetime.fromisoformat(max(ends).replace("Z", "+00:00")) if ends else None
