"""Credentials never reach the terminal, the JSON output or the hash-chained ledger, even from an endpoint that
echoes the request's headers (and so the session token and access key id) back in its error body."""

import json
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler
from typing import Any

import pytest
from aws_fixtures import fake_aws_environ, run_cli
from local_http import LocalServer

from sovaudit.errors import SourceError
from sovaudit.ingest.blobs import FailedInput
from sovaudit.lake import Lake
from sovaudit.pull import pull_source
from sovaudit.redact import redact
from sovaudit.sources import config_from_flags
from sovaudit.sources.cloudtrail.source import CloudTrailSource

ACCESS_KEY_ID = "AKIAZ7QW3RT5YU8IO2PL"
SECRET_ACCESS_KEY = "q8Rw2Zt+Lp0vXc7Nb4Mk/Hs9Jd6Fg1Ae3Wy5Ui8O"
SESSION_TOKEN = ("IQoJb3JpZ2luX2VjEOr//////////wEaCWV1LXdlc3QtMSJGMEQCIB7kq2Ndl9XcVbA3pQw+Ty5RsLm0uZe8Hj4Gf6Kc1Io"
                 "AiBz0Yx9Wv8Ut7Sr6Qp5On4Ml3Kj2Ih1Gf0Ed9Cb8Aa7ZyKqQCCJv//////////ARADGgw0NDQ0NTU1NTY2NjYiDPq3x"
                 "Lw9Mv2Nb8Kc1Jd5Hs7Gf4Ae6Wy3Ui9Op0Iu2Yt5Re8Wq1Zx4Cv7Bn0Ml3Kj6Hg9Fd2Sa5Qw8Er1Ty4Ui7Op0As3Df6Gh9Jk"
                 "2Lz5Xc8Vb1Nm4Qw7Er0Ty3Ui6Op9As2Df5Gh8Jk1Lz4Xc7Vb0Nm3Qw6Er9Ty2Ui5Op8As1Df4Gh7Jk0Lz3Xc6Vb9Nm2==")
SAS_SIGNATURE = "sig=Xq3%2Bk9L0pWm2Zr7Ty5Uv8Bn4Cx1Dz6Ea0Fs3Gd9Hj2%3D"
ACCOUNT_KEY = "AccountKey=Zm9vYmFyYmF6cXV4Zm9vYmFyYmF6cXV4Zm9vYmFyYmF6cXV4Zm9vYmFyYmF6cXV4Zm9vYmFyYmE9PQ=="
BEARER = "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.eyJhdWQiOiJodHRwczovL21hbmFnZW1lbnQuYXp1cmUuY29tIn0.c2lnbmF0dXJl"
CREDENTIALS = {"AWS_ACCESS_KEY_ID": ACCESS_KEY_ID, "AWS_SECRET_ACCESS_KEY": SECRET_ACCESS_KEY,
               "AWS_SESSION_TOKEN": SESSION_TOKEN}


