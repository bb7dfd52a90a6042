"""CloudTrail from its S3 delivery layout, incremental by key and etag.

AWSLogs/[o-xxxx/]ACCOUNT/CloudTrail/REGION/YYYY/MM/DD/*.json.gz  (and CloudTrail-Digest/ beside it)
"""

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from sovaudit.errors import SourceError
from sovaudit.ingest.blobs import FailedInput, ListingDone, RawBlob
from sovaudit.sources.cloudtrail.aws_errors import describe_aws_error
from sovaudit.sources.fetching import fetch_in_order

_ACCOUNT = re.compile(r"^\d{12}$")
_ORG = re.compile(r"^o-[a-z0-9]{10,32}$")
_DELIVERY_STAMP = re.compile(r"_(\d{8}T\d{4})Z_")
# Folders and file stamps are delivery times; CloudTrail delivers within about 15 minutes of the event.
DELIVERY_MARGIN = timedelta(hours=1)


def _days(since: datetime, until: datetime) -> list[str]:
    day, last, out = since.astimezone(UTC).date(), until.astimezone(UTC).date(), []
    while day <= last:
        out.append(f"{day:%Y/%m/%d}/")
        day += timedelta(days=1)
    return out


def _delivered_by(key: str, cutoff: datetime) -> bool:
    stamp = _DELIVERY_STAMP.search(key.rsplit("/", 1)[-1])
    if not stamp:
        return True  # no stamp to go by: fetch rather than risk missing events
    return datetime.strptime(stamp.group(1), "%Y%m%dT%H%M").replace(tzinfo=UTC) <= cutoff


class S3CloudTrailSource:
    def __init__(self, client: Any, bucket: str, *, prefix: str | None = None, accounts: list[str] | None = None,
                 regions: list[str] | None = None, since: datetime | None = None, until: datetime | None = None,
                 seen: set[tuple[str, str]] | None = None, workers: int = 8):
        self.client = client
        self.bucket = bucket
        self.prefix = (prefix.strip("/") + "/") if prefix and prefix.strip("/") else ""
        self.accounts = set(accounts or [])
        self.regions = set(regions or [])
        self.since, self.until = since, until
        self.seen = seen or set()
        self.workers = workers
        self.skipped_unchanged = 0

    def _subdirs(self, prefix: str) -> list[str]:
        names = []
        paginator = self.client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix, Delimiter="/"):
            for common in page.get("CommonPrefixes", []):
                names.append(common["Prefix"][len(prefix):].rstrip("/"))
        return names

    def _account_roots(self) -> list[str]:
        base = f"{self.prefix}AWSLogs/"
        roots = []
        for name in self._subdirs(base):
            if _ACCOUNT.match(name):
                roots.append((name, f"{base}{name}/"))
            elif _ORG.match(name):
                roots += [(acct, f"{base}{name}/{acct}/") for acct in self._subdirs(f"{base}{name}/")
                          if _ACCOUNT.match(acct)]
        return [root for acct, root in roots if not self.accounts or acct in self.accounts]

    def _prefixes(self) -> list[tuple[str, datetime | None]]:
        """Day prefixes to list, each with a delivery cut-off for the spill-over day after --until."""
        out: list[tuple[str, datetime | None]] = []
        for root in self._account_roots():
            for family in ("CloudTrail", "CloudTrail-Digest"):
                for region in self._subdirs(f"{root}{family}/"):
                    if self.regions and region not in self.regions:
                        continue
                    region_prefix = f"{root}{family}/{region}/"
                    if self.since:
                        until = self.until or datetime.now(UTC)
                        out += [(region_prefix + day, None) for day in _days(self.since, until)]
                        if self.until:
                            cutoff = self.until + DELIVERY_MARGIN
                            out += [(region_prefix + day, cutoff) for day in _days(cutoff, cutoff)
                                    if day not in _days(self.since, until)]
                    else:
                        out.append((region_prefix, None))
        return out

    def _objects(self) -> Iterator[dict[str, Any]]:
        paginator = self.client.get_paginator("list_objects_v2")
        for prefix, cutoff in self._prefixes():
            for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix):
                for obj in page.get("Contents", []):
                    if cutoff is None or _delivered_by(obj["Key"], cutoff):
                        yield obj

    def _fetch(self, obj: dict[str, Any]) -> RawBlob | FailedInput:
        key, etag = obj["Key"], obj["ETag"].strip('"')
        origin = {"kind": "s3", "bucket": self.bucket, "key": key, "etag": etag, "size": obj.get("Size")}
        label = f"s3://{self.bucket}/{key}"
        kind = "digest" if "/CloudTrail-Digest/" in key else "log"
        try:
            response = self.client.get_object(Bucket=self.bucket, Key=key, IfMatch=obj["ETag"])
            data = response["Body"].read()
            if kind == "digest":
                metadata = response.get("Metadata", {})
                origin["signature"] = metadata.get("signature")
                origin["signature_algorithm"] = metadata.get("signature-algorithm")
        except (ClientError, BotoCoreError) as exc:
            return FailedInput(origin, label, describe_aws_error(exc, label))
        if obj.get("Size") is not None and len(data) != obj["Size"]:
            return FailedInput(origin, label, f"{label}: read {len(data)} of {obj['Size']} bytes")
        return RawBlob(data, origin, label, kind)

    def blobs(self) -> Iterator[RawBlob | FailedInput | ListingDone]:
        try:
            pending = []
            for obj in self._objects():
                if (obj["Key"], obj["ETag"].strip('"')) in self.seen:
                    self.skipped_unchanged += 1
                    continue
                pending.append(obj)
        except (ClientError, BotoCoreError) as exc:
            raise SourceError(describe_aws_error(exc, f"s3://{self.bucket}/{self.prefix}")) from None
        yield ListingDone(len(pending))
        yield from fetch_in_order(self._fetch, pending, self.workers)


def seen_s3_objects(entries: list[dict[str, Any]], bucket: str) -> set[tuple[str, str]]:
    return {
        (i["key"], i["etag"]) for e in entries for i in e.get("inputs", [])
        if i.get("kind") == "s3" and i.get("bucket") == bucket and i.get("status") != "failed"
    }
