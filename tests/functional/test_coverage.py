"""Who a city scheme scores. The Rongcheng rulebook covers people registered in 371082, or resident
there for at least 365 days (``residence_min_days``), and only with their consent
(``consent_required``): a consent brings a person in, a later withdrawal takes them out."""

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine, select

from credence.dueprocess.explanations import explain
from credence.pipeline.update import update
from credence.screening.check import check
from credence.store.orm import Event, Listing, ScoreInterval, Subject
from tests.common.engines import store_scores
from tests.common.feeds import SCHEMES, Registry, person_id

RONGCHENG = "rongcheng-credit"
REGION = "371082"
TODAY = date(2026, 11, 27)  # the day the test Registry's clock stands on, and scores for


def someone(seq: int) -> str:
    return person_id(date(1970 + seq % 30, 1 + seq % 12, 1 + seq % 28), region=REGION, seq=seq)


def residence(id_number: str, since: str, status: str = "registered", region: str = REGION) -> dict[str, object]:
    return {
        "id_number": id_number,
        "kind": "residence",
        "date": since,
        "region": region,
        "attrs": {"region": region, "status": status},
    }


def consent(id_number: str, day: str, *, granted: bool = True, scheme: str = RONGCHENG) -> dict[str, object]:
    return {
        "id_number": id_number,
        "kind": "scheme_consent",
        "date": day,
        "region": REGION,
        "attrs": {"scheme": scheme, "granted": granted},
    }


def stored(
    engine: Engine, id_number: str, scheme: str = RONGCHENG, *, day: date = TODAY
) -> tuple[int, str | None] | None:
    """The stored score and grade on ``day``: the score interval that holds it."""
    with engine.connect() as conn:
        row = conn.execute(
            select(ScoreInterval.score, ScoreInterval.grade)
            .join(Subject, Subject.id == ScoreInterval.subject_id)
            .where(Subject.id_number == id_number, ScoreInterval.scheme == scheme, ScoreInterval.holds(day))
        ).one_or_none()
    return None if row is None else (row.score, row.grade)


def covered_on(engine: Engine, reg: Registry, id_number: str, day: date) -> bool:
    with engine.connect() as conn:
        subject = conn.execute(select(Subject.id).where(Subject.id_number == id_number)).scalar_one()
        return subject in store_scores(conn, SCHEMES[RONGCHENG], as_of=day, known_at=reg.now, scope=[subject])


def test_rongcheng_requires_consent_as_its_rulebook_says() -> None:
    coverage = SCHEMES[RONGCHENG].editions[-1].book.coverage
    assert coverage is not None
    assert (coverage.residence_min_days, coverage.consent_required) == (365, True)


def test_registered_residents_with_consent_are_scored_newcomers_are_not(engine: Engine, tmp_path: Path) -> None:
    registered, settled, newcomer, silent, elsewhere = (someone(s) for s in (701, 703, 705, 707, 709))
    reg = Registry(engine, tmp_path)
    reg.feed(
        "police",
        [
            residence(registered, "2026-11-01"),  # registration counts at once
            residence(settled, "2025-06-01", status="resident"),  # resident for well over a year
            residence(newcomer, "2026-06-01", status="resident"),  # resident for under a year
            residence(silent, "2010-01-01"),  # registered, never consented
            residence(elsewhere, "2010-01-01", region="320505"),  # consented, but lives in Suzhou
            {
                "id_number": registered,
                "kind": "traffic_offence",
                "date": "2026-10-01",
                "region": REGION,
                "attrs": {"offence_code": "1345", "fine_yuan": 200},
            },
        ],
    )
    reg.feed(
        "credit_office",
        [consent(p, "2026-01-01") for p in (registered, settled, newcomer, elsewhere)],
    )
    assert stored(engine, registered) == (995, "A")  # base 1000, traffic ticket -5
    assert stored(engine, settled) == (1000, "A")
    assert stored(engine, newcomer) is None
    assert stored(engine, silent) is None
    assert stored(engine, elsewhere) is None
    assert stored(engine, elsewhere, "suzhou-osmanthus") == (100, "A")  # the scheme of where they live