class ReflectingServer:
    """Answers every request with `status` and a body that echoes the request's headers: as plain text, or as the
    message of a JSON error (with an AWS error code or without one). It keeps the headers it was sent."""

    def __init__(self, status: int, shape: str):
        self.status, self.shape = status, shape
        self.received: list[dict[str, str]] = []
        self._server = LocalServer(self._handler(), "reflecting")
        self.url = self._server.url

    def _body(self, headers: dict[str, str]) -> tuple[str, bytes]:
        dump = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
        if self.shape == "text":
            return "text/plain", dump.encode()
        # One line, as a proxy that logs its input writes it, with more credentials than the request had.
        message = (f"request was {json.dumps(headers)}; retry with {SAS_SIGNATURE}&{ACCOUNT_KEY}; "
                   f"Authorization: Bearer {BEARER}; secret {SECRET_ACCESS_KEY}")
        error: dict[str, Any] = {"message": message}
        if self.shape == "aws-json":
            error["__type"] = "AccessDeniedException"
        return "application/x-amz-json-1.1", json.dumps(error).encode()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                headers = dict(self.headers.items())
                outer.received.append(headers)
                content_type, body = outer._body(headers)
                self.send_response(outer.status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass

        return Handler

    def __enter__(self) -> "ReflectingServer":
        self._server.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.stop()


def _secrets_sent(server: ReflectingServer) -> list[str]:
    """What must not come back: the credentials, and what the requests carried that derives from them."""
    sent = [CREDENTIALS["AWS_ACCESS_KEY_ID"], SECRET_ACCESS_KEY, SESSION_TOKEN, SAS_SIGNATURE.split("=", 1)[1],
            ACCOUNT_KEY.split("=", 1)[1], BEARER]
    for headers in server.received:
        authorization = headers["Authorization"]
        assert ACCESS_KEY_ID in authorization and headers["X-Amz-Security-Token"] == SESSION_TOKEN
        sent += [authorization, authorization.rsplit("Signature=", 1)[1]]
    return sent


@pytest.mark.parametrize(("status", "shape"), [(403, "text"), (400, "aws-json"), (501, "json")])
@pytest.mark.parametrize("fmt", ["json", "table"])
def test_a_lookup_error_that_echoes_the_request_leaks_no_credential(tmp_path, status, shape, fmt):
    lake_dir = tmp_path / "lake"
    with ReflectingServer(status, shape) as server:
        proc = run_cli(["pull", "cloudtrail", "--lookup", "--region", "eu-west-1", "--endpoint-url", server.url,
                        "--lake", str(lake_dir), "--since", "2d", "--format", fmt],
                       env=fake_aws_environ(tmp_path, **CREDENTIALS), cwd=tmp_path / "cwd", timeout=60)
    assert proc.returncode == 3, proc.stdout + proc.stderr
    assert server.received, "the endpoint was never called"

    outputs = {"stdout": proc.stdout, "stderr": proc.stderr}
    outputs |= {str(p.relative_to(lake_dir)): p.read_bytes().decode("utf-8", "replace")
                for p in lake_dir.rglob("*") if p.is_file()}
    for secret in _secrets_sent(server):
        for name, text in outputs.items():
            assert secret not in text, f"{name} holds {secret[:12]}…"

    [failure] = json.loads((lake_dir / "ledger.jsonl").read_text().splitlines()[-1])["failures"]
    message = failure["error"]
    assert "LookupEvents in eu-west-1" in message, message
    assert "\n" not in message and "\r" not in message and len(message) < 500, message
    if shape == "aws-json":  # an AWS error keeps the first line of its message, redacted
        assert "access denied (AccessDeniedException): request was" in message, message
    else:  # not an AWS error document: the body is dropped
        assert message.endswith(f"(HTTP {status}): {HTTPStatus(status).phrase}"), message


@pytest.mark.parametrize("text", [
    f"Credential={ACCESS_KEY_ID}/20261201/eu-west-1/cloudtrail/aws4_request",
    "temporary key ASIAY34FZKBOKMUTVV7A expired",
    f"aws_secret_access_key = {SECRET_ACCESS_KEY}",
    f'{{"SecretAccessKey": "{SECRET_ACCESS_KEY}", "SessionToken": "{SESSION_TOKEN}"}}',
    f"X-Amz-Security-Token: {SESSION_TOKEN}",
    f"https://logs.blob.core.windows.net/insights?sv=2022-11-02&{SAS_SIGNATURE}&se=2026-12-02",
    f"DefaultEndpointsProtocol=https;AccountName=logs;{ACCOUNT_KEY};EndpointSuffix=core.windows.net",
    f"Authorization: Bearer {BEARER}",
    f"token {BEARER} refused",
    "proxy https://auditor:hunter2-hunter2@proxy.example:3128 refused the connection",
])
def test_every_credential_shape_is_redacted(text):
    redacted = redact(text)
    assert "REDACTED" in redacted
    for secret in (ACCESS_KEY_ID, "ASIAY34FZKBOKMUTVV7A", SECRET_ACCESS_KEY, SESSION_TOKEN, "Xq3%2Bk9L0",
                   ACCOUNT_KEY.split("=", 1)[1], BEARER, "hunter2"):
        assert secret not in redacted, redacted


@pytest.mark.parametrize("text", [
    "s3://trail-eu/AWSLogs/111122223333/CloudTrail/eu-west-1/2024/01/02/111122223333_CloudTrail_eu-west-1_"
    "20240102T1000Z_Ab12Cd34Ef56Gh78.json.gz: access denied (AccessDenied)",
    "cloudtrail LookupEvents in eu-west-1: access denied (AccessDeniedException): User: "
    "arn:aws:iam::111122223333:user/auditor (AIDAEXAMPLE) is not authorized to perform: cloudtrail:LookupEvents",
    "blob da39a3ee5e6b4b0d3255bfef95601890afd80709 and sha256 " + "e3b0c44298fc1c149afbf4c8996fb924" * 2,
    "resourceId=/SUBSCRIPTIONS/8A1F6A0E-3C9B-4D52-9A61-0F2B9C7D4E11/RESOURCEGROUPS/RG-EU/PROVIDERS/"
    "MICROSOFT.KEYVAULT/VAULTS/KV-CUSTOMERS-WEU/y=2026/m=03/d=02/h=09/m=00/PT1H.json: not found (HTTP 404)",
    "sources[0].client: found keys sasl.password, expected sasl.password: a ${ENV_VAR} reference, not the secret",
    "the client does not have authorization to perform action Microsoft.Insights/eventtypes/values/read; "
    "signature: expired (AuthorizationFailed)",
])
def test_messages_without_credentials_are_left_alone(text):
    assert redact(text) == text


def test_source_errors_and_failed_inputs_are_redacted_where_they_are_made():
    assert ACCESS_KEY_ID not in str(SourceError(f"denied for {ACCESS_KEY_ID}"))
    failed = FailedInput({"kind": "s3"}, "s3://b/k", f"s3://b/k: X-Amz-Security-Token: {SESSION_TOKEN}")
    assert SESSION_TOKEN not in failed.error and failed.error.startswith("s3://b/k: X-Amz-Security-Token: REDACTED")


def test_a_note_is_redacted_before_it_is_printed_or_returned(tmp_path, monkeypatch):
    said: list[str] = []

    class Progress:
        def blob_done(self, nbytes: int, events: int) -> None: ...
        def total_known(self, blobs: int) -> None: ...
        def note(self, message: str) -> None:
            said.append(message)

    def items(self, spec, context):  # a source that warns and notes with a credential in the text
        context.warn(f"retrying with {SAS_SIGNATURE}")
        context.notes.append(f"signed as {ACCESS_KEY_ID}")
        return iter(())

    monkeypatch.setattr(CloudTrailSource, "items", items)
    (tmp_path / "in").mkdir()
    result = pull_source(Lake(tmp_path / "lake"), config_from_flags("cloudtrail", path=str(tmp_path / "in")),
                         progress=Progress())
    assert said == ["retrying with sig=REDACTED"]
    assert result.notes == ["signed as REDACTED"]
