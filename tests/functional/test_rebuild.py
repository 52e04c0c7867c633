"""A full rebuild in DuckDB equals the incremental state in the store, and corrections are
bitemporal: what the registry knew earlier never changes."""

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, select

from credence.batch import duckdb
from credence.pipeline import rebuild, state
from credence.store.orm import (
    ActiveMeasureHistory,
    ExemptionHistory,
    ListingHistory,
    Record,
    ScoreInterval,
    ScoreIntervalHistory,
)
from tests.common.engines import store_scores
from tests.common.feeds import SCHEMES, Registry, person_id
from tests.common.histories import TODAY, History, histories
from tests.common.histories import feed as feed_history
from tests.common.state import differences, snapshot

PEOPLE = [person_id(date(1970 + i, 1 + i % 12, 1 + i), seq=100 + 2 * i) for i in range(6)]
KINDS = {
    "traffic_offence": ("police", {"offence_code": "1345", "fine_yuan": 200}),
    "blood_donation": ("blood_bank", {"volume_ml": 400}),
    "volunteer_hours": ("volunteers", {"hours": 300, "year": 2024}),
    "tax_arrears": ("tax", {"amount_yuan": 20000}),
    "court_debt_default": ("court", {"case_number": "C-1", "amount_yuan": 5000}),
}

event = st.tuples(
    st.integers(0, len(PEOPLE) - 1),
    st.sampled_from(sorted(KINDS)),
    st.dates(date(2019, 6, 1), date(2026, 11, 20)),
)


def stored(engine: Engine, *, day: date) -> dict[str, dict[object, tuple[int, str | None]]]:
    """The stored scores of ``day``: the score intervals that hold it."""
    out: dict[str, dict[object, tuple[int, str | None]]] = {}
    held = select(ScoreInterval.scheme, ScoreInterval.subject_id, ScoreInterval.score, ScoreInterval.grade)
    with engine.connect() as conn:
        for row in conn.execute(held.where(ScoreInterval.holds(day))):
            out.setdefault(row.scheme, {})[row.subject_id] = (row.score, row.grade)
    return out


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], max_examples=15)
@given(events=st.lists(event, min_size=1, max_size=25))
def test_rebuild_equals_incremental(
    new_engine: Callable[[], Engine], tmp_path: Path, events: list[tuple[int, str, date]]
) -> None:
    engine = new_engine()  # every example starts from an empty registry
    reg = Registry(engine, tmp_path, now=datetime(2026, 11, 27, 4, tzinfo=UTC))
    reg.feed(
        "police",
        [
            {
                "id_number": p,
                "kind": "residence",
                "date": "2019-01-01",
                "attrs": {"region": "320505", "status": "registered"},
            }
            for p in PEOPLE
        ],
        as_of=date(2026, 11, 27),
    )
    for start in range(0, len(events), 8):  # a few feeds, so the incremental path runs often
        by_source: dict[str, list[dict[str, object]]] = {}
        for who, kind, day in events[start : start + 8]:
            source, attrs = KINDS[kind]
            region = "" if source == "court" else "320505"
            by_source.setdefault(source, []).append(
                {
                    "id_number": PEOPLE[who],
                    "kind": kind,
                    "date": day.isoformat(),
                    "region": region,
                    "attrs": attrs,
                }
            )
        for source, rows in by_source.items():
            reg.feed(source, rows, as_of=date(2026, 11, 27))
    incremental = stored(engine, day=date(2026, 11, 27))
    with engine.connect() as conn:
        snap = duckdb.take(conn, known_at=reg.now)
    rebuilt = state.scores(snap, SCHEMES, as_of=date(2026, 11, 27))
    assert {k: v for k, v in rebuilt.items() if v} == {k: v for k, v in incremental.items() if v}


def test_correction_is_bitemporal(engine: Engine, tmp_path: Path) -> None:
    person = PEOPLE[0]
    reg = Registry(engine, tmp_path)
    reg.feed(
        "police",
        [
            {
                "id_number": person,
                "kind": "residence",
                "date": "2019-01-01",
                "attrs": {"region": "320505", "status": "registered"},
            }
        ],
    )
    row = {
        "id": "TAX-1",
        "id_number": person,
        "kind": "tax_arrears",
        "date": "2026-03-01",
        "attrs": {"amount_yuan": 20000},
    }
    reg.feed("tax", [row])
    before_fix = reg.now
    reg.feed("tax", [{**row, "attrs": {"amount_yuan": 500}}])
    after_fix = reg.now
    scheme = SCHEMES["suzhou-osmanthus"]
    with engine.connect() as conn:
        then = store_scores(conn, scheme, as_of=date(2026, 11, 1), known_at=before_fix)
        now = store_scores(conn, scheme, as_of=date(2026, 11, 1), known_at=after_fix)
    assert list(then.values()) == [(90, "B")]
    assert list(now.values()) == [(95, "B")]


def test_a_retraction_stops_the_record_counting_from_then_on(engine: Engine, tmp_path: Path) -> None:
    """An agency withdraws a record (a fine quashed on appeal): a new version, never a delete."""
    person = PEOPLE[1]
    reg = Registry(engine, tmp_path)
    home = {"id_number": person, "kind": "residence", "date": "2019-01-01"}
    reg.feed("police", [{**home, "attrs": {"region": "320505", "status": "registered"}}])
    row = {"id": "TAX-9", "id_number": person, "kind": "tax_arrears", "date": "2026-03-01"}
    reg.feed("tax", [{**row, "attrs": {"amount_yuan": 20000}}])
    before = reg.now
    result = reg.feed("tax", [{**row, "attrs": {"amount_yuan": 20000}, "retracted": True}])
    assert (result.retracted, result.accepted, result.amended) == (1, 0, 0)
    again = reg.feed("tax", [{**row, "attrs": {"amount_yuan": 20000}, "retracted": True}])
    assert again.unchanged == 1
    scheme = SCHEMES["suzhou-osmanthus"]
    with engine.connect() as conn:
        then = store_scores(conn, scheme, as_of=date(2026, 11, 1), known_at=before)
        now = store_scores(conn, scheme, as_of=date(2026, 11, 1), known_at=reg.now)
        versions = conn.execute(
            select(Record.version, Record.op).where(Record.source_record_id == "TAX-9").order_by(Record.version)
        ).all()
    assert list(then.values()) == [(90, "B")]
    assert list(now.values()) == [(100, "A")]
    assert [tuple(v) for v in versions] == [(1, "assert"), (2, "retract")]


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(history=histories())
def test_a_rebuild_over_the_incremental_state_changes_nothing(
    new_engine: Callable[[], Engine], tmp_path: Path, history: History
) -> None:
    """After the incremental path has run batch by batch, the DuckDB rebuild derives the same
    score intervals, listings, active measures and exemptions: it writes no new version and no
    event, so every table (history included) and the log are as they were."""
    engine = new_engine()
    known_at = feed_history(engine, tmp_path, history)[-1]
    before = snapshot(engine)
    later = known_at + timedelta(hours=1)
    written = rebuild.rebuild(engine, SCHEMES, as_of=TODAY, now=later).written
    assert (written.started, written.ended) == (0, 0)
    assert differences(before, snapshot(engine)) == {}
    with engine.connect() as conn:
        for table in (ScoreIntervalHistory, ListingHistory, ActiveMeasureHistory, ExemptionHistory):
            assert not conn.execute(select(table.superseded_at).where(table.superseded_at == later)).first()
