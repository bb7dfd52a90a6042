from datetime import UTC, datetime, timedelta

import pytest

from sovaudit.errors import UsageError
from sovaudit.timewindow import iso, parse_time, parse_window

NOW = datetime(2024, 5, 10, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(("text", "expected"), [
    ("7d", NOW - timedelta(days=7)),
    ("24h", NOW - timedelta(hours=24)),
    ("30m", NOW - timedelta(minutes=30)),
    ("2w", NOW - timedelta(weeks=2)),
    ("2024-05-01", datetime(2024, 5, 1, tzinfo=UTC)),
    ("2024-05-01T12:00Z", datetime(2024, 5, 1, 12, tzinfo=UTC)),
    ("2024-05-01T00:30+02:00", datetime(2024, 4, 30, 22, 30, tzinfo=UTC)),
    ("2024-05-01T08:00", datetime(2024, 5, 1, 8, tzinfo=UTC)),
])
def test_since_and_until_accept_iso_and_relative_forms_in_utc(text, expected):
    parsed = parse_time(text, option="--since", now=NOW)
    assert parsed == expected and parsed.utcoffset() == timedelta(0)


def test_bad_times_and_reversed_windows_are_usage_errors():
    with pytest.raises(UsageError, match="--since: found 'last tuesday', expected an ISO date"):
        parse_time("last tuesday", option="--since")
    with pytest.raises(UsageError, match="must be before --until"):
        parse_window("2024-05-02", "2024-05-01")
    assert iso(datetime(2024, 5, 1, tzinfo=UTC)) == "2024-05-01T00:00:00Z"
