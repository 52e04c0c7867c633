"""Scores as intervals of valid time agree with the point score on every day that matters, on
the store (SQLite or PostgreSQL) and on the DuckDB snapshot; and they have the promised shape.

Histories are the generated ones of the property tests (tests/common/histories.py): residence
moves and statuses, consent, caps, expiries, amendments and retractions. Besides the shipped
schemes, a three-edition scheme (tests/common/editions.py) brings a change of scale, grades,
cap, coverage and jurisdiction on an effective date, and a window with no score at all.
"""

import random
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

from hypothesis import HealthCheck, event, given, settings
from sqlalchemy import Engine

from credence.batch import duckdb
from tests.common.editions import three_editions
from tests.common.feeds import SCHEMES
from tests.common.histories import History, feed, histories
from tests.common.intervals import (
    check_contract,
    check_shape,
    days_that_matter,
    duck_intervals,
    duck_points,
    store_intervals,
    store_points,
)

SCORED = {
    **{name: s for name, s in SCHEMES.items() if any(e.book.score for e in s.editions)},
    "three-editions": three_editions(),
}
PROPERTY = settings(suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
DUCK_DAYS = 12  # DuckDB plans each point query afresh (~50 ms); its intervals equal the store's


@PROPERTY
@given(history=histories())
def test_intervals_agree_with_the_point_score_on_every_day(
    new_engine: Callable[[], Engine], tmp_path: Path, history: History
) -> None:
    """On every day that matters (and a few others), the intervals holding it are the point
    query's rows, on the store; DuckDB gives the very same intervals, and agrees with its own
    point query on a sample of those days."""
    engine = new_engine()
    known_at = feed(engine, tmp_path, history)[-1]
    pick = random.Random(sorted(history.days)[0].toordinal())
    extra = {date(2019, 1, 1) + timedelta(days=pick.randrange(9 * 365)) for _ in range(3)}
    with engine.connect() as conn:
        snap = duckdb.take(conn, known_at=known_at)
        for scheme in SCORED.values():
            stored = store_intervals(conn, scheme, known_at=known_at)
            check_shape(stored)
            days = days_that_matter(stored, history.days, scheme) | extra
            check_contract(stored, store_points(conn, scheme, known_at=known_at), days, scheme)
            duck = duck_intervals(snap, scheme)
            assert sorted(duck, key=str) == sorted(stored, key=str)
            sample = pick.sample(sorted(days), min(DUCK_DAYS, len(days)))
            check_contract(duck, duck_points(snap, scheme), sample, scheme)
            event(f"{scheme.name} {len(scheme.editions)}: intervals {min(len(stored), 8)}")
