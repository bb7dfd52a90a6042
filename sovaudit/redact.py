"""Credentials out of every message sovaudit prints or records.

An endpoint, a proxy or a library may echo the request back in an error (its headers, its signed URL, a connection
string): whatever a message says about a source goes through `redact` before it reaches the terminal, the JSON
output or the hash-chained ledger, where it could never be removed again.
"""

import re

# Secrets named in a query string or a connection string (`sig=…`, `AccountKey=…;`), and in a header dump, JSON or
# a credentials file (`X-Amz-Security-Token: …`, `"SecretAccessKey": "…"`, `aws_secret_access_key = …`).
_ASSIGNED = ("sig", "signature", "x-amz-signature", "x-amz-credential", "accountkey", "sharedaccesssignature",
             "sharedaccesskey")
_FIELDS = ("x-amz-security-token", "x-amz-session-token", "aws_session_token", "sessiontoken", "aws_secret_access_key",
           "secret_access_key", "secretaccesskey")

_PATTERNS = (
    # A named secret: the name stays, so the message still says what went wrong.
    (re.compile(rf"(?i)\b((?:{'|'.join(_ASSIGNED)})=)[^&;,\s'\"]+"), r"\1REDACTED"),
    (re.compile(rf"(?i)\b((?:{'|'.join(_FIELDS)})[\"']?\s*[:=]\s*[\"']?)[^&;,\s'\"]+"), r"\1REDACTED"),
    (re.compile(r"(?i)\b(authorization[\"']?\s*[:=]\s*[\"']?)[^\r\n'\"]+"), r"\1REDACTED"),
    (re.compile(r"(?i)\b(bearer\s+)[A-Za-z0-9._~+/-]+=*"), r"\1REDACTED"),
    (re.compile(r"(://[^/\s:@]+:)[^/\s@]+@"), r"\1REDACTED@"),  # a password in a URL
    # Secrets by their shape, wherever they stand: an AWS access key id, a JWT.
    (re.compile(r"(?<![A-Z0-9])(?:AKIA|ASIA)[A-Z0-9]{16}(?![A-Z0-9])"), "REDACTED"),
    (re.compile(r"\beyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*"), "REDACTED"),
)
_BASE64_RUN = re.compile(r"(?<![A-Za-z0-9/+=])[A-Za-z0-9/+]{40,}={0,2}(?![A-Za-z0-9/+=])")


def _base64_secret(match: re.Match[str]) -> str:
    """A secret access key (40 characters of base64 in both cases) or a session token (a longer run with digits too);
    a hex digest, a path or a word is left alone."""
    run = match.group(0)
    both_cases = any(c.islower() for c in run) and any(c.isupper() for c in run)
    if both_cases and (len(run) == 40 or len(run) >= 100 and any(c.isdigit() for c in run)):
        return "REDACTED"
    return run


def redact(text: str) -> str:
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return _BASE64_RUN.sub(_base64_secret, text)
