"""Legal dates are calendar dates in Asia/Shanghai; instants are UTC-aware datetimes."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")


def legal_date(instant: datetime) -> date:
    """The calendar date in Asia/Shanghai of a UTC-aware instant."""
    if instant.tzinfo is None:
        raise ValueError("instants must be timezone-aware")
    return instant.astimezone(SHANGHAI).date()
