"""What differs between the engines the rules run on, in one place.

Everything else in the compiled SQL is the same text on SQLite, PostgreSQL, DuckDB and Spark.

Invariant: no value reaches SQL by string formatting. Every literal (text, number, date,
instant, id) is a SQLGlot node rendered for the dialect, and every column name is a SQLGlot
identifier (quoted by SQLGlot if it is not a plain name), so a quote, a comment marker or a
backslash in a value stays inside its literal on every engine. Renderings of rulebook values
are cached: the same ones are rendered on every incremental update.
"""

import json
import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import StrEnum
from functools import lru_cache
from typing import Literal
from uuid import UUID

from sqlglot import exp
from sqlglot.dialects.dialect import Dialect as SQLGlotDialect
from sqlglot.generator import Generator

from credence.model.catalogue import AttrType


class Dialect(StrEnum):
    """The SQL engines compiled rules run on, spelled as SQLGlot names their dialects.

    Not called ``Engine``: that is SQLAlchemy's connection pool, and ``credence score --engine``
    chooses between the store and the batch engines, not between dialects."""

    SQLITE = "sqlite"
    POSTGRES = "postgres"
    DUCKDB = "duckdb"
    SPARK = "spark"


# SQLAlchemy's text() reads ":name" as a bind parameter even inside quotes (its own rule), and
# the store runs compiled SQL through text(); such a colon is put in a literal of its own.
_BIND_LIKE = re.compile(r"(?<![:\w\\]):(?=\w)")


def string_literal(value: str) -> exp.Expression:
    """A SQLGlot string node for ``value``, safe in SQLAlchemy's text() as well as on the engines:
    ``'a :b'`` becomes ``('a ' || ':' || 'b')``, the same value everywhere."""
    if "\x00" in value:  # the schema refuses NUL; PostgreSQL cannot hold it in any text
        raise ValueError("a SQL string literal cannot hold NUL")
    first, *rest = _BIND_LIKE.split(value)
    node: exp.Expression = exp.Literal.string(first)
    if not rest:
        return node
    for piece in rest:
        node = exp.DPipe(
            this=exp.DPipe(this=node, expression=exp.Literal.string(":")), expression=exp.Literal.string(piece)
        )
    return exp.Paren(this=node)


_generators = threading.local()


def render(dialect: Dialect, node: exp.Expression) -> str:
    """``node`` as SQL of ``dialect``, by the dialect's own generator.

    For the small nodes built here (literals, casts, identifiers) this is what ``node.sql()``
    gives, at a thirtieth of the cost: ``sql()`` first deep-copies and preprocesses the tree, and
    makes a new generator. One generator per thread and dialect, as a generator is not shared."""
    made: dict[Dialect, Generator] = _generators.__dict__.setdefault("made", {})
    generator = made.get(dialect)
    if generator is None:
        generator = made[dialect] = SQLGlotDialect.get_or_raise(dialect.value).generator()
    return generator.sql(node)


# Cached on the plain value: rulebook ids, kinds, grades and dates recur on every update.
@lru_cache(maxsize=16384)
def _text(dialect: Dialect, value: str) -> str:
    return render(dialect, string_literal(value))


@lru_cache(maxsize=4096)
def _number(dialect: Dialect, value: int) -> str:
    return render(dialect, exp.Literal.number(value))


@lru_cache(maxsize=4096)
def _identifier(dialect: Dialect, name: str, table: str | None) -> str:
    return render(dialect, exp.column(name, table=table) if table else exp.to_identifier(name))


def _cast(value: str, to: Literal["DATE", "TIMESTAMPTZ"]) -> exp.Cast:
    return exp.Cast(this=string_literal(value), to=exp.DataType(this=exp.DataType.Type[to]))


@lru_cache(maxsize=4096)
def _date(dialect: Dialect, day: date) -> str:
    if dialect is Dialect.SQLITE:  # SQLite keeps dates as ISO text
        return render(dialect, string_literal(day.isoformat()))
    return render(dialect, _cast(day.isoformat(), "DATE"))


