"""Parse --since/--until: ISO dates and datetimes, or relative forms such as 7d, 24h, 30m, 2w."""

import re
from datetime import UTC, date, datetime, timedelta

from sovaudit.errors import UsageError

_RELATIVE = re.compile(r"^\s*(\d+)\s*([smhdw])\s*$", re.IGNORECASE)
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_time(value: str | None, *, option: str, now: datetime | None = None) -> datetime | None:
    if value is None or value == "":
        return None
    now = now or datetime.now(UTC)
    match = _RELATIVE.match(value)
    if match:
        amount, unit = int(match.group(1)), match.group(2).lower()
        return (now - timedelta(**{_UNITS[unit]: amount})).astimezone(UTC)
    try:
        if len(value) == 10:
            d = date.fromisoformat(value)
            return datetime(d.year, d.month, d.day, tzinfo=UTC)
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(
            f"{option}: found {value!r}, expected an ISO date or datetime (2024-05-01, 2024-05-01T12:00Z) "
            "or a relative age such as 7d, 24h, 30m, 2w"
        ) from None
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).astimezone(UTC)


def parse_window(since: str | None, until: str | None) -> tuple[datetime | None, datetime | None]:
    now = datetime.now(UTC)
    start = parse_time(since, option="--since", now=now)
    end = parse_time(until, option="--until", now=now)
    if start and end and start >= end:
        raise UsageError(f"--since ({start.isoformat()}) must be before --until ({end.isoformat()})")
    return start, end


def iso(ts: datetime | None) -> str | None:
    return ts.astimezone(UTC).isoformat().replace("+00:00", "Z") if ts else None
