"""Grace and publicity periods: where a rulebook says a listing's measures wait for the notice and
a period, the gate answers allowed until the period has run from the day the notice reached the
subject, counted in working days of the State Council's calendar (holidays and make-up workdays).
The worker dates the measures when it delivers the notice. On SQLite and PostgreSQL."""

import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import ValidationError
from sqlalchemy import Engine, select

from credence import resolve
from credence.dueprocess.channels import Mail
from credence.dueprocess.delivery import Channels
from credence.model.calendars import Calendar, CalendarError, Period
from credence.outbox import claims
from credence.pipeline.rebuild import rebuild
from credence.pipeline.worker import Plan, Totals, run
from credence.rules.loader import Scheme, group, load_text, shipped
from credence.rules.schema import TakesEffect
from credence.screening.check import check
from credence.store.orm import ActiveMeasure, PendingSubject
from tests.common.feeds import Registry, person_id
from tests.common.mail import MailCatcher, mails

DEBTOR = person_id(date(1981, 3, 9), seq=411)
SILENT = person_id(date(1975, 5, 5), seq=77)
SHIPPED = Path(__file__).parents[2] / "credence/rules/rulebooks/national-defaulters/2017.yaml"
SENDER = "notices@registry.test"
FLIGHT = ("flight", {})


def with_grace(takes_effect: dict[str, Any]) -> dict[str, Scheme]:
    """The shipped rulebooks, the defaulters' list made to wait as ``takes_effect`` says."""
    spec = yaml.safe_load(SHIPPED.read_text("utf-8"))
    spec["lists"][0]["takes_effect"] = takes_effect
    spec["version"] = "2017-grace"
    book = load_text(yaml.safe_dump(spec, allow_unicode=True), file="grace.yaml")
    others = [b for b in shipped() if b.book.scheme != spec["scheme"]]
    return group([*others, book])


PUBLICITY = with_grace({"after_notice": True, "period": {"working_days": 7, "calendar": "cn"}})


@pytest.fixture
def mail(tmp_path: Path) -> Iterator[MailCatcher]:
    with MailCatcher(tmp_path / "mail") as catcher:
        yield catcher


def contact(id_number: str) -> dict[str, Any]:
    return {"id_number": id_number, "kind": "contact", "date": "2024-01-10", "attrs": {"email": "wang@example.com"}}


def decision(id_number: str, *, on: str = "2026-02-05", ground: int = 1) -> dict[str, Any]:
    attrs = {"case_number": "(2026)苏05执12号", "court": "Suzhou Intermediate People's Court", "ground": ground}
    return {"id_number": id_number, "kind": "defaulter_listing_decision", "date": on, "attrs": attrs, "region": ""}


def shanghai(day: date, hour: int = 10) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC) - timedelta(hours=8)


def work(engine: Engine, reg: Registry, mail: MailCatcher | None, *, at: datetime) -> Totals:
    """One worker run at ``at``: deliver what is due, keep the clock, until nothing is left."""
    reg.now = at
    channels = Channels(email=Mail(mail.url, sender=SENDER) if mail else None)
    plan = Plan(poll=0.01, lease=timedelta(seconds=30), batch=50, schemes=reg.schemes)
    try:
        return run(engine, channels, stop=threading.Event(), plan=plan, clock=lambda: reg.now, once=True)
    finally:
        channels.close()


def flights(engine: Engine, id_number: str, day: date) -> str:
    with engine.connect() as conn:
        return check(conn, id_number, *FLIGHT, at=shanghai(day, 12)).outcome.value


def measures_of(engine: Engine, id_number: str) -> set[tuple[str, date, date | None]]:
    with engine.connect() as conn:
        subject = resolve.find(conn, id_number)
        rows = conn.execute(
            select(ActiveMeasure.measure_id, ActiveMeasure.valid_from, ActiveMeasure.valid_to).where(
                ActiveMeasure.subject_id == subject
            )
        )
        return {tuple(r) for r in rows}  # type: ignore[misc]


def test_the_publicity_period_runs_seven_working_days_across_the_spring_festival_from_the_notice(
    engine: Engine, tmp_path: Path, mail: MailCatcher
) -> None:
    reg = Registry(engine, tmp_path, now=shanghai(date(2026, 2, 5)), schemes=PUBLICITY)
    reg.feed("police", [contact(DEBTOR)])
    reg.feed("court", [decision(DEBTOR)])
    assert measures_of(engine, DEBTOR) == set()  # decided and listed, nothing applied yet
    assert flights(engine, DEBTOR, date(2026, 2, 12)) == "allowed"

    # the notice reaches him on Friday 13 February 2026: working days after it are Saturday 14
    # (a make-up workday), then, after the holiday of 15 to 23 February, 24, 25, 26, 27, Saturday
    # 28 (a make-up workday) and Monday 2 March: the ban applies from Tuesday 3 March
    totals = work(engine, reg, mail, at=shanghai(date(2026, 2, 13)))
    assert totals.refreshed == 1
    starts = {valid_from for _, valid_from, _ in measures_of(engine, DEBTOR)}
    assert starts == {date(2026, 3, 3)}
    assert flights(engine, DEBTOR, date(2026, 3, 2)) == "allowed"
    assert flights(engine, DEBTOR, date(2026, 3, 3)) == "restricted"

    # the subject is told the day it starts, in a notice the same worker run delivered
    applied = [m for m in mails(mail.folder) if "2026-03-03" in m.body]
    assert applied, [m.subject for m in mails(mail.folder)]
    with engine.connect() as conn:
        assert conn.execute(select(PendingSubject)).first() is None
        subject = resolve.find(conn, DEBTOR)
        assert subject is not None
        assert {n.state for n in claims.told(conn, subject)} == {"delivered"}


