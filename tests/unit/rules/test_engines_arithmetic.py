"""The SQL rendered for each engine agrees with Python's reference semantics.

Each hypothesis example is a batch of inputs evaluated in one query, one row per input, so that
many values are checked per round trip while hypothesis still chooses (and shrinks) them.
"""

import calendar
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from datetime import date
from typing import Any

import duckdb
import psycopg
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from credence.rules.expressions import Where, parse
from credence.rules.targets import Dialect, Target
from tests.common.calendar import add_months

POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"

SETTINGS = settings(max_examples=50, deadline=None, database=None)


def test_reference_add_months() -> None:
    assert add_months(date(2023, 1, 31), 1) == date(2023, 2, 28)
    assert add_months(date(2024, 1, 31), 1) == date(2024, 2, 29)
    assert add_months(date(2024, 3, 31), -1) == date(2024, 2, 29)
    assert add_months(date(2024, 2, 29), 12) == date(2025, 2, 28)
    assert add_months(date(2020, 5, 15), -5) == date(2019, 12, 15)
    assert add_months(date(2020, 12, 31), 0) == date(2020, 12, 31)


# ---------------------------------------------------------------------------------------------
# Engines: run ``SELECT <expr> FROM (<one row per input>) t`` and return the values in order.

Runner = Callable[[str, Sequence[str], Sequence[tuple[Any, ...]]], list[Any]]


def _union(rows: Sequence[tuple[Any, ...]], columns: Sequence[str], mark: str) -> str:
    """``SELECT mark AS i, mark AS c1 ... UNION ALL SELECT ...`` with casts from ``columns``."""
    selects = []
    for n in range(len(rows)):
        cells = [f"{n} AS i"] + [
            f"CAST({mark} AS {sql_type}) AS {name}" if sql_type else f"{mark} AS {name}"
            for name, sql_type in (c.split(":") for c in columns)
        ]
        selects.append("SELECT " + ", ".join(cells))
    return " UNION ALL ".join(selects)


def _query(expr: str, rows: Sequence[tuple[Any, ...]], columns: Sequence[str], mark: str) -> str:
    return f"SELECT {expr} FROM ({_union(rows, columns, mark)}) t ORDER BY t.i"


@pytest.fixture(scope="module")
def sqlite_run() -> Iterator[Runner]:
    con = sqlite3.connect(":memory:")

    def run(expr: str, columns: Sequence[str], rows: Sequence[tuple[Any, ...]]) -> list[Any]:
        sql = _query(expr, rows, columns, "?")
        return [r[0] for r in con.execute(sql, [v for row in rows for v in row]).fetchall()]

    yield run
    con.close()


@pytest.fixture(scope="module")
def duckdb_run() -> Iterator[Runner]:
    con = duckdb.connect()

    def run(expr: str, columns: Sequence[str], rows: Sequence[tuple[Any, ...]]) -> list[Any]:
        sql = _query(expr, rows, columns, "?")
        return [r[0] for r in con.execute(sql, [v for row in rows for v in row]).fetchall()]

    yield run
    con.close()


@pytest.fixture(scope="module")
def postgres_run() -> Iterator[Runner]:
    try:
        con = psycopg.connect(POSTGRES_URL, connect_timeout=3, autocommit=True)
    except psycopg.OperationalError as err:
        pytest.skip(f"PostgreSQL not reachable at {POSTGRES_URL}: {err}")
    con.read_only = True

    def run(expr: str, columns: Sequence[str], rows: Sequence[tuple[Any, ...]]) -> list[Any]:
        # psycopg placeholders are %s, so the modulo operator in ``expr`` is written %%
        sql = _query(expr.replace("%", "%%"), rows, columns, "%s")
        with con.cursor() as cur:
            cur.execute(sql, [v for row in rows for v in row])
            return [r[0] for r in cur.fetchall()]

    yield run
    con.close()


# ---------------------------------------------------------------------------------------------
# floor_div(a, b) == a // b

FLOOR_DIV = parse("floor_div(x, y)", fields={"x", "y"}, where=Where("t", "r", "points"))
INT_COLUMNS = {
    "sqlite": ["x:INTEGER", "y:INTEGER"],
    "duckdb": ["x:BIGINT", "y:BIGINT"],
    "postgres": ["x:BIGINT", "y:BIGINT"],
}

dividends = st.integers(min_value=-(10**6), max_value=10**6)
divisors = st.integers(min_value=-1000, max_value=1000).filter(lambda b: b != 0)
division_batches = st.lists(st.tuples(dividends, divisors), min_size=1, max_size=40)
SIGNS = [(7, 2), (-7, 2), (7, -2), (-7, -2), (6, 3), (-6, 3), (0, -5), (-1, 1000), (1, -1000)]


