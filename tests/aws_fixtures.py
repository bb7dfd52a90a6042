"""Real AWS-shaped endpoints for pull tests: a moto S3 server, and a CloudTrail LookupEvents server.

Both listen on 127.0.0.1 over real HTTP; boto3 talks to them exactly as it talks to AWS.
Test modules import the fixtures they use by name (with `# ruff: noqa: F811`, as fixture arguments
shadow the imports) alongside the helpers.
"""

import gzip
import json
import logging
import os
import socket
import subprocess
import sys
import threading
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest
from local_http import LocalServer, json11_handler
from moto.server import ThreadedMotoServer

REPO = Path(__file__).resolve().parent.parent
SAMPLE_DIR = REPO / "fixtures" / "aws" / "cloudtrail"  # copy of ../shared/samples/aws/cloudtrail (MIT)
DIGEST_EXAMPLES = REPO / "fixtures" / "aws" / "digest-examples"
ORG_ID = "o-abc1234567"
SAMPLE_ACCOUNT = "218007301253"

FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}
# Anything from the developer's own AWS setup that could change what boto3 does.
_AWS_VARS_TO_DROP = ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN",
                     "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL_CLOUDTRAIL", "AWS_REGION",
                     "AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
                     "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_MAX_ATTEMPTS", "AWS_RETRY_MODE")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on (at the time of asking)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def fake_aws_environ(tmp_path: Path, **overrides: str) -> dict[str, str]:
    """os.environ with fake credentials and no trace of a real AWS config, for subprocesses."""
    env = {k: v for k, v in os.environ.items() if k not in _AWS_VARS_TO_DROP}
    env.update(FAKE_CREDENTIALS)
    env["AWS_CONFIG_FILE"] = str(tmp_path / "no-aws-config")
    env["AWS_SHARED_CREDENTIALS_FILE"] = str(tmp_path / "no-aws-credentials")
    env["AWS_EC2_METADATA_DISABLED"] = "true"
    env.update(overrides)
    return env


# -- S3 on moto -------------------------------------------------------------------------------------

@pytest.fixture(scope="session")
def moto_server() -> Iterator[str]:
    """A moto server on 127.0.0.1; yields its endpoint URL. Tests use their own buckets."""
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    access_log = logging.getLogger("werkzeug")  # one line per request otherwise floods failure reports
    level = access_log.level
    access_log.setLevel(logging.WARNING)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()
        access_log.setLevel(level)


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> dict[str, str]:
    """Fake credentials in this process's environment (what boto3.Session() reads)."""
    for name in _AWS_VARS_TO_DROP:
        monkeypatch.delenv(name, raising=False)
    for name, value in FAKE_CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    return dict(FAKE_CREDENTIALS)


@pytest.fixture
def s3(moto_server: str, aws_env: dict[str, str]) -> Any:
    return boto3.client("s3", endpoint_url=moto_server, region_name="us-east-1")


@pytest.fixture
def bucket(s3: Any) -> str:
    """A new, empty bucket for one test (the moto server is shared by the session)."""
    name = f"trail-{uuid.uuid4().hex[:20]}"
    s3.create_bucket(Bucket=name)
    return name


def put_object(s3: Any, bucket: str, key: str, body: bytes, metadata: dict[str, str] | None = None) -> bytes:
    s3.put_object(Bucket=bucket, Key=key, Body=body, Metadata=metadata or {})
    return body


# -- CloudTrail content -----------------------------------------------------------------------------

def sample_files() -> list[Path]:
    files = sorted(SAMPLE_DIR.glob("*.json.gz"))
    assert files, f"no CloudTrail samples in {SAMPLE_DIR}"
    return files


def records_of(data: bytes) -> list[dict[str, Any]]:
    """The Records of a CloudTrail log object (gzip or not)."""
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    return json.loads(data)["Records"]


def make_records(when: datetime, count: int, *, account: str = "111122223333", region: str = "eu-west-1",
                 tag: str = "") -> list[dict[str, Any]]:
    """`count` small CloudTrail records with distinct eventIDs, all at `when` plus a second each."""
    out = []
    for n in range(count):
        at = when.replace(second=n % 60)
        out.append({
            "eventVersion": "1.08",
            "userIdentity": {"type": "IAMUser", "principalId": "AIDAEXAMPLE", "accountId": account,
                             "arn": f"arn:aws:iam::{account}:user/auditor", "userName": "auditor"},
            "eventTime": at.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "eventSource": "s3.amazonaws.com",
            "eventName": "ListBuckets",
            "awsRegion": region,
            "sourceIPAddress": "192.0.2.10",
            "userAgent": "aws-cli/2.15.0",
            "requestParameters": None,
            "responseElements": None,
            "requestID": uuid.uuid4().hex.upper()[:16],
            "eventID": str(uuid.uuid5(uuid.NAMESPACE_URL, f"sovaudit-test/{tag}/{account}/{region}/{at}/{n}")),
            "readOnly": True,
            "eventType": "AwsApiCall",
            "managementEvent": True,
            "recipientAccountId": account,
            "eventCategory": "Management",
        })
    return out