def test_a_rebuild_dates_the_measures_as_the_worker_did(engine: Engine, tmp_path: Path, mail: MailCatcher) -> None:
    reg = Registry(engine, tmp_path, now=shanghai(date(2026, 2, 5)), schemes=PUBLICITY)
    reg.feed("police", [contact(DEBTOR)])
    reg.feed("court", [decision(DEBTOR)])
    work(engine, reg, mail, at=shanghai(date(2026, 2, 13)))
    before = measures_of(engine, DEBTOR)
    rebuild(engine, PUBLICITY, as_of=date(2026, 2, 13), now=reg.tick())
    assert measures_of(engine, DEBTOR) == before
    assert {valid_from for _, valid_from, _ in before} == {date(2026, 3, 3)}


def test_a_subject_no_notice_can_reach_is_not_restricted_until_one_does(
    engine: Engine, tmp_path: Path, mail: MailCatcher
) -> None:
    reg = Registry(engine, tmp_path, now=shanghai(date(2026, 2, 5)), schemes=PUBLICITY)
    reg.feed("court", [decision(SILENT)])
    totals = work(engine, reg, mail, at=shanghai(date(2026, 2, 6)))
    assert totals.unreachable >= 1
    assert measures_of(engine, SILENT) == set()
    assert flights(engine, SILENT, date(2026, 6, 1)) == "allowed"  # the rulebook says the measure waits

    reg.now = shanghai(date(2026, 4, 1))
    reg.feed("police", [contact(SILENT)])  # the contact arrives: the notice goes on Wednesday 1 April
    work(engine, reg, mail, at=shanghai(date(2026, 4, 1), 11))
    # 2, 3 April, then Qingming (4 to 6 April), then 7, 8, 9, 10 and 13 April
    assert {valid_from for _, valid_from, _ in measures_of(engine, SILENT)} == {date(2026, 4, 14)}


def test_a_rulebook_that_proceeds_counts_from_the_decision_when_no_one_can_be_told(
    engine: Engine, tmp_path: Path, mail: MailCatcher
) -> None:
    proceeds = with_grace({"after_notice": True, "unreachable": "proceed", "period": {"months": 1}})
    reg = Registry(engine, tmp_path, now=shanghai(date(2026, 2, 5)), schemes=proceeds)
    reg.feed("court", [decision(SILENT, on="2026-01-31")])
    work(engine, reg, mail, at=shanghai(date(2026, 2, 6)))
    # a month from 31 January ends on 28 February: the measures apply from 1 March
    assert {valid_from for _, valid_from, _ in measures_of(engine, SILENT)} == {date(2026, 3, 1)}


def test_a_term_counted_from_the_effect_moves_the_end_with_it(
    engine: Engine, tmp_path: Path, mail: MailCatcher
) -> None:
    later = with_grace({"after_notice": True, "period": {"days": 10}, "term_from": "effect"})
    reg = Registry(engine, tmp_path, now=shanghai(date(2026, 3, 2)), schemes=later)
    reg.feed("police", [contact(DEBTOR)])
    reg.feed("court", [decision(DEBTOR, on="2026-03-02", ground=2)])  # ground 2: two years
    work(engine, reg, mail, at=shanghai(date(2026, 3, 5)))
    assert {(f, t) for _, f, t in measures_of(engine, DEBTOR)} == {(date(2026, 3, 16), date(2028, 3, 16))}


def test_a_listing_without_a_period_applies_from_its_decision_day_and_waits_for_nothing(
    engine: Engine, tmp_path: Path, mail: MailCatcher
) -> None:
    reg = Registry(engine, tmp_path, now=shanghai(date(2026, 2, 5)))  # the shipped rulebook
    reg.feed("police", [contact(DEBTOR)])
    reg.feed("court", [decision(DEBTOR)])
    assert {valid_from for _, valid_from, _ in measures_of(engine, DEBTOR)} == {date(2026, 2, 5)}
    totals = work(engine, reg, mail, at=shanghai(date(2026, 2, 6)))
    assert totals.refreshed == 0
    assert totals.delivered >= 2


