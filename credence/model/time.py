"""Legal dates are calendar dates in Asia/Shanghai; instants are UTC-aware datetimes."""

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")


def legal_date(instant: datetime) -> date:
    """The calendar date in Asia/Shanghai of a UTC-aware instant."""
    if instant.tzinfo is None:
        raise ValueError("instants must be timezone-aware")
    return instant.astimezone(SHANGHAI).date()


def utc(instant: datetime) -> datetime:
    if instant.tzinfo is None:
        raise ValueError("instants must be timezone-aware")
    return instant.astimezone(UTC)


def end_of_legal_day(day: date) -> datetime:
    """The last instant (UTC) of a legal day, for 'as the registry knew it on that day'."""
    return datetime(day.year, day.month, day.day, 23, 59, 59, 999999, tzinfo=SHANGHAI).astimezone(UTC)
