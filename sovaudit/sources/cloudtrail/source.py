"""CloudTrail as a `Source`: which blobs a cloudtrail entry yields, from files, an S3 trail bucket or the
LookupEvents API, and how they are prepared."""

from typing import Any

from sovaudit.sources.base import BaseSource, Items, PullContext
from sovaudit.sources.cloudtrail.config import CloudTrailSourceConfig
from sovaudit.sources.cloudtrail.preparer import CloudTrailPreparer


class CloudTrailSource(BaseSource):
    type = "cloudtrail"
    config = CloudTrailSourceConfig
    tables = CloudTrailPreparer.tables
    flag_hint = " (use --path, --bucket or --lookup --region R)"

    def preparer(self, spec: CloudTrailSourceConfig) -> CloudTrailPreparer:
        return CloudTrailPreparer(extracting=not spec.lookup)

    def items(self, spec: CloudTrailSourceConfig, context: PullContext) -> Items:
        # Imported here so that loading the registry does not load boto3.
        if spec.path:
            from sovaudit.sources.cloudtrail.files import local_blobs

            yield from local_blobs(spec.path)
        elif spec.bucket:
            yield from _bucket_items(spec, context)
        else:
            yield from _lookup_items(spec, context)

    def where(self, record: dict[str, Any]) -> str | None:
        return record.get("bucket") or record.get("path")

    def register_command(self, pull_app, pull) -> None:
        from sovaudit.sources.cloudtrail.command import register

        register(pull_app, pull)


def _bucket_items(spec: CloudTrailSourceConfig, context: PullContext) -> Items:
    from sovaudit.sources.cloudtrail.aws_session import make_client
    from sovaudit.sources.cloudtrail.s3 import S3CloudTrailSource, seen_s3_objects

    client = make_client("s3", region=(spec.regions or [None])[0], profile=spec.profile, role_arn=spec.role_arn,
                         endpoint_url=spec.endpoint_url)
    source = S3CloudTrailSource(client, spec.bucket, prefix=spec.prefix, accounts=spec.accounts,
                                regions=spec.regions, since=context.since, until=context.until,
                                seen=seen_s3_objects(context.ledger_entries(), spec.bucket))
    yield from source.blobs()
    if source.skipped_unchanged:
        context.notes.append(f"{source.skipped_unchanged} object(s) already ingested (same key and etag) were not "
                             "fetched")


def _lookup_items(spec: CloudTrailSourceConfig, context: PullContext) -> Items:
    from sovaudit.sources.cloudtrail.aws_session import make_client
    from sovaudit.sources.cloudtrail.lookup import LOOKUP_NOTE, LookupEventsSource

    context.notes.append(LOOKUP_NOTE)
    for region in spec.regions:
        client = make_client("cloudtrail", region=region, profile=spec.profile, role_arn=spec.role_arn,
                             endpoint_url=spec.endpoint_url, max_attempts=10)
        yield from LookupEventsSource(client, region, context.since, context.until).blobs()