def check_floor_div(run: Runner, target: str, pairs: list[tuple[int, int]]) -> None:
    sql = FLOOR_DIV.sql(Dialect(target), table="t")
    got = run(sql, INT_COLUMNS[target], pairs)
    assert got == [a // b for a, b in pairs], sql


@SETTINGS
@given(pairs=division_batches)
@example(pairs=SIGNS)
def test_floor_div_sqlite(sqlite_run: Runner, pairs: list[tuple[int, int]]) -> None:
    check_floor_div(sqlite_run, "sqlite", pairs)


@SETTINGS
@given(pairs=division_batches)
@example(pairs=SIGNS)
def test_floor_div_duckdb(duckdb_run: Runner, pairs: list[tuple[int, int]]) -> None:
    check_floor_div(duckdb_run, "duckdb", pairs)


@pytest.mark.postgres
@SETTINGS
@given(pairs=division_batches)
@example(pairs=SIGNS)
def test_floor_div_postgres(postgres_run: Runner, pairs: list[tuple[int, int]]) -> None:
    check_floor_div(postgres_run, "postgres", pairs)


def test_floor_div_inside_a_formula_sqlite(sqlite_run: Runner) -> None:
    formula = parse("2 * floor_div(x, 100) - floor_div(-x, y)", fields={"x", "y"}, where=Where("t", "r", "p"))
    pairs = [(1050, 36), (-1050, 36), (99, -7), (0, 1)]
    got = sqlite_run(formula.sql(Dialect.SQLITE, table="t"), INT_COLUMNS["sqlite"], pairs)
    assert got == [2 * (a // 100) - (-a // b) for a, b in pairs]


# ---------------------------------------------------------------------------------------------
# add_months(day, n): calendar months, clamped to the end of the target month

DATE_COLUMNS = {
    "sqlite": ["d:", "n:INTEGER"],  # SQLite keeps dates as ISO text
    "duckdb": ["d:DATE", "n:INTEGER"],
    "postgres": ["d:DATE", "n:INTEGER"],
}

FIRST, LAST = date(1950, 1, 1), date(2060, 12, 31)


@st.composite
def month_ends(draw: st.DrawFn) -> date:
    """Days 28 to 31, where clamping happens."""
    year = draw(st.integers(min_value=FIRST.year, max_value=LAST.year))
    month = draw(st.integers(min_value=1, max_value=12))
    last = calendar.monthrange(year, month)[1]
    return date(year, month, draw(st.integers(min_value=28, max_value=last)))


days = st.one_of(st.dates(min_value=FIRST, max_value=LAST), month_ends())
month_counts = st.integers(min_value=-240, max_value=240)
month_batches = st.lists(st.tuples(days, month_counts), min_size=1, max_size=40)
CLAMPS = [
    (date(2023, 1, 31), 1),
    (date(2024, 1, 31), 1),
    (date(2024, 3, 31), -1),
    (date(2024, 2, 29), 12),
    (date(2024, 2, 29), -48),
    (date(2000, 8, 31), 1),
    (date(1999, 12, 31), 2),
    (date(2021, 5, 30), -3),
    (date(2020, 6, 15), 0),
    (date(1950, 1, 1), -240),
    (date(2060, 12, 31), 240),
]


def check_add_months(run: Runner, target: str, cases: list[tuple[date, int]]) -> None:
    sql = Target(Dialect(target)).add_months("t.d", "t.n")
    rows = [(d.isoformat() if target == "sqlite" else d, n) for d, n in cases]
    got = run(sql, DATE_COLUMNS[target], rows)
    got_dates = [date.fromisoformat(v) if isinstance(v, str) else v for v in got]
    assert got_dates == [add_months(d, n) for d, n in cases], sql


@SETTINGS
@given(cases=month_batches)
@example(cases=CLAMPS)
def test_add_months_sqlite(sqlite_run: Runner, cases: list[tuple[date, int]]) -> None:
    check_add_months(sqlite_run, "sqlite", cases)


@SETTINGS
@given(cases=month_batches)
@example(cases=CLAMPS)
def test_add_months_duckdb(duckdb_run: Runner, cases: list[tuple[date, int]]) -> None:
    check_add_months(duckdb_run, "duckdb", cases)


@pytest.mark.postgres
@SETTINGS
@given(cases=month_batches)
@example(cases=CLAMPS)
def test_add_months_postgres(postgres_run: Runner, cases: list[tuple[date, int]]) -> None:
    check_add_months(postgres_run, "postgres", cases)
