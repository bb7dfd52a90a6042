"""Pull a source into the lake: lock, list and fetch (the source's items), archive and normalize (its preparer),
commit. The CLI's `pull` calls this; what differs between sources is theirs (sovaudit.sources)."""

import threading
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any, Protocol

from sovaudit.errors import SourceError
from sovaudit.fsutil import storage_errors
from sovaudit.ingest.blobs import FailedInput, ListingDone, RawBlob
from sovaudit.ingest.run import IngestRun
from sovaudit.ip_ranges.files import IpRanges
from sovaudit.lake import Lake
from sovaudit.lock import lake_lock
from sovaudit.redact import redact
from sovaudit.sources import PullContext, SourceConfig, source_of
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
    compaction: dict[str, Any] | None = None  # the compaction's entry, when `[lake] compact` made one

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


def pull_source(lake: Lake, spec: SourceConfig, *, since: str | None = None, until: str | None = None,
                progress: PullProgress | None = None, lock_timeout: float = 60.0,
                on_lock_wait: Callable[[str], None] | None = None, ip_ranges: IpRanges | None = None,
                compact: bool = False) -> PullResult:
    """ip_ranges: the cloud providers' address ranges ([geo] in the config); the shipped snapshot if None.
    compact ([lake] compact): then compact the days the pull wrote to, under the same lock."""
    progress = progress or _Silent()
    start, end = parse_window(since or spec.since, until or spec.until)
    notes: list[str] = []
    with storage_errors("the lake", lake.root), lake_lock(lake.root, timeout=lock_timeout, on_wait=on_lock_wait):
        lake.ensure_layout()
        lake.recover()
        source = source_of(spec)
        run = IngestRun(lake, source.ledger_record(spec), source.preparer(spec), window=(start, end),
                        ip_ranges=ip_ranges)
        context = PullContext(lake, start, end, notes, lambda message: progress.note(redact(message)))
        try:
            try:
                _stage_all(run, source.items(spec, context), progress)
            except SourceError as exc:
                failed = FailedInput({"kind": "source", "name": spec.name}, spec.name, str(exc))
                run.add_failure(failed)
                progress.note(failed.error)
            entry = run.commit()
        except BaseException:
            run.close()
            raise
        compaction = _compact_written(lake, entry, notes) if compact else None
    lake.refresh()
    return PullResult(spec.name, entry, [redact(note) for note in notes], compaction)


def _compact_written(lake: Lake, entry: dict[str, Any], notes: list[str]) -> dict[str, Any] | None:
    """Compact the day partitions the pull's files went to. The pull is committed already: a compaction refused
    (a file there does not match the ledger) is a note, and the pull's own result stands."""
    from sovaudit.compaction import LakeNotIntact, compact_locked

    written = {(f["table"], PurePosixPath(f["path"]).parent.name) for f in entry["files"]}
    if not written:
        return None
    try:
        result = compact_locked(lake, tables={table for table, _ in written}, partitions=written)
    except LakeNotIntact as exc:
        notes.append(f"not compacted: {exc}")
        return None
    if result.entry:
        before = sum(t.files_before for t in result.tables)
        after = sum(t.files_after for t in result.tables)
        notes.append(f"compacted {sum(t.days for t in result.tables):,} day(s): {before:,} → {after:,} files in the "
                     f"tables written (ledger entry seq {result.entry['seq']})")
    return result.entry
