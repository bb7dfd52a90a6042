"""boto3 clients for a source: profile, assumed role, endpoint override, standard retries."""

from typing import Any

import boto3
from botocore.config import Config


def make_client(service: str, *, region: str | None = None, profile: str | None = None,
                role_arn: str | None = None, endpoint_url: str | None = None,
                max_attempts: int = 5, pool: int = 16) -> Any:
    session = boto3.Session(profile_name=profile) if profile else boto3.Session()
    if role_arn:
        sts = session.client("sts", endpoint_url=endpoint_url, region_name=region or "us-east-1")
        creds = sts.assume_role(RoleArn=role_arn, RoleSessionName="sovaudit")["Credentials"]
        session = boto3.Session(
            aws_access_key_id=creds["AccessKeyId"],
            aws_secret_access_key=creds["SecretAccessKey"],
            aws_session_token=creds["SessionToken"],
        )
    config = Config(
        retries={"mode": "standard", "max_attempts": max_attempts},
        connect_timeout=5,
        read_timeout=60,
        max_pool_connections=pool,
    )
    return session.client(service, region_name=region or session.region_name or "us-east-1",
                          endpoint_url=endpoint_url, config=config)