def test_a_resident_comes_in_on_the_day_they_reach_a_year(engine: Engine, tmp_path: Path) -> None:
    newcomer = someone(711)
    reg = Registry(engine, tmp_path)
    reg.feed("police", [residence(newcomer, "2026-06-01", status="resident")])
    reg.feed("credit_office", [consent(newcomer, "2026-06-02")])
    anniversary = date(2026, 6, 1) + timedelta(days=365)
    assert not covered_on(engine, reg, newcomer, anniversary - timedelta(days=1))
    assert covered_on(engine, reg, newcomer, anniversary)


def test_consent_brings_a_person_in_and_withdrawal_takes_them_out(engine: Engine, tmp_path: Path) -> None:
    person = someone(713)
    reg = Registry(engine, tmp_path)
    reg.feed("police", [residence(person, "2015-03-01")])
    assert stored(engine, person) is None
    reg.feed("credit_office", [consent(person, "2026-01-01", scheme="suzhou-osmanthus")])
    assert stored(engine, person) is None  # consent to another scheme is not consent to this one
    reg.feed("credit_office", [consent(person, "2026-02-01")])
    assert stored(engine, person) == (1000, "A")
    reg.feed("credit_office", [consent(person, "2026-09-01", granted=False)])
    assert stored(engine, person) is None
    # what held on a date before the withdrawal is unchanged
    assert covered_on(engine, reg, person, date(2026, 8, 31))
    assert not covered_on(engine, reg, person, date(2026, 9, 1))
    reg.feed("credit_office", [consent(person, "2026-10-01")])
    assert stored(engine, person) == (1000, "A")


def test_moving_away_ends_coverage(engine: Engine, tmp_path: Path) -> None:
    person = someone(715)
    reg = Registry(engine, tmp_path)
    reg.feed("police", [residence(person, "2015-03-01")])
    reg.feed("credit_office", [consent(person, "2020-02-01")])
    assert stored(engine, person) == (1000, "A")
    reg.feed("police", [residence(person, "2026-05-01", region="320505")])
    assert stored(engine, person) is None
    assert covered_on(engine, reg, person, date(2026, 4, 30))


def suzhou_covered_on(engine: Engine, reg: Registry, id_number: str, day: date) -> bool:
    scheme = SCHEMES["suzhou-osmanthus"]
    with engine.connect() as conn:
        subject = conn.execute(select(Subject.id).where(Subject.id_number == id_number)).scalar_one()
        return subject in store_scores(conn, scheme, as_of=day, known_at=reg.now, scope=[subject])


def test_a_move_within_the_city_keeps_the_residence_clock_a_move_out_restarts_it(
    engine: Engine, tmp_path: Path
) -> None:
    """Suzhou's jurisdiction is the city (3205): moving between its districts is not a break."""
    stays, leaves = (person_id(date(1985, 5, 5), region="320505", seq=s) for s in (721, 723))
    reg = Registry(engine, tmp_path)
    reg.feed(
        "police",
        [
            residence(stays, "2025-01-01", status="resident", region="320505"),
            residence(stays, "2025-09-01", status="resident", region="320506"),  # another district
            residence(leaves, "2025-01-01", status="resident", region="320505"),
            residence(leaves, "2025-09-01", status="resident", region="371082"),  # out of the city
            residence(leaves, "2025-10-01", status="resident", region="320505"),  # and back
        ],
    )
    assert not suzhou_covered_on(engine, reg, stays, date(2025, 12, 31))
    assert suzhou_covered_on(engine, reg, stays, date(2026, 1, 1))  # a year since arriving in the city
    assert not suzhou_covered_on(engine, reg, leaves, date(2026, 1, 1))
    assert not suzhou_covered_on(engine, reg, leaves, date(2026, 9, 30))
    assert suzhou_covered_on(engine, reg, leaves, date(2026, 10, 1))  # a year since coming back
    # a 'left' record is a break too
    reg.feed("police", [residence(stays, "2026-03-01", status="left", region="320506")])
    assert not suzhou_covered_on(engine, reg, stays, date(2026, 6, 1))


