"""Redlist entries as runs of grade intervals: the worked example of ``docs/architecture.md``.

A Rongcheng resident (registered since 2015, consent given 2020-02-01, base 1,000) does two
heroic acts, valid 2026-10-01 and 2026-11-01, each +30 for two years; the credit office's feed
carrying them is loaded on 2026-11-27. The score intervals put the resident in AAA (1,060) from
2026-11-01 until the first act stops counting on 2028-10-01, so the redlist entry runs over those
days: it starts on the day the record put them in the grade, not on the day the refresh ran, and
its end is known at once. A court judgment for breach of contract valid 2027-03-01 (-50: 1,010,
grade A), learned on 2027-03-05, moves the end to 2027-03-01. A rebuild changes nothing, and a
registry that loads the same feeds and only ever rebuilds holds the same entries. On SQLite and
PostgreSQL.
"""

import json
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime
from importlib import resources
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select

from credence.ingest.loader import load_file
from credence.lists import redlist
from credence.model.ids import as_uuid
from credence.pipeline import rebuild
from credence.rules.loader import Scheme, group, load_text
from credence.screening.check import check
from credence.store.orm import Event, Listing, ScoreInterval, Subject
from tests.common.feeds import SCHEMES, Registry, mapping_for, person_id
from tests.common.state import differences, snapshot

REGION = "371082"
HERO = person_id(date(1983, 6, 1), region=REGION, seq=741)
LIST = "rongcheng-trustworthy"
WAIVER = "Deposit waived for public bicycle and library cards"
FEEDS: list[tuple[str, list[dict[str, Any]]]] = [
    ("police", [{"kind": "residence", "date": "2015-03-01", "attrs": {"region": REGION, "status": "registered"}}]),
    (
        "credit_office",
        [{"kind": "scheme_consent", "date": "2020-02-01", "attrs": {"scheme": "rongcheng-credit", "granted": True}}],
    ),
    (
        "credit_office",
        [{"kind": "heroic_act", "date": day, "attrs": {"citation": "rescue"}} for day in ("2026-10-01", "2026-11-01")],
    ),
]
BREACH = ("court", [{"kind": "contract_breach_judgment", "date": "2027-03-01", "attrs": {"case_number": "C-9"}}])
LEARNED = datetime(2027, 3, 5, 4, tzinfo=UTC)  # when the court's judgment reaches the registry


def rows(feed: list[dict[str, Any]], source: str) -> list[dict[str, Any]]:
    region = "" if source == "court" else REGION  # courts report nationally
    return [{"id_number": HERO, "region": region, **r} for r in feed]


def subject_of(engine: Engine) -> Any:
    with engine.connect() as conn:
        return conn.execute(select(Subject.id).where(Subject.id_number == HERO)).scalar_one()


def entries(engine: Engine) -> list[tuple[str, date, date | None, str | None]]:
    with engine.connect() as conn:
        found = conn.execute(select(Listing).where(Listing.subject_id == subject_of(engine)))
        return [(e.list_id, e.start_date, e.end_date, e.end_reason) for e in found]


def logged(engine: Engine) -> list[tuple[str, str]]:
    """The listing events of the hero, each with the day it names."""
    with engine.connect() as conn:
        found = conn.execute(
            select(Event.tag, Event.data)
            .where(Event.subject_id == subject_of(engine), Event.tag.like("listing.%"))
            .order_by(Event.seq)
        )
        return [(tag, data.get("start") or data["end"]) for tag, data in found]


def derived_state(engine: Engine) -> dict[str, list[Any]]:
    """Listings, score intervals and active measures as they read, without the ids a registry's
    random subject ids make differ (a redlist entry names its first score interval by id)."""
    state = snapshot(engine)
    listings = sorted((*row[:11], *row[12:]) for row in state["listings"])  # all but decision_record_id
    return {"listings": listings, "score_intervals": state["score_intervals"], "active": state["active_measures"]}


def test_a_redlist_entry_is_the_run_of_top_grade_intervals(new_engine: Callable[[], Engine], tmp_path: Path) -> None:
    engine = new_engine()
    reg = Registry(engine, tmp_path)  # 2026-11-27
    for source, feed in FEEDS:
        reg.feed(source, rows(feed, source))

    # AAA from the day the second act counts, not the day of the refresh; the end is the day the
    # first act stops counting, known now, with no job to run then
    assert entries(engine) == [(LIST, date(2026, 11, 1), date(2028, 10, 1), "grade_below_redlist")]
    assert logged(engine) == [("listing.start", "2026-11-01"), ("listing.end", "2028-10-01")]
    with engine.connect() as conn:
        entry = conn.execute(select(Listing.decision_record_id)).scalar_one()
        first = conn.execute(select(ScoreInterval.id).where(ScoreInterval.valid_from == date(2026, 11, 1))).scalar_one()
    assert as_uuid(entry) == as_uuid(first)  # the explanation leads to the interval that began the run

    reg.now = LEARNED
    source, feed = BREACH
    reg.feed(source, rows(feed, source))  # 1,010: grade A from the judgment's valid day
    assert entries(engine) == [(LIST, date(2026, 11, 1), date(2027, 3, 1), "grade_below_redlist")]
    assert logged(engine)[-1] == ("listing.end", "2027-03-01")  # the end moved: logged again
    assert len(logged(engine)) == 3
    with engine.connect() as conn:  # the grade's reward follows the same intervals as the entry

        def waived(day: date) -> tuple[str, ...]:
            return check(conn, HERO, "deposit", {}, at=datetime(day.year, day.month, day.day, 4, tzinfo=UTC)).rewards

        assert (waived(date(2027, 2, 28)), waived(date(2027, 3, 10))) == ((WAIVER,), ())

    # a rebuild over the incremental state derives the same entries: no version, no event
    before = snapshot(engine)
    written = rebuild.rebuild(engine, SCHEMES, as_of=reg.now.date(), now=reg.tick()).written
    assert (written.started, written.ended) == (0, 0)
    assert differences(before, snapshot(engine)) == {}

    # a registry that loads the same feeds and only ever rebuilds holds the same entries: their
    # dates come from the records, not from when a refresh ran
    other = new_engine()
    for number, (source, feed) in enumerate([*FEEDS, BREACH]):
        path = tmp_path / f"rebuild-only-{number}.jsonl"
        lines = [json.dumps({"id": str(uuid.uuid4()), **r}) + "\n" for r in rows(feed, source)]
        path.write_text("".join(lines), encoding="utf-8")
        load_file(other, path, mapping_for(source), now=LEARNED)
    rebuild.rebuild(other, SCHEMES, as_of=LEARNED.date(), now=LEARNED)
    assert derived_state(other) == derived_state(engine)


