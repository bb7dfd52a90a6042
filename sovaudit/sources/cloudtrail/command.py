"""`sovaudit pull cloudtrail`."""

from typing import Annotated

import typer

from sovaudit.cli_options import ConfigOpt, FormatOpt, LakeOpt, LockOpt, SinceOpt, UntilOpt
from sovaudit.sources.base import PullCommand


def register(pull_app: typer.Typer, pull: PullCommand) -> None:
    @pull_app.command("cloudtrail")
    def pull_cloudtrail(
        path: Annotated[str | None, typer.Option("--path", help="Directory (walked recursively), file or glob.")] = None,
        bucket: Annotated[str | None, typer.Option("--bucket", help="S3 bucket with the trail's delivery.")] = None,
        prefix: Annotated[str | None, typer.Option("--prefix", help="Key prefix before AWSLogs/.")] = None,
        account: Annotated[list[str] | None, typer.Option("--account", help="Only these account ids.")] = None,
        region: Annotated[list[str] | None, typer.Option("--region", help="Only these regions (API regions with "
                                                         "--lookup).")] = None,
        endpoint_url: Annotated[str | None, typer.Option("--endpoint-url", help="S3/CloudTrail endpoint "
                                                         "override.")] = None,
        profile: Annotated[str | None, typer.Option("--profile", help="AWS profile name.")] = None,
        role_arn: Annotated[str | None, typer.Option("--role-arn", help="Role to assume for reading.")] = None,
        lookup: Annotated[bool, typer.Option("--lookup", help="Use the LookupEvents API (90 days, management "
                                             "events).")] = False,
        since: SinceOpt = None, until: UntilOpt = None, lake: LakeOpt = None, config: ConfigOpt = None,
        fmt: FormatOpt = "table", lock_timeout: LockOpt = 60.0,
    ) -> None:
        """Pull AWS CloudTrail logs from files, an S3 trail bucket, or the LookupEvents API.

        Examples:

          [cyan]sovaudit pull cloudtrail --path ./exports/[/cyan]

          [cyan]sovaudit pull cloudtrail --bucket org-trail --account 111122223333 --region eu-west-1 --since 7d[/cyan]

          [cyan]sovaudit pull cloudtrail --lookup --region eu-west-1 --since 24h[/cyan]
        """
        pull("cloudtrail", {"path": path, "bucket": bucket, "prefix": prefix, "accounts": account,
                            "regions": region, "endpoint_url": endpoint_url, "profile": profile,
                            "role_arn": role_arn, "lookup": lookup},
             since=since, until=until, lake=lake, config=config, fmt=fmt, lock_timeout=lock_timeout)