def test_a_period_past_the_calendars_last_year_is_refused_and_the_measure_waits(
    engine: Engine, tmp_path: Path, mail: MailCatcher
) -> None:
    last = chinese_calendar_last_year()
    reg = Registry(engine, tmp_path, now=shanghai(date(last, 12, 20)), schemes=PUBLICITY)
    reg.feed("police", [contact(DEBTOR)])
    reg.feed("court", [decision(DEBTOR, on=f"{last}-12-20")])
    work(engine, reg, mail, at=shanghai(date(last, 12, 28)))
    assert measures_of(engine, DEBTOR) == set()
    assert flights(engine, DEBTOR, date(last + 1, 3, 1)) == "allowed"


def chinese_calendar_last_year() -> int:
    year = 2026
    while True:
        try:
            Period(working_days=1, calendar=Calendar.CN).last_day(date(year + 1, 6, 1))
        except CalendarError:
            return year
        year += 1


def test_working_days_count_make_up_saturdays_and_skip_the_holiday() -> None:
    seven = Period(working_days=7, calendar=Calendar.CN)
    assert seven.first_day_after(date(2026, 2, 13)) == date(2026, 3, 3)
    assert seven.first_day_after(date(2026, 2, 14)) == date(2026, 3, 4)  # told on a make-up Saturday: from the 15th
    assert Period(working_days=1, calendar=Calendar.CN).last_day(date(2026, 2, 27)) == date(2026, 2, 28)
    assert Period(months=1).last_day(date(2026, 1, 31)) == date(2026, 2, 28)
    assert Period(days=30).last_day(date(2026, 1, 31)) == date(2026, 3, 2)
    with pytest.raises(CalendarError, match="2003"):
        seven.last_day(date(2003, 6, 1))


@pytest.mark.parametrize(
    ("given", "says"),
    [
        ({"period": {"working_days": 7}}, "need a calendar"),
        ({"period": {"days": 3, "months": 1}}, "exactly one of"),
        ({"period": {}}, "exactly one of"),
        ({"period": {"working_days": 7, "calendar": "gregorian"}}, "calendar"),
        ({"period": {"days": 3, "calendar": "cn"}}, "only counts working_days"),
        ({"after_notice": False}, "needs a period"),
        ({"period": {"days": -1}}, "greater than or equal to 0"),
        ({"unreachable": "maybe"}, "unreachable"),
    ],
)
def test_a_takes_effect_the_law_cannot_read_is_refused_at_load(given: dict[str, Any], says: str) -> None:
    with pytest.raises(ValidationError, match=says):
        TakesEffect.model_validate(given)


def test_the_listing_notice_says_the_measures_wait_and_for_how_long(
    engine: Engine, tmp_path: Path, mail: MailCatcher
) -> None:
    reg = Registry(engine, tmp_path, now=shanghai(date(2026, 2, 5)), schemes=PUBLICITY)
    reg.feed("police", [contact(DEBTOR)])
    reg.feed("court", [decision(DEBTOR)])
    work(engine, reg, mail, at=shanghai(date(2026, 2, 13)))
    listing = next(m for m in mails(mail.folder) if "列入名单" in m.subject)
    assert "7个工作日" in listing.body
    assert "They apply from the day after 7 working days have passed since the day this notice reaches you" in (
        " ".join(listing.body.split())
    )


def ban(id_number: str, *, on: str = "2026-02-05") -> dict[str, Any]:
    attrs = {"case_number": "民航(2026)12号", "authority": "CAAC East China Regional Administration", "ground": 4}
    return {"id_number": id_number, "kind": "flight_ban_decision", "date": on, "attrs": attrs, "region": ""}


def test_a_flight_ban_lasts_a_year_from_the_end_of_its_publicity_period(
    engine: Engine, tmp_path: Path, mail: MailCatcher
) -> None:
    reg = Registry(engine, tmp_path, now=shanghai(date(2026, 2, 5)))  # the shipped civil-aviation-bans
    reg.feed("police", [contact(DEBTOR)])
    reg.feed("caac", [ban(DEBTOR)])
    assert flights(engine, DEBTOR, date(2026, 2, 12)) == "allowed"
    work(engine, reg, mail, at=shanghai(date(2026, 2, 13)))
    assert measures_of(engine, DEBTOR) == {("no-flights-conduct", date(2026, 3, 3), date(2027, 3, 3))}
    assert flights(engine, DEBTOR, date(2026, 3, 3)) == "restricted"


def test_an_objection_upheld_in_the_publicity_period_means_no_ban_at_all(
    engine: Engine, tmp_path: Path, mail: MailCatcher
) -> None:
    reg = Registry(engine, tmp_path, now=shanghai(date(2026, 2, 5)))
    reg.feed("police", [contact(DEBTOR)])
    reg.feed("caac", [ban(DEBTOR)])
    work(engine, reg, mail, at=shanghai(date(2026, 2, 13)))
    revoked = {"case_number": "民航(2026)12号", "reason": "objection_upheld"}
    reg.feed("caac", [{"id_number": DEBTOR, "kind": "flight_ban_revocation", "date": "2026-02-26", "attrs": revoked}])
    assert measures_of(engine, DEBTOR) == set()
    assert flights(engine, DEBTOR, date(2026, 3, 3)) == "allowed"
