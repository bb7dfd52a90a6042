"""Pull a source into the lake: list, fetch, archive, normalize, commit. The CLI's `pull` calls this."""

import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from sovaudit.config import AnySourceConfig, CloudTrailSourceConfig
from sovaudit.errors import SourceError, UsageError
from sovaudit.ingest.blobs import FailedInput, ListingDone, RawBlob
from sovaudit.ingest.run import IngestRun
from sovaudit.lake import Lake
from sovaudit.lock import lake_lock
from sovaudit.pull_azure import azure_items, azure_preparer, azure_source_record
from sovaudit.pull_kafka import is_kafka, kafka_items, kafka_preparer, kafka_source_record
from sovaudit.sources.aws_session import make_client
from sovaudit.sources.cloudtrail_files import local_blobs
from sovaudit.sources.cloudtrail_lookup import LOOKUP_NOTE, LookupEventsSource
from sovaudit.sources.cloudtrail_s3 import S3CloudTrailSource, seen_s3_objects
from sovaudit.timewindow import parse_window


class PullProgress(Protocol):
    def blob_done(self, nbytes: int, events: int) -> None: ...
    def total_known(self, blobs: int) -> None: ...
    def note(self, message: str) -> None: ...


class _Silent:
    def blob_done(self, nbytes: int, events: int) -> None:
        pass

    def total_known(self, blobs: int) -> None:
        pass

    def note(self, message: str) -> None:
        pass


@dataclass
class PullResult:
    source: str
    entry: dict[str, Any]
    notes: list[str] = field(default_factory=list)

    @property
    def counts(self) -> dict[str, int]:
        return self.entry["counts"]

    @property
    def partial(self) -> bool:
        return bool(self.entry["counts"]["quarantined"] or self.entry["failures"])

    @property
    def exit_code(self) -> int:
        return 3 if self.partial else 0


def _stage_all(run: IngestRun, items: Iterable[RawBlob | FailedInput | ListingDone], progress: PullProgress,
               workers: int = 2) -> None:
    """Archive and normalize blobs on `workers` threads, with a bounded number in flight."""
    in_flight: list[Future] = []
    limit = threading.BoundedSemaphore(workers * 2)

    def work(blob: RawBlob) -> None:
        try:
            events = run.add_blob(blob)
            progress.blob_done(len(blob.data), events)
        finally:
            limit.release()

    with ThreadPoolExecutor(max_workers=workers) as pool:
        for order, item in enumerate(items):
            if isinstance(item, ListingDone):
                progress.total_known(item.blobs)
                continue
            if isinstance(item, FailedInput):
                run.add_failure(item)
                progress.note(item.error)
                continue
            item.order = order
            limit.acquire()
            in_flight.append(pool.submit(work, item))
            for finished in [f for f in in_flight if f.done()]:
                finished.result()  # re-raises a worker's exception here
            in_flight = [f for f in in_flight if not f.done()]
        for future in in_flight:
            future.result()


def _source_items(spec: AnySourceConfig, lake: Lake, since: datetime | None, until: datetime | None,
                  notes: list[str], progress: PullProgress) -> Iterator[RawBlob | FailedInput | ListingDone]:
    if not isinstance(spec, CloudTrailSourceConfig):
        yield from (kafka_items(spec, lake, since, until, notes) if is_kafka(spec)
                    else azure_items(spec, lake, since, until, notes, progress.note))
        return
    if spec.path:
        yield from local_blobs(spec.path)
        return
    if spec.bucket:
        client = make_client("s3", region=(spec.regions or [None])[0], profile=spec.profile,
                             role_arn=spec.role_arn, endpoint_url=spec.endpoint_url)
        source = S3CloudTrailSource(client, spec.bucket, prefix=spec.prefix, accounts=spec.accounts,
                                    regions=spec.regions, since=since, until=until,
                                    seen=seen_s3_objects(lake.ledger.entries(), spec.bucket))
        yield from source.blobs()
        if source.skipped_unchanged:
            notes.append(f"{source.skipped_unchanged} object(s) already ingested (same key and etag) were not fetched")
        return
    notes.append(LOOKUP_NOTE)
    for region in spec.regions:
        client = make_client("cloudtrail", region=region, profile=spec.profile, role_arn=spec.role_arn,
                             endpoint_url=spec.endpoint_url, max_attempts=10)
        yield from LookupEventsSource(client, region, since, until).blobs()


def _source_record(spec: AnySourceConfig) -> dict[str, Any]:
    """What the ledger says about the source: its settings, never credentials."""
    if not isinstance(spec, CloudTrailSourceConfig):
        return kafka_source_record(spec) if is_kafka(spec) else azure_source_record(spec)
    keep = ("name", "type", "path", "bucket", "prefix", "accounts", "regions", "endpoint_url", "profile",
            "role_arn", "lookup")
    return {k: v for k, v in spec.model_dump().items() if k in keep and v not in (None, [], False)}


def pull_source(lake: Lake, spec: AnySourceConfig, *, since: str | None = None, until: str | None = None,
                progress: PullProgress | None = None, lock_timeout: float = 60.0,
                on_lock_wait: Callable[[str], None] | None = None) -> PullResult:
    progress = progress or _Silent()
    start, end = parse_window(since or spec.since, until or spec.until)
    notes: list[str] = []
    with lake_lock(lake.root, timeout=lock_timeout, on_wait=on_lock_wait):
        lake.ensure_layout()
        lake.recover()
        preparer = (None if isinstance(spec, CloudTrailSourceConfig)
                    else kafka_preparer(spec) if is_kafka(spec) else azure_preparer(spec))
        run = IngestRun(lake, _source_record(spec), preparer, window=(start, end))
        try:
            try:
                _stage_all(run, _source_items(spec, lake, start, end, notes, progress), progress)
            except SourceError as exc:
                run.add_failure(FailedInput({"kind": "source", "name": spec.name}, spec.name, str(exc)))
                progress.note(str(exc))
            entry = run.commit()
        except BaseException:
            run.close()
            raise
    lake.refresh()
    return PullResult(spec.name, entry, notes)


def source_from_flags(*, name: str = "cli", path: str | None = None, bucket: str | None = None,
                      prefix: str | None = None, accounts: list[str] | None = None,
                      regions: list[str] | None = None, endpoint_url: str | None = None,
                      profile: str | None = None, role_arn: str | None = None,
                      lookup: bool = False) -> CloudTrailSourceConfig:
    from pydantic import ValidationError

    try:
        return CloudTrailSourceConfig(
            name=name, type="cloudtrail", path=path, bucket=bucket, prefix=prefix, accounts=accounts or [],
            regions=regions or [], endpoint_url=endpoint_url, profile=profile, role_arn=role_arn, lookup=lookup,
        )
    except ValidationError as exc:
        message = "; ".join(e["msg"].removeprefix("Value error, ") for e in exc.errors())
        raise UsageError(f"pull cloudtrail: {message} (use --path, --bucket or --lookup --region R)") from None
