"""CloudTrail LookupEvents: for accounts without a trail bucket.

Only management events of the last 90 days are visible through this API. Each page is archived
as JSON lines of the `CloudTrailEvent` strings exactly as the API returned them.
"""

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from sovaudit.errors import SourceError
from sovaudit.ingest.blobs import RawBlob
from sovaudit.ingest.records import NotARecord
from sovaudit.sources.cloudtrail.aws_errors import describe_aws_error
from sovaudit.sources.cloudtrail.lookup_events import FIELD, record_bytes, record_text

LOOKUP_RETENTION = timedelta(days=90)
LOOKUP_NOTE = ("LookupEvents sees only the last 90 days of management events; data events such as "
               "S3 object reads and KMS use need a trail bucket (--bucket)")


def _line(event: dict[str, Any]) -> bytes:
    """The event's record; an event without one as the lookup fields it has, so that the careful path sets it
    aside naming them rather than the pull failing."""
    try:
        return record_bytes(record_text(event))
    except NotARecord:
        return json.dumps({key: value for key, value in event.items() if key != FIELD}, default=str).encode()


class LookupEventsSource:
    def __init__(self, client: Any, region: str, since: datetime | None, until: datetime | None):
        self.client = client
        self.region = region
        now = datetime.now(UTC)
        self.until = until or now
        self.since = max(since or now - LOOKUP_RETENTION, now - LOOKUP_RETENTION)

    def blobs(self) -> Iterator[RawBlob]:
        paginator = self.client.get_paginator("lookup_events")
        pages = paginator.paginate(StartTime=self.since, EndTime=self.until, PaginationConfig={"PageSize": 50})
        where = f"cloudtrail LookupEvents in {self.region}"
        try:
            for number, page in enumerate(pages):
                events = page.get("Events", [])
                if not events:
                    continue
                data = b"\n".join(_line(event) for event in events) + b"\n"
                origin = {"kind": "lookup", "region": self.region, "page": number,
                          "start": self.since.isoformat(), "end": self.until.isoformat()}
                yield RawBlob(data, origin, f"{where}, page {number}")
        except (ClientError, BotoCoreError) as exc:
            raise SourceError(describe_aws_error(exc, where)) from None
