"""Scores as intervals of valid time agree with the point score on every day that matters, on
the store (SQLite or PostgreSQL) and on the DuckDB snapshot; and they have the promised shape.

Histories are the generated ones of the property tests (tests/common/histories.py): residence
moves and statuses, consent, caps, expiries, amendments and retractions. Besides the shipped
schemes, a three-edition scheme (tests/common/editions.py) brings a change of scale, grades,
cap, coverage and jurisdiction on an effective date, and a window with no score at all.
"""

import itertools
import random
import uuid
from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime, timedelta
from pathlib import Path

from hypothesis import HealthCheck, event, given, settings
from sqlalchemy import Connection, Engine, select

from credence.batch import duckdb
from credence.model.ids import as_uuid
from credence.rules.loader import Scheme
from credence.store.orm import Record, Subject
from tests.common.editions import three_editions
from tests.common.feeds import SCHEMES, Registry, person_id
from tests.common.histories import PEOPLE, History, feed, histories
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
PROPERTY = settings(
    max_examples=12,  # each example checks hundreds of days on every engine: 11 minutes at 50
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
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


# Example-based: one person each, the intervals written out by hand.

Row = tuple[date, date | None, int, str | None, str]
SUZHOU = SCHEMES["suzhou-osmanthus"]
HOME = PEOPLE[0]  # registered in Suzhou (320505) since 2018
START = date(2020, 1, 1)  # the Suzhou-style 1.0 edition


def _row(source_id: str, kind: str, day: str, attrs: dict[str, object], **extra: object) -> dict[str, object]:
    return {"id": source_id, "id_number": HOME, "kind": kind, "date": day, "attrs": attrs, **extra}


def _home(reg: Registry, id_number: str = HOME) -> None:
    row = {"id_number": id_number, "kind": "residence", "date": "2018-01-01", "region": "320505"}
    reg.feed("police", [{**row, "attrs": {"region": "320505", "status": "registered"}}])


def _subject(conn: Connection, id_number: str) -> uuid.UUID:
    return as_uuid(conn.execute(select(Subject.id).where(Subject.id_number == id_number)).scalar_one())


def _intervals_of(
    engine: Engine,
    id_number: str,
    *,
    known_at: datetime,
    scheme: Scheme = SUZHOU,
    exclude: Sequence[uuid.UUID] = (),
    days: Iterable[date] = (),
) -> list[Row]:
    """The person's intervals, checked against the point query on every day that matters."""
    with engine.connect() as conn:
        subject = _subject(conn, id_number)
        got = store_intervals(conn, scheme, known_at=known_at, scope=[subject], exclude=exclude)
        check_shape(got)
        point = store_points(conn, scheme, known_at=known_at, scope=[subject], exclude=exclude)
        check_contract(got, point, days_that_matter(got, days, scheme), scheme)
    return sorted((r.valid_from, r.valid_to, r.score, r.grade, r.rulebook_version) for r in got)


def test_a_cap_binds_then_an_expiry_unbinds_it(engine: Engine, tmp_path: Path) -> None:
    """Six traffic offences (-3 each, at most -15 a year, each for a year): the sixth changes
    nothing, nor does the first expiry; the second expiry raises the score."""
    reg = Registry(engine, tmp_path)
    _home(reg)
    offences = [date(2024, 3, d) for d in range(1, 7)]
    reg.feed(
        "police",
        [_row(f"t-{d.day}", "traffic_offence", d.isoformat(), {"offence_code": "1345"}) for d in offences],
    )
    on = [date(2024, 3, d) for d in range(1, 6)]
    off = [date(2025, 3, d) for d in range(2, 7)]
    expected: list[Row] = [(START, on[0], 100, "A", "1.0")]
    expected += [(a, b, 97 - 3 * i, "B", "1.0") for i, (a, b) in enumerate(itertools.pairwise(on))]
    expected += [(on[-1], off[0], 85, "B", "1.0")]
    expected += [(a, b, 88 + 3 * i, "B", "1.0") for i, (a, b) in enumerate(itertools.pairwise(off))]
    expected += [(off[-1], None, 100, "A", "1.0")]
    assert _intervals_of(engine, HOME, known_at=reg.now, days=offences) == expected


def test_a_resident_is_covered_after_the_minimum_days_until_moving_out(engine: Engine, tmp_path: Path) -> None:
    """Resident (not registered) in Suzhou from 2022-05-10: covered 365 days later, until the
    move to Rongcheng; back on 2024-06-01, and covered again a year after that, with the
    donation given in between."""
    newcomer = person_id(date(1985, 5, 5), region="320505", seq=201)
    reg = Registry(engine, tmp_path)
    moves = [("2022-05-10", "320505"), ("2024-02-01", "371082"), ("2024-06-01", "320506")]
    result = reg.feed(
        "police",
        [
            {
                "id_number": newcomer,
                "kind": "residence",
                "date": day,
                "region": region,
                "attrs": {"region": region, "status": "resident"},
            }
            for day, region in moves
        ],
    )
    assert result.quarantined == 0, result.reasons
    # given while not covered, it counts once covered again (and once only: two spells of cover)
    donation = {"id_number": newcomer, "kind": "blood_donation", "date": "2024-09-01", "attrs": {"volume_ml": 100}}
    reg.feed("blood_bank", [donation])
    days = [date.fromisoformat(day) for day, _ in moves]
    assert _intervals_of(engine, newcomer, known_at=reg.now, days=days) == [
        (date(2023, 5, 10), date(2024, 2, 1), 100, "A", "1.0"),
        (date(2025, 6, 1), None, 102, "A", "1.0"),
    ]


def test_a_new_edition_changes_the_scale_on_its_effective_date(engine: Engine, tmp_path: Path) -> None:
    """1.0 scores from 2020, a pause without a score from 2023, 2.0 (base 120) from 2024-07-01;
    a donation of 2022 counts under 1.0's rule in both scored editions."""
    reg = Registry(engine, tmp_path)
    _home(reg)
    reg.feed("blood_bank", [_row("b-1", "blood_donation", "2022-06-01", {"volume_ml": 400})])
    assert _intervals_of(engine, HOME, known_at=reg.now, scheme=three_editions(), days=[date(2022, 6, 1)]) == [
        (START, date(2022, 6, 1), 100, "A", "1.0"),
        (date(2022, 6, 1), date(2023, 1, 1), 108, "A", "1.0"),
        (date(2024, 7, 1), None, 128, "A", "2.0"),
    ]


def test_a_retracted_record_and_an_excluded_one_do_not_count(engine: Engine, tmp_path: Path) -> None:
    """A fare evasion (-5 for a year) retracted later, and a court finding (-20 for three years)
    left out with ``exclude``; what the registry knew before the retraction still counts it."""
    reg = Registry(engine, tmp_path)
    _home(reg)
    fare = _row("fare-1", "fare_evasion", "2025-01-10", {"train_number": "G7"}, region="")
    court = _row("court-1", "court_debt_default", "2025-02-01", {"case_number": "C-1"}, region="")
    reg.feed("rail", [fare])
    reg.feed("court", [court])
    before = reg.now
    reg.feed("rail", [{**fare, "retracted": True}])
    days = [date(2025, 1, 10), date(2025, 2, 1)]
    assert _intervals_of(engine, HOME, known_at=before, days=days) == [
        (START, date(2025, 1, 10), 100, "A", "1.0"),
        (date(2025, 1, 10), date(2025, 2, 1), 95, "B", "1.0"),
        (date(2025, 2, 1), date(2026, 1, 10), 75, "C", "1.0"),
        (date(2026, 1, 10), date(2028, 2, 1), 80, "C", "1.0"),
        (date(2028, 2, 1), None, 100, "A", "1.0"),
    ]
    assert _intervals_of(engine, HOME, known_at=reg.now, days=days) == [
        (START, date(2025, 2, 1), 100, "A", "1.0"),
        (date(2025, 2, 1), date(2028, 2, 1), 80, "C", "1.0"),
        (date(2028, 2, 1), None, 100, "A", "1.0"),
    ]
    with engine.connect() as conn:
        found = conn.execute(select(Record.id).where(Record.source_record_id == "court-1")).scalars().all()
    assert _intervals_of(engine, HOME, known_at=reg.now, exclude=[as_uuid(r) for r in found], days=days) == [
        (START, None, 100, "A", "1.0"),
    ]


def _repair(source_id: str, repaired: str, day: str) -> dict[str, object]:
    return _row(source_id, "credit_repair", day, {"repaired_record": repaired})


def test_a_credit_repair_ends_a_record_count_early_but_not_before_the_minimum_period(
    engine: Engine, tmp_path: Path
) -> None:
    """Tax arrears (-5 for three years, repairable after one) repaired on 2025-06-10: it stops
    counting that day; a traffic offence (-3 for a year, repairable after three months) repaired
    after one month stops counting when its three months have run; a repair the reporting agency
    did not grant (another source's) changes nothing.
    DuckDB agrees, and what the registry knew before the repairs still counts the records."""
    reg = Registry(engine, tmp_path)
    _home(reg)
    reg.feed("tax", [_row("tax-1", "tax_arrears", "2024-03-01", {"amount_yuan": 900})])
    reg.feed("police", [_row("traffic-1", "traffic_offence", "2024-08-01", {"offence_code": "1345"})])
    reg.feed("blood_bank", [_row("blood-1", "blood_donation", "2024-01-05", {"volume_ml": 400})])
    before = reg.now
    reg.feed("tax", [_repair("rep-1", "tax-1", "2025-06-10")])
    reg.feed("police", [_repair("rep-2", "traffic-1", "2024-09-01"), _repair("rep-3", "tax-1", "2024-09-01")])
    days = [date(2024, 3, 1), date(2024, 8, 1), date(2024, 9, 1), date(2024, 11, 1), date(2025, 6, 10)]
    assert _intervals_of(engine, HOME, known_at=before, days=days) == [
        (START, date(2024, 1, 5), 100, "A", "1.0"),
        (date(2024, 1, 5), date(2024, 3, 1), 108, "A", "1.0"),
        (date(2024, 3, 1), date(2024, 8, 1), 103, "A", "1.0"),
        (date(2024, 8, 1), date(2025, 8, 1), 100, "A", "1.0"),
        (date(2025, 8, 1), date(2027, 3, 1), 103, "A", "1.0"),
        (date(2027, 3, 1), None, 108, "A", "1.0"),
    ]
    repaired = [
        (START, date(2024, 1, 5), 100, "A", "1.0"),
        (date(2024, 1, 5), date(2024, 3, 1), 108, "A", "1.0"),
        (date(2024, 3, 1), date(2024, 8, 1), 103, "A", "1.0"),
        (date(2024, 8, 1), date(2024, 11, 1), 100, "A", "1.0"),
        (date(2024, 11, 1), date(2025, 6, 10), 103, "A", "1.0"),
        (date(2025, 6, 10), None, 108, "A", "1.0"),
    ]
    assert _intervals_of(engine, HOME, known_at=reg.now, days=days) == repaired
    with engine.connect() as conn:
        snap = duckdb.take(conn, known_at=reg.now)
        subject = _subject(conn, HOME)
    duck = sorted(
        (r.valid_from, r.valid_to, r.score, r.grade, r.rulebook_version)
        for r in duck_intervals(snap, SUZHOU)
        if r.subject_id == subject
    )
    assert duck == repaired
