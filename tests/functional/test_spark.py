"""Apache Spark gives what DuckDB gives: every score interval, grade, listing, redlist entry and
exemption, from the same compiled rule SQL (the ``spark`` target), over generated histories with
corrections, caps, expiries and band edges; and ``credence score --engine spark``'s job writes it.

Spark plans each statement in a second or more, so these tests ask few, rich questions: one
registry holds every band edge of both scored schemes at once, and the property compares whole
derivations (every interval at once stands for every as-of day, by the intervals' contract) for
a few histories. The SQLite store feeds both engines; the store and DuckDB agree already
(test_properties, test_score_intervals).
"""

from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from sqlalchemy import Engine, select

from credence.batch import duckdb
from credence.batch import spark as batch_spark
from credence.model.ids import as_uuid
from credence.pipeline import scoring, state
from credence.store.orm import ScoreInterval
from tests.common.feeds import SCHEMES, Registry, person_id
from tests.common.histories import KINDS, TODAY, History, feed, histories
from tests.common.spark import MASTER
from tests.conftest import fresh_engine
from tests.functional.test_properties import _edges, _rongcheng_rows, _suzhou_rows, listing_rows

pytestmark = [pytest.mark.spark, pytest.mark.xdist_group("spark")]

NOW = datetime(2026, 11, 27, 4, tzinfo=UTC)


@pytest.fixture
def new_sqlite(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[[], Engine]]:
    """Fresh SQLite registries, one per hypothesis example."""
    made: list[Iterator[Engine]] = []

    def make() -> Engine:
        gen = fresh_engine("sqlite", request, tmp_path)
        made.append(gen)
        return next(gen)

    yield make
    for gen in made:
        next(gen, None)


@pytest.fixture
def sqlite_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """A fresh SQLite registry: Spark's tests run in the SQLite group only, once."""
    yield from fresh_engine("sqlite", request, tmp_path)


def comparable(derived: state.Derived) -> dict[str, Any]:
    """Everything a derivation says, in an order that does not depend on the engine's."""

    def rows(values: list[dict[str, Any]]) -> list[tuple[str, ...]]:
        return sorted(tuple(f"{k}={v}" for k, v in sorted(row.items())) for row in values)

    return {
        "intervals": {name: rows(values) for name, values in derived.intervals.items()},
        "scores": derived.scores,
        "listings": listing_rows(derived.listings),
        "redlisted": listing_rows(derived.redlisted),
        "exemptions": rows(derived.exemptions),
    }


@settings(
    max_examples=2,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(history=histories(max_rows=20))
def test_spark_derives_what_duckdb_derives(
    spark: Any, new_sqlite: Callable[[], Engine], tmp_path: Path, history: History
) -> None:
    """Over a generated history (amendments and retractions in later batches), Spark's score
    intervals, listings, redlist entries and exemptions are DuckDB's, as known after the last."""
    engine = new_sqlite()
    known_at = feed(engine, tmp_path, history)[-1]
    with engine.connect() as conn:
        snap = duckdb.take(conn, known_at=known_at)
        duck = state.derive(snap, conn, SCHEMES, as_of=TODAY)
        with batch_spark.loaded(snap, spark) as on_spark:
            sparked = state.derive(on_spark, conn, SCHEMES, as_of=TODAY)
    assert comparable(sparked) == comparable(duck)


def _band_edges(engine: Engine, tmp_path: Path) -> dict[str, dict[str, tuple[int, str]]]:
    """A registry with one person on each reachable band edge of both scored schemes; returns
    the expected (score, grade) by scheme and ID number."""
    reg = Registry(engine, tmp_path, now=NOW)
    expected: dict[str, dict[str, tuple[int, str]]] = {}
    by_source: dict[str, list[dict[str, Any]]] = {}
    edges = _edges("suzhou-osmanthus") + _edges("rongcheng-credit")
    for n, (scheme, score, grade) in enumerate(edges):
        suzhou = scheme == "suzhou-osmanthus"
        region = "320505" if suzhou else "371082"
        person = person_id(date(1960 + n % 40, 1 + n % 12, 1 + n % 28), region=region, seq=200 + n)
        expected.setdefault(scheme, {})[person] = (score, grade)
        book = SCHEMES[scheme].editions[-1].book
        assert book.score is not None
        home = {"id_number": person, "kind": "residence", "date": "2018-01-01", "region": region}
        by_source.setdefault("police", []).append({**home, "attrs": {"region": region, "status": "registered"}})
        if not suzhou:
            consent = {"scheme": scheme, "granted": True}
            row = {"id_number": person, "kind": "scheme_consent", "date": "2020-01-01", "region": region}
            by_source.setdefault("credit_office", []).append({**row, "attrs": consent})
        make = _suzhou_rows if suzhou else _rongcheng_rows
        for k, (kind, attrs) in enumerate(make(person, score - book.score.base)):
            source, _, regional = KINDS[kind]
            day = (TODAY - timedelta(days=30 + k)).isoformat()
            row = {"id_number": person, "kind": kind, "date": day, "region": region if regional else ""}
            by_source.setdefault(source, []).append({**row, "attrs": attrs})
    for source, rows in sorted(by_source.items()):
        result = reg.feed(source, rows, as_of=TODAY)
        assert result.quarantined == 0, result.reasons
    return expected


def test_score_on_spark_writes_every_band_edge_as_duckdb_does(
    spark: Any, sqlite_engine: Engine, tmp_path: Path
) -> None:
    """``credence score --engine spark``'s job: a full rebuild on Spark gives each person on a band
    edge that band's grade, and stores exactly the intervals a DuckDB rebuild stores."""
    engine = sqlite_engine
    expected = _band_edges(engine, tmp_path)
    later = NOW + timedelta(hours=1)

    def stored() -> list[tuple[Any, ...]]:
        columns = (ScoreInterval.scheme, ScoreInterval.subject_id, ScoreInterval.valid_from, ScoreInterval.valid_to)
        held = select(*columns, ScoreInterval.score, ScoreInterval.grade, ScoreInterval.rulebook_version)
        with engine.connect() as conn:
            return sorted(tuple(map(str, row)) for row in conn.execute(held))

    on_spark = scoring.score(
        engine, SCHEMES, where=scoring.Where.SPARK, dry_run=False, as_of=TODAY, now=later, spark_master=MASTER
    )
    sparked = stored()
    with engine.connect() as conn:
        numbers = {as_uuid(k): v for k, v in conn.exec_driver_sql("SELECT id, id_number FROM subjects").all()}
        today = conn.execute(
            select(ScoreInterval.scheme, ScoreInterval.subject_id, ScoreInterval.score, ScoreInterval.grade).where(
                ScoreInterval.holds(TODAY)
            )
        ).all()
    got = {(scheme, numbers[as_uuid(subject)]): (score, grade) for scheme, subject, score, grade in today}
    want = {(scheme, person): edge for scheme, people in expected.items() for person, edge in people.items()}
    assert {key: got.get(key) for key in want} == want
    on_duck = scoring.score(engine, SCHEMES, where=scoring.Where.DUCKDB, dry_run=False, as_of=TODAY, now=later)
    assert stored() == sparked
    assert on_spark.graded == on_duck.graded
    assert on_spark.snapshot is not None
    assert on_duck.snapshot is not None
    assert on_spark.snapshot[:2] == on_duck.snapshot[:2]  # the same facts and subjects
