"""`[[sources]]` entries of type cloudtrail: files, an S3 trail bucket, or the LookupEvents API."""

import re
from typing import Literal

from pydantic import field_validator, model_validator

from sovaudit.sources.base import SourceConfig


class CloudTrailSourceConfig(SourceConfig):
    """One `[[sources]]` entry of type cloudtrail; its keys mirror `sovaudit pull cloudtrail` flags."""

    type: Literal["cloudtrail"]
    path: str | None = None
    bucket: str | None = None
    prefix: str | None = None
    accounts: list[str] = []
    regions: list[str] = []
    endpoint_url: str | None = None
    profile: str | None = None
    role_arn: str | None = None
    lookup: bool = False

    @field_validator("accounts")
    @classmethod
    def _accounts(cls, v: list[str]) -> list[str]:
        for account in v:
            if not re.fullmatch(r"\d{12}", account):
                raise ValueError(f"an AWS account id is 12 digits, found {account!r}")
        return v

    @model_validator(mode="after")
    def _one_input(self) -> "CloudTrailSourceConfig":
        chosen = [k for k in ("path", "bucket") if getattr(self, k)] + (["lookup"] if self.lookup else [])
        if len(chosen) != 1:
            raise ValueError("set exactly one of path, bucket or lookup = true")
        if self.lookup and not self.regions:
            raise ValueError("lookup = true needs regions = [\"...\"] (the API regions to query)")
        return self