def cloudtrail_gz(records: list[dict[str, Any]]) -> bytes:
    """A log object as CloudTrail delivers it: gzip of compact `{"Records":[...]}`."""
    return gzip.compress(json.dumps({"Records": records}, separators=(",", ":")).encode(), mtime=0)


def log_key(account: str, region: str, day: datetime, *, org: str | None = None, prefix: str = "",
            suffix: str = "") -> str:
    """The S3 key CloudTrail uses for a log file, optionally under an organisation id and a prefix."""
    root = f"{prefix.strip('/')}/" if prefix.strip("/") else ""
    org_part = f"{org}/" if org else ""
    stamp = day.strftime("%Y%m%dT%H%MZ")
    name = f"{account}_CloudTrail_{region}_{stamp}_{suffix or uuid.uuid4().hex[:16]}.json.gz"
    return f"{root}AWSLogs/{org_part}{account}/CloudTrail/{region}/{day:%Y/%m/%d}/{name}"


# -- the CLI in a subprocess ------------------------------------------------------------------------

def run_cli(args: list[str], *, env: dict[str, str], cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess:
    cwd.mkdir(parents=True, exist_ok=True)
    env = {**env, "COLUMNS": "250", "NO_COLOR": "1", "TERM": "dumb"}
    return subprocess.run([sys.executable, "-P", "-m", "sovaudit.cli", *args], env=env, cwd=cwd, capture_output=True,
                          text=True, timeout=timeout, check=False)


# -- CloudTrail LookupEvents ------------------------------------------------------------------------

LOOKUP_TARGET = "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.LookupEvents"


def lookup_event(record: dict[str, Any]) -> dict[str, Any]:
    """One LookupEvents `Events` entry for a CloudTrail record; CloudTrailEvent is compact JSON like AWS sends."""
    when = datetime.strptime(record["eventTime"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    return {
        "EventId": record["eventID"],
        "EventName": record["eventName"],
        "ReadOnly": str(record.get("readOnly", "false")).lower(),
        "EventTime": when.timestamp(),
        "EventSource": record["eventSource"],
        "Username": (record.get("userIdentity") or {}).get("userName", ""),
        "Resources": [],
        "CloudTrailEvent": json.dumps(record, separators=(",", ":"), ensure_ascii=False),
    }


class LookupEventsServer:
    """CloudTrail's JSON 1.1 LookupEvents on 127.0.0.1, with NextToken paging.

    `events` are served newest first, as the API does, filtered to [StartTime, EndTime] of the request,
    `page_size` per page. `canned` responses, (status, body) pairs, answer the first requests instead.
    Every request is kept in `requests`; every page served is kept in `served` (its Events list).
    """

    def __init__(self, events: list[dict[str, Any]], page_size: int,
                 canned: list[tuple[int, dict[str, Any]]] | None = None):
        self.events = events
        self.page_size = page_size
        self.canned = list(canned or [])
        self.requests: list[dict[str, Any]] = []
        self.served: list[list[dict[str, Any]]] = []
        self._lock = threading.Lock()
        self._server = LocalServer(json11_handler(self._answer), "lookup-events")
        self.url = self._server.url

    def start(self) -> "LookupEventsServer":
        self._server.start()
        return self

    def stop(self) -> None:
        self._server.stop()

    def _answer(self, target: str | None, body: dict[str, Any], auth: str = "") -> tuple[int, dict[str, Any]]:
        with self._lock:
            self.requests.append({"target": target, "body": body})
            if self.canned:
                return self.canned.pop(0)
            if target != LOOKUP_TARGET:
                return 400, {"__type": "UnknownOperationException", "message": f"unknown target {target}"}
            start, end = body.get("StartTime"), body.get("EndTime")
            chosen = sorted((e for e in self.events
                             if (start is None or e["EventTime"] >= start) and (end is None or e["EventTime"] <= end)),
                            key=lambda e: e["EventTime"], reverse=True)
            offset = int(body["NextToken"].removeprefix("page-")) if body.get("NextToken") else 0
            size = min(self.page_size, int(body.get("MaxResults") or self.page_size))
            page = chosen[offset:offset + size]
            self.served.append(page)
            answer: dict[str, Any] = {"Events": page}
            if offset + size < len(chosen):
                answer["NextToken"] = f"page-{offset + size}"
            return 200, answer


@pytest.fixture
def lookup_server() -> Iterator[Callable[..., LookupEventsServer]]:
    """Factory: `lookup_server(events, page_size, canned=[...])` starts a server, stopped after the test."""
    started: list[LookupEventsServer] = []

    def start(events: list[dict[str, Any]], page_size: int,
              canned: list[tuple[int, dict[str, Any]]] | None = None) -> LookupEventsServer:
        server = LookupEventsServer(events, page_size, canned).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()
