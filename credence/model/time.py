"""Legal dates are calendar dates in Asia/Shanghai; instants are UTC-aware datetimes."""

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")


def legal_date(instant: datetime) -> date:
    """The calendar date in Asia/Shanghai of a UTC-aware instant."""
    if instant.tzinfo is None:
        raise ValueError("instants must be timezone-aware")
    return instant.astimezone(SHANGHAI).date()


def legal_instant(given: datetime) -> datetime:
    """``given`` as a UTC-aware instant: without a zone it is Asia/Shanghai legal time, the one
    reading of a naive time on the command line and over HTTP. Raises ValueError (or
    OverflowError) when it or its legal date falls outside what a datetime holds."""
    zoned = given if given.tzinfo is not None else given.replace(tzinfo=SHANGHAI)
    zoned.astimezone(SHANGHAI)  # its legal date must exist too (not at the ends of year 1 or 9999)
    return zoned.astimezone(UTC)
