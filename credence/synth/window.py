"""The period the feeds cover: the last few years before ``today``, and random days within it."""

import random
from dataclasses import dataclass
from datetime import date, timedelta

YEARS = 6  # brief: feed dates span the last ~6 years


@dataclass(frozen=True, slots=True)
class Window:
    start: date
    today: date
    years: int

    @classmethod
    def ending(cls, today: date, *, years: int = YEARS) -> "Window":
        return cls(start=today - timedelta(days=365 * years - 1), today=today, years=years)

    def day(self, rng: random.Random, lo: date | None = None, hi: date | None = None) -> date | None:
        """A uniform day in [lo, hi] clipped to the window, or None when that is empty."""
        first = self.start if lo is None else max(lo, self.start)
        last = self.today if hi is None else min(hi, self.today)
        if first > last:
            return None
        return first + timedelta(days=rng.randrange((last - first).days + 1))

    def yearly(self, rng: random.Random, rate: float, *, lo: date | None = None) -> list[date]:
        """Days of events happening with probability ``rate`` in each 365-day year of the window.

        Events before ``lo`` (e.g. the subject's 18th birthday) are dropped.
        """
        out: list[date] = []
        for back in range(self.years):
            if rng.random() < rate:
                day = self.today - timedelta(days=365 * back + rng.randrange(365))
                if lo is None or day >= lo:
                    out.append(day)
        return out

    def share_after(self, day: date) -> float:
        """The part of the window on or after ``day`` (0 to 1)."""
        if day <= self.start:
            return 1.0
        if day > self.today:
            return 0.0
        return ((self.today - day).days + 1) / ((self.today - self.start).days + 1)


def add_years(day: date, years: int) -> date:
    """The same calendar day ``years`` later (29 February becomes 1 March)."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return date(day.year + years, 3, 1)