@dataclass(frozen=True, slots=True)
class Target:
    dialect: Dialect

    def __post_init__(self) -> None:
        if not isinstance(self.dialect, Dialect):  # a bare "sqlite" would compare unequal to nothing
            raise TypeError(f"Target takes a Dialect, got {self.dialect!r}")

    def text(self, value: str) -> str:
        """A string literal."""
        return _text(self.dialect, value)

    def number(self, value: int) -> str:
        """A whole-number literal."""
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(f"a SQL number literal takes an int, got {value!r}")
        return _number(self.dialect, value)

    def identifier(self, name: str) -> str:
        """A column or alias name; SQLGlot quotes it unless it is a plain name."""
        return _identifier(self.dialect, name, None)

    def column(self, name: str, *, table: str) -> str:
        """``table.name``, both as SQLGlot identifiers."""
        return _identifier(self.dialect, name, table)

    def date(self, day: date) -> str:
        return _date(self.dialect, day)

    def timestamp(self, instant: datetime) -> str:
        utc = instant.astimezone(UTC)
        if self.dialect is Dialect.SQLITE:  # SQLAlchemy stores UTC instants as naive ISO text
            naive = utc.replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")
            return render(self.dialect, string_literal(naive))
        return render(self.dialect, _cast(utc.isoformat(), "TIMESTAMPTZ"))

    def unindexed(self, column: str) -> str:
        """``column`` as a term SQLite's planner will not answer from an index (unary ``+``):
        for a filter that another index serves far better than the one it would pick."""
        return f"+{column}" if self.dialect is Dialect.SQLITE else column

    def instant_param(self, name: str) -> str:
        """A bind parameter holding an instant; bind ``instant_value(...)`` to ``name``."""
        if self.dialect is Dialect.SQLITE:
            return f":{name}"
        if self.dialect is Dialect.SPARK:  # Spark's TIMESTAMP is an instant (read in the session's zone)
            return f"CAST({self.param(name)} AS TIMESTAMP)"
        return f"CAST({self.param(name)} AS TIMESTAMPTZ)"

    def instant_value(self, instant: datetime) -> object:
        """What to bind for ``instant_param``: the same value ``timestamp`` renders."""
        utc = instant.astimezone(UTC)
        if self.dialect is Dialect.SQLITE:
            return utc.replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")
        return utc

    def in_ids(self, column: str, name: str) -> str:
        """Whether ``column`` is one of the ids bound to ``name`` (bind ``ids_value(...)``).

        One statement text for any set of ids, so an engine plans it once per connection and
        reuses the plan: SQLite spends ten times longer planning the score-interval SQL than
        running it for one subject."""
        if self.dialect is Dialect.SQLITE:
            return f"{column} IN (SELECT value FROM json_each(:{name}))"
        if self.dialect is Dialect.POSTGRES:
            return f"{column} = ANY(CAST(:{name} AS uuid[]))"
        if self.dialect is Dialect.SPARK:
            return f"array_contains(CAST({self.param(name)} AS ARRAY<STRING>), {column})"
        return f"list_contains(CAST({self.param(name)} AS VARCHAR[]), {column})"

    def ids_value(self, values: Iterable[UUID]) -> object:
        """What to bind for ``in_ids``: SQLite and the snapshots keep ids as 32 hex digits."""
        if self.dialect is Dialect.SQLITE:
            return json.dumps([v.hex for v in values])
        if self.dialect is Dialect.POSTGRES:
            return list(values)
        return [v.hex for v in values]

    def param(self, name: str) -> str:
        """A bind parameter as the engine's driver spells it (SQLAlchemy's text() on the store,
        and Spark's named arguments, ``spark.sql(text, args=)``)."""
        return f"${name}" if self.dialect is Dialect.DUCKDB else f":{name}"

    def uuid(self, value: UUID) -> str:
        # SQLite and the snapshots keep ids as 32 hex digits; PostgreSQL has a uuid type
        return self.text(str(value) if self.dialect is Dialect.POSTGRES else value.hex)

    def texts(self, values: Iterable[str]) -> str:
        """Comma-separated string literals, for ``IN (...)``; ``NULL`` when there are none."""
        return ", ".join(self.text(v) for v in values) or "NULL"

    def uuids(self, values: Iterable[UUID]) -> str:
        """Comma-separated id literals, for ``IN (...)``; ``NULL`` when there are none.

        Not cached: a scope of 2,000 subjects would only fill the cache."""
        postgres = self.dialect is Dialect.POSTGRES
        keyed = (str(v) if postgres else v.hex for v in values)
        return ", ".join(render(self.dialect, exp.Literal.string(k)) for k in keyed) or "NULL"

    def add_months(self, day: str, months: str) -> str:
        """``day`` plus ``months`` calendar months, clamped to the month's end (Jan 31 + 1 = Feb 28).

        ``day`` and ``months`` are SQL expressions built by the compiler, never rulebook text."""
        if self.dialect is Dialect.POSTGRES:
            return f"CAST(({day}) + make_interval(months => CAST({months} AS INTEGER)) AS DATE)"
        # DuckDB, like PostgreSQL, clamps to the end of a shorter month
        if self.dialect is Dialect.DUCKDB:
            return f"CAST(({day}) + to_months(CAST({months} AS INTEGER)) AS DATE)"
        # Spark 3 and later clamp too (Spark 2 kept a month's last day as the last day)
        if self.dialect is Dialect.SPARK:
            return f"add_months({day}, CAST({months} AS INTEGER))"
        # SQLite 3.40 overflows into the next month; clamp by hand to the target month's length
        start = f"date({day}, 'start of month', printf('%+d months', {months}))"
        last = f"CAST(strftime('%d', date({start}, '+1 month', '-1 day')) AS INTEGER)"
        day_no = f"CAST(strftime('%d', {day}) AS INTEGER)"
        return f"date({start}, printf('%+d days', min({day_no}, {last}) - 1))"

    def year(self, day: str) -> str:
        if self.dialect is Dialect.SQLITE:
            return f"CAST(strftime('%Y', {day}) AS INTEGER)"
        return f"CAST(EXTRACT(YEAR FROM {day}) AS INTEGER)"

    def attribute(self, column: str, name: str, kind: AttrType) -> str:
        """A typed attribute out of the JSON ``attributes`` column of the store.

        ``column`` is the compiler's own; ``name`` comes from the record-kind catalogue and
        reaches SQL only as a string literal (the JSON path or key)."""
        if self.dialect is Dialect.SQLITE:
            raw = f"json_extract({column}, {self.text(f'$.{name}')})"
            return f"CAST({raw} AS INTEGER)" if kind is AttrType.INT else raw
        if self.dialect is Dialect.POSTGRES:
            raw = f"({column}->>{self.text(name)})"
        elif self.dialect is Dialect.SPARK:
            raw = f"get_json_object({column}, {self.text(f'$.{name}')})"
        else:
            raw = f"json_extract_string({column}, {self.text(f'$.{name}')})"
        sql_type = {AttrType.INT: "BIGINT", AttrType.BOOL: "BOOLEAN", AttrType.DATE: "DATE"}.get(kind)
        return f"CAST({raw} AS {sql_type})" if sql_type else raw

    def as_date(self, sql: str) -> str:
        # SQLite keeps dates as ISO text; CAST(... AS DATE) there would turn them into numbers
        return sql if self.dialect is Dialect.SQLITE else f"CAST({sql} AS DATE)"

    @property
    def false(self) -> str:
        return "0" if self.dialect is Dialect.SQLITE else "FALSE"

    @property
    def true(self) -> str:
        return "1" if self.dialect is Dialect.SQLITE else "TRUE"