def test_a_check_on_a_day_in_the_entry_carries_the_reward(engine: Engine, tmp_path: Path) -> None:
    """The reward measure follows the same grade intervals: on a day inside the entry the deposit
    is waived, on the day it ends it is not, though nothing ran in between."""
    reg = Registry(engine, tmp_path)
    for source, feed in FEEDS:
        reg.feed(source, rows(feed, source))
    with engine.connect() as conn:

        def waived(day: date) -> tuple[str, ...]:
            return check(conn, HERO, "deposit", {}, at=datetime(day.year, day.month, day.day, 4, tzinfo=UTC)).rewards

        assert waived(date(2027, 6, 1)) == (WAIVER,)
        assert waived(date(2028, 9, 30)) == (WAIVER,)
        assert waived(date(2028, 10, 1)) == ()


SHIPPED = resources.files("credence.rules.rulebooks").joinpath("rongcheng-credit/1.0.yaml").read_text("utf-8")


def two_editions(second_list: str) -> dict[str, Scheme]:
    """Rongcheng 1.0 and a 2.0 from 2026-01-01 whose redlist is ``second_list``."""
    second = SHIPPED.replace('version: "1.0"', 'version: "2.0"')
    second = second.replace("effective_from: 2020-01-01", "effective_from: 2026-01-01")
    second = second.replace(f"id: {LIST}", f"id: {second_list}")
    books = [load_text(SHIPPED, file="rongcheng-1.0.yaml"), load_text(second, file="rongcheng-2.0.yaml")]
    return group(books)


SOMEONE = uuid.UUID(int=7)


def interval(version: str, grade: str, valid_from: date, valid_to: date | None) -> dict[str, Any]:
    return {
        "id": uuid.uuid5(uuid.NAMESPACE_URL, f"{version}{grade}{valid_from}"),
        "subject_id": SOMEONE,
        "scheme": "rongcheng-credit",
        "rulebook_version": version,
        "score": 1060 if grade == "AAA" else 1000,
        "grade": grade,
        "valid_from": valid_from,
        "valid_to": valid_to,
    }


HELD = [  # AAA under 1.0, AAA under 2.0, then AA: one run of grade, across the two editions
    interval("1.0", "AAA", date(2025, 2, 10), date(2026, 1, 1)),
    interval("2.0", "AAA", date(2026, 1, 1), date(2027, 1, 10)),
    interval("2.0", "AA", date(2027, 1, 10), None),
]


def spans(schemes: dict[str, Scheme], held: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    found = redlist.entries(schemes, {"rongcheng-credit": held})
    return sorted((e.list_id, e.rulebook_version, e.start_date, e.end_date, e.end_reason) for e in found)


def test_a_run_spans_editions_that_keep_the_same_list() -> None:
    [entry] = redlist.entries(two_editions(LIST), {"rongcheng-credit": HELD})
    assert (entry.list_id, entry.rulebook_version, entry.start_date, entry.end_date) == (
        LIST,
        "1.0",
        date(2025, 2, 10),
        date(2027, 1, 10),
    )
    assert entry.decision_record_id == HELD[0]["id"]  # the run's first interval
    assert entry.end_reason == "grade_below_redlist"


def test_a_run_ends_where_the_list_changes() -> None:
    assert spans(two_editions("rongcheng-exemplary"), HELD) == [
        ("rongcheng-exemplary", "2.0", date(2026, 1, 1), date(2027, 1, 10), "grade_below_redlist"),
        (LIST, "1.0", date(2025, 2, 10), date(2026, 1, 1), "grade_below_redlist"),
    ]


def test_a_gap_in_the_intervals_ends_a_run_and_an_open_interval_keeps_it_open() -> None:
    """Intervals that do not meet (the subject was out of the scheme's coverage in between) are
    two runs; a run whose last interval is open has no end. Shuffled input: order is the days'."""
    held = [
        interval("1.0", "AAA", date(2025, 7, 1), None),
        interval("1.0", "AA", date(2024, 1, 1), date(2025, 1, 1)),
        interval("1.0", "AAA", date(2025, 1, 1), date(2025, 6, 1)),
    ]
    assert spans(two_editions(LIST), held) == [
        (LIST, "1.0", date(2025, 1, 1), date(2025, 6, 1), "grade_below_redlist"),
        (LIST, "1.0", date(2025, 7, 1), None, None),
    ]
