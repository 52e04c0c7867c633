"""What differs between the engines the rules run on, in one place.

Everything else in the compiled SQL is the same text on SQLite, PostgreSQL and DuckDB.
"""

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime

from credence.model.catalogue import AttrType


@dataclass(frozen=True, slots=True)
class Target:
    name: str  # sqlite | postgres | duckdb

    def date(self, day: date) -> str:
        return f"'{day.isoformat()}'" if self.name == "sqlite" else f"DATE '{day.isoformat()}'"

    def timestamp(self, instant: datetime) -> str:
        utc = instant.astimezone(UTC)
        if self.name == "sqlite":  # SQLAlchemy stores UTC instants as naive ISO text
            return f"'{utc.replace(tzinfo=None).isoformat(sep=' ', timespec='microseconds')}'"
        return f"TIMESTAMPTZ '{utc.isoformat()}'"

    def uuid(self, value: uuid.UUID) -> str:
        # SQLite and the DuckDB snapshot keep ids as 32 hex digits; PostgreSQL has a uuid type
        return f"'{value}'" if self.name == "postgres" else f"'{value.hex}'"

    def add_months(self, day: str, months: str) -> str:
        """``day`` plus ``months`` calendar months, clamped to the month's end (Jan 31 + 1 = Feb 28)."""
        if self.name == "postgres":
            return f"CAST(({day}) + make_interval(months => CAST({months} AS INTEGER)) AS DATE)"
        # DuckDB, like PostgreSQL, clamps to the end of a shorter month
        if self.name == "duckdb":
            return f"CAST(({day}) + to_months(CAST({months} AS INTEGER)) AS DATE)"
        # SQLite 3.40 overflows into the next month; clamp by hand to the target month's length
        start = f"date({day}, 'start of month', printf('%+d months', {months}))"
        last = f"CAST(strftime('%d', date({start}, '+1 month', '-1 day')) AS INTEGER)"
        day_no = f"CAST(strftime('%d', {day}) AS INTEGER)"
        return f"date({start}, printf('%+d days', min({day_no}, {last}) - 1))"

    def year(self, day: str) -> str:
        if self.name == "sqlite":
            return f"CAST(strftime('%Y', {day}) AS INTEGER)"
        return f"CAST(EXTRACT(YEAR FROM {day}) AS INTEGER)"

    def attribute(self, column: str, name: str, kind: AttrType) -> str:
        """A typed attribute out of the JSON ``attributes`` column of the store."""
        if self.name == "sqlite":
            raw = f"json_extract({column}, '$.{name}')"
            return f"CAST({raw} AS INTEGER)" if kind is AttrType.INT else raw
        raw = f"({column}->>'{name}')" if self.name == "postgres" else f"json_extract_string({column}, '$.{name}')"
        sql_type = {AttrType.INT: "BIGINT", AttrType.BOOL: "BOOLEAN", AttrType.DATE: "DATE"}.get(kind)
        return f"CAST({raw} AS {sql_type})" if sql_type else raw

    def as_date(self, sql: str) -> str:
        # SQLite keeps dates as ISO text; CAST(... AS DATE) there would turn them into numbers
        return sql if self.name == "sqlite" else f"CAST({sql} AS DATE)"

    @property
    def false(self) -> str:
        return "0" if self.name == "sqlite" else "FALSE"

    @property
    def true(self) -> str:
        return "1" if self.name == "sqlite" else "TRUE"