def test_a_reward_follows_the_grade_on_the_day_asked(engine: Engine, tmp_path: Path) -> None:
    """Two heroic acts (+30 each, counting for two years) lift a Rongcheng resident to AAA, which
    waives deposits; check() asks the grade of the day, not the grade stored today."""
    hero = someone(731)
    reg = Registry(engine, tmp_path, now=datetime(2024, 12, 1, 4, tzinfo=UTC))  # the feeds arrive early
    reg.feed("police", [residence(hero, "2015-03-01")])
    reg.feed("credit_office", [consent(hero, "2020-02-01")])
    acts = [
        {"id_number": hero, "kind": "heroic_act", "date": day, "region": REGION, "attrs": {"citation": "rescue"}}
        for day in ("2025-01-10", "2025-02-10")
    ]
    reg.feed("credit_office", acts)

    def rewards(day: date) -> tuple[str, ...]:
        with engine.connect() as conn:
            at = datetime(day.year, day.month, day.day, 4, tzinfo=UTC)
            return check(conn, hero, "deposit", {}, at=at).rewards

    assert rewards(date(2026, 11, 27)) == ("Deposit waived for public bicycle and library cards",)
    assert rewards(date(2025, 1, 20)) == ()  # one act: 1030, AA
    assert rewards(date(2027, 2, 10)) == ()  # the first act has stopped counting


def test_the_redlist_follows_the_top_grade_with_logged_start_and_end(engine: Engine, tmp_path: Path) -> None:
    hero = someone(733)
    reg = Registry(engine, tmp_path, now=datetime(2025, 3, 1, 4, tzinfo=UTC))
    reg.feed("police", [residence(hero, "2015-03-01")])
    reg.feed("credit_office", [consent(hero, "2020-02-01")])
    acts = [
        {"id_number": hero, "kind": "heroic_act", "date": day, "region": REGION, "attrs": {"citation": "rescue"}}
        for day in ("2025-01-10", "2025-02-10")
    ]
    reg.feed("credit_office", acts, as_of=date(2025, 3, 1))  # 1060: AAA
    with engine.connect() as conn:
        subject = conn.execute(select(Subject.id).where(Subject.id_number == hero)).scalar_one()
        [entry] = conn.execute(select(Listing).where(Listing.subject_id == subject)).all()
        held = ScoreInterval.holds(date(2025, 3, 1))
        score_id = conn.execute(select(ScoreInterval.id).where(ScoreInterval.subject_id == subject, held)).scalar_one()
    # from the day the second act made it AAA to the day the first stops counting, known at once
    assert (entry.list_id, entry.start_date, entry.end_date) == (
        "rongcheng-trustworthy",
        date(2025, 2, 10),
        date(2027, 1, 10),
    )
    assert entry.decision_record_id == score_id  # the score interval, and through it the records, behind the entry
    with engine.connect() as conn:
        explained = explain(conn, SCHEMES, subject, as_of=date(2025, 3, 1), known_at=reg.now)
    [listing] = explained.listings
    assert [m["measure"] for m in listing.measures] == ["rongcheng-deposit-waiver"]

    update(engine, SCHEMES, subjects=[subject], as_of=date(2025, 6, 1), now=reg.tick())  # still AAA: unchanged
    update(engine, SCHEMES, subjects=[subject], as_of=date(2027, 1, 10), now=reg.tick())  # the first act expired
    with engine.connect() as conn:
        [entry] = conn.execute(select(Listing).where(Listing.subject_id == subject)).all()
        tags = conn.execute(select(Event.tag).where(Event.subject_id == subject, Event.tag.like("listing.%"))).all()
    assert (entry.start_date, entry.end_date, entry.end_reason) == (
        date(2025, 2, 10),
        date(2027, 1, 10),
        "grade_below_redlist",
    )
    assert [t for (t,) in tags] == ["listing.start", "listing.end"]  # both by the first refresh, once
