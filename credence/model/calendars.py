"""Periods a rulebook counts in calendar days, months or working days, and the day they end.

Working days follow the State Council's holiday arrangements, make-up workdays included (a
Saturday or Sunday worked in lieu is a working day), as the ``chinese-calendar`` package
publishes them year by year. A period that reaches a year the package has no data for is
refused, never guessed: the arrangements are announced late each year, and counting the
weekends alone would end a publicity period in the middle of the Spring Festival.
"""

from calendar import monthrange
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

import chinese_calendar

from credence.exc import CredenceError


class Calendar(StrEnum):
    CN = "cn"  # the State Council's public holidays and make-up workdays (chinese-calendar)


class CalendarError(CredenceError):
    """A day the named calendar cannot tell about (a year it has no data for)."""

    status = 422


def is_workday(day: date, calendar: Calendar = Calendar.CN) -> bool:
    """Whether ``day`` is a working day under ``calendar``; refuses a year it does not know."""
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError as error:
        raise CalendarError(f"calendar {calendar.value}: {error}; the period cannot be counted") from None


@dataclass(frozen=True, slots=True)
class Period:
    """A length of time, in one unit."""

    days: int = 0
    months: int = 0
    working_days: int = 0
    calendar: Calendar | None = None

    def __post_init__(self) -> None:
        given = [n for n in (self.days, self.months, self.working_days) if n]
        if any(n < 0 for n in (self.days, self.months, self.working_days)) or len(given) > 1:
            raise ValueError("a period is counted in one unit: days, months or working_days, none negative")
        if self.working_days and self.calendar is None:
            raise ValueError("working days need a calendar")

    def last_day(self, told: date) -> date:
        """The period's last day, counted from the day after ``told`` (the day of the notice, or
        of the decision): that day itself for an empty period."""
        if self.working_days:
            calendar = self.calendar or Calendar.CN
            day, counted = told, 0
            while counted < self.working_days:
                day += timedelta(days=1)
                counted += is_workday(day, calendar)
            return day
        if self.months:
            month = told.month - 1 + self.months
            year, month = told.year + month // 12, month % 12 + 1
            # 31 January and one month: the last day of February
            return date(year, month, min(told.day, monthrange(year, month)[1]))
        return told + timedelta(days=self.days)

    def first_day_after(self, told: date) -> date:
        """The first day after the period: the day a measure waiting for it takes effect."""
        return self.last_day(told) + timedelta(days=1)
