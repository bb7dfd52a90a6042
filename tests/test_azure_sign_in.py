"""A failed Azure sign-in is one line per source: not azure-identity's fifteen-line warning, once per retry of
each request, before sovaudit's own line.

The credential is the real DefaultAzureCredential, narrowed by AZURE_TOKEN_CREDENTIALS to the Azure CLI
credential, and the refusal is the Azure CLI's own: an `az` on PATH that answers `get-access-token` as the real
one does when its sign-in has expired (AADSTS700082 on stderr, exit status 1)."""
# ruff: noqa: F811 (pytest fixtures imported from tests.azure_fixtures are test arguments)

import os
import time

import pytest
from azure_fixtures import SUBSCRIPTION, activity_server, arm_certificate, free_port  # noqa: F401
from conftest import run_cli

EXPIRED = "AADSTS700082: The refresh token has expired due to inactivity."
SDK_WORDS = ("Attempted credentials", "Traceback", "To mitigate this issue", "AzureCliCredential.get_token")


@pytest.fixture
def expired_az_login(tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    az = bin_dir / "az"
    az.write_text(f"#!/bin/sh\necho 'ERROR: {EXPIRED}' >&2\nexit 1\n")
    az.chmod(0o755)
    return {"PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}", "AZURE_TOKEN_CREDENTIALS": "AzureCliCredential"}


def _assert_one_line(proc, where: str) -> None:
    assert proc.returncode == 3, (proc.stdout, proc.stderr)
    for words in SDK_WORDS:
        assert words not in proc.stderr, proc.stderr
    [line] = proc.stderr.splitlines()  # the pull's own warning, as the failure happens
    assert line.startswith(f"warning: {where}: Azure credentials were refused or have expired"), line
    assert EXPIRED.split(":")[0] in line and "sign in again (`az login`)" in line, line


def test_a_refused_sign_in_to_the_activity_log_is_one_line(activity_server, expired_az_login, tmp_path):
    server = activity_server([], page_size=50)
    proc = run_cli("pull", "azure-activity", "--subscription", SUBSCRIPTION, "--endpoint", server.url,
                   "--lake", str(tmp_path / "lake"), "--since", "1d", "--format", "json", env=expired_az_login)
    _assert_one_line(proc, f"azure activity log of subscription {SUBSCRIPTION} at {server.url}")
    assert server.requests == []  # no token, no request


def test_a_refused_sign_in_to_storage_is_one_line_without_retries(expired_az_login, tmp_path):
    account = f"https://127.0.0.1:{free_port()}/devstoreaccount1"
    began = time.monotonic()
    proc = run_cli("pull", "azure-storage", "--account-url", account, "--lake", str(tmp_path / "lake"),
                   "--since", "1d", "--format", "json", env=expired_az_login)
    elapsed = time.monotonic() - began
    _assert_one_line(proc, account)
    assert elapsed < 10, elapsed  # the storage SDK retried each listing three times, with back-off: 16 s


def test_the_table_summary_says_it_once_more_in_its_failed_line(expired_az_login, tmp_path):
    account = f"https://127.0.0.1:{free_port()}/devstoreaccount1"
    proc = run_cli("pull", "azure-storage", "--account-url", account, "--lake", str(tmp_path / "lake"),
                   "--since", "1d", env={**expired_az_login, "COLUMNS": "400"})
    assert proc.returncode == 3
    failed = [line for line in proc.stdout.splitlines() if line.startswith("failed:")]
    assert len(failed) == 1 and EXPIRED.split(":")[0] in failed[0]
    assert not any(words in proc.stdout + proc.stderr for words in SDK_WORDS)


def test_no_credential_at_all_says_so_in_one_line(tmp_path):
    (tmp_path / "empty-bin").mkdir()  # no `az` on PATH: the Azure CLI credential has nothing to sign in with
    account = f"https://127.0.0.1:{free_port()}/devstoreaccount1"
    proc = run_cli("pull", "azure-storage", "--account-url", account, "--lake", str(tmp_path / "lake"),
                   "--since", "1d", "--format", "json",
                   env={"PATH": str(tmp_path / "empty-bin"), "AZURE_TOKEN_CREDENTIALS": "AzureCliCredential"})
    assert proc.returncode == 3
    assert proc.stderr.splitlines() == [f"warning: {account}: no Azure credentials found (DefaultAzureCredential: "
                                        "sign in with `az login`, or set AZURE_TENANT_ID, AZURE_CLIENT_ID and "
                                        "AZURE_CLIENT_SECRET, or run with a managed identity)"]
