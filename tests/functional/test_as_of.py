"""As-of means as-of: explain() and check() at a day, as known at an instant, show only the
listings decided and in force then; an ended listing shows as ended and carries no measure."""

import json
import os
import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select

from credence.dueprocess.explanations import Explanation, explain
from credence.pipeline.update import update
from credence.screening.check import check
from credence.store.orm import Listing, Subject
from tests.common.feeds import SCHEMES, Registry, person_id

DEBTOR = person_id(date(1979, 8, 21), seq=515)
REP = person_id(date(1975, 1, 2), seq=333)
ORG = "91110000600037341L"
CASE = "(2024)苏05执415号"
COURT = "Suzhou Intermediate People's Court"
CREDENCE = Path(sys.executable).parent / "credence"


def at(day: str, hour: int = 4) -> datetime:
    """An instant on a legal day (04:00 UTC is noon in Shanghai)."""
    return datetime.fromisoformat(day).replace(hour=hour, tzinfo=UTC)


def decision(who: str = DEBTOR, *, rid: str = "DEC-1", day: str = "2024-10-15", **extra: object) -> dict[str, Any]:
    attrs = {"case_number": CASE, "court": COURT, "ground": 2, **extra}
    return {
        "id": rid,
        "id_number": who,
        "kind": "defaulter_listing_decision",
        "date": day,
        "region": "",
        "attrs": attrs,
    }


def deletion(day: str) -> dict[str, Any]:
    attrs = {"case_number": CASE, "reason": "performed"}
    return {"id": "DEL-1", "id_number": DEBTOR, "kind": "defaulter_deletion", "date": day, "region": "", "attrs": attrs}


def feed_at(reg: Registry, instant: datetime, rows: list[dict[str, Any]]) -> datetime:
    """Feed ``rows`` just after ``instant``; returns their transaction time."""
    reg.now = instant
    reg.feed("court", rows)
    return reg.now


def explained(engine: Engine, who: str, *, as_of: date, known_at: datetime) -> Explanation:
    with engine.connect() as conn:
        subject = conn.execute(select(Subject.id).where(Subject.id_number == who)).scalar_one()
        return explain(conn, SCHEMES, subject, as_of=as_of, known_at=known_at)


def flight(engine: Engine, who: str, when: datetime) -> str:
    with engine.connect() as conn:
        return check(conn, who, "flight", {}, at=when).outcome


def test_a_listing_decided_later_is_not_shown_or_applied_earlier(engine: Engine, tmp_path: Path) -> None:
    reg = Registry(engine, tmp_path)
    # the court sends its decision two weeks ahead of the day it takes effect
    feed_at(reg, at("2024-10-01"), [decision(day="2024-10-15")])
    now = at("2026-11-27")
    assert explained(engine, DEBTOR, as_of=date(2019, 1, 1), known_at=now).listings == []
    assert explained(engine, DEBTOR, as_of=date(2024, 10, 14), known_at=now).listings == []
    [listing] = explained(engine, DEBTOR, as_of=date(2024, 10, 15), known_at=now).listings
    assert (listing.start_date, listing.status) == ("2024-10-15", "in_force")
    assert {"no-flights", "no-high-speed-rail", "caller-notice"} <= {m["measure"] for m in listing.measures}
    # known since 1 October, in force from the 15th
    assert flight(engine, DEBTOR, at("2024-10-14")) == "allowed"
    assert flight(engine, DEBTOR, at("2024-10-15")) == "restricted"


def test_a_decision_recorded_later_is_not_known_before_it(engine: Engine, tmp_path: Path) -> None:
    reg = Registry(engine, tmp_path)
    recorded = feed_at(reg, at("2025-03-01"), [decision(day="2024-10-15")])  # a decision of October, sent in March
    day = date(2025, 1, 1)
    assert explained(engine, DEBTOR, as_of=day, known_at=at("2025-02-28")).listings == []
    [listing] = explained(engine, DEBTOR, as_of=day, known_at=recorded).listings
    assert listing.start_date == "2024-10-15"
    assert listing.measures
    # a gate asking on a day before the registry had the decision was told "allowed" then, and
    # asking again about that instant gives the same answer
    assert flight(engine, DEBTOR, at("2025-02-28")) == "allowed"
    assert flight(engine, DEBTOR, at("2025-03-02")) == "restricted"


def test_a_retracted_decision_still_shows_as_known_before_the_retraction(engine: Engine, tmp_path: Path) -> None:
    """The stored listings no longer hold it; the answer as known before comes from the records."""
    reg = Registry(engine, tmp_path)
    feed_at(reg, at("2024-10-16"), [decision(), decision(ORG, rid="DEC-ORG", legal_representative=REP)])
    feed_at(
        reg,
        at("2025-05-01"),
        [
            {**decision(), "retracted": True},
            {**decision(ORG, rid="DEC-ORG", legal_representative=REP), "retracted": True},
        ],
    )
    with engine.connect() as conn:
        assert conn.execute(select(Listing)).first() is None
    day, before, after = date(2025, 1, 1), at("2025-04-30"), at("2025-05-02")
    for who, role in ((DEBTOR, "subject"), (REP, "legal_representative")):
        [listing] = explained(engine, who, as_of=day, known_at=before).listings
        assert (listing.role, listing.case_number) == (role, CASE)
        assert explained(engine, who, as_of=day, known_at=after).listings == []
        assert flight(engine, who, before) == "restricted"
        assert flight(engine, who, after) == "allowed"


def test_an_ended_listing_shows_as_ended_and_carries_no_measure(engine: Engine, tmp_path: Path) -> None:
    reg = Registry(engine, tmp_path)
    feed_at(reg, at("2024-10-16"), [decision()])
    feed_at(reg, at("2025-03-02"), [deletion("2025-03-01")])
    now = at("2026-11-27")
    [during] = explained(engine, DEBTOR, as_of=date(2025, 2, 28), known_at=now).listings
    assert (during.status, during.end_date, during.end_reason) == ("in_force", "2025-03-01", "performed")
    assert "no-flights" in {m["measure"] for m in during.measures}
    [ended] = explained(engine, DEBTOR, as_of=date(2025, 3, 1), known_at=now).listings
    assert (ended.status, ended.start_date, ended.end_date, ended.end_reason) == (
        "ended",
        "2024-10-15",
        "2025-03-01",
        "performed",
    )
    assert ended.measures == []
    # as known before the deletion arrived, the listing ran on (its two-year term)
    [unaware] = explained(engine, DEBTOR, as_of=date(2025, 3, 1), known_at=at("2025-03-01", hour=12)).listings
    assert (unaware.status, unaware.end_date, unaware.end_reason) == ("in_force", "2026-10-15", "term_ended")
    assert flight(engine, DEBTOR, at("2025-03-01", hour=12)) == "restricted"
    assert flight(engine, DEBTOR, at("2025-03-02", hour=12)) == "allowed"
    with engine.connect() as conn:
        call = check(conn, DEBTOR, "phone_call", {}, at=at("2025-03-02", hour=12))
    assert call.notices == ()


def test_the_cli_explains_as_of_a_day_and_as_known_at_an_instant(engine: Engine, tmp_path: Path) -> None:
    """The issue's report, through the installed entry point."""
    reg = Registry(engine, tmp_path)
    feed_at(reg, at("2024-10-16"), [decision()])
    env = {**os.environ, "CREDENCE_DATABASE_URL": engine.url.render_as_string(hide_password=False)}

    def listings(*options: str) -> list[dict[str, Any]]:
        done = subprocess.run(  # noqa: S603 - our own entry point, fixed arguments
            [str(CREDENCE), "explain", DEBTOR, "--json", *options],
            capture_output=True,
            text=True,
            env=env,
            check=True,
            timeout=120,
        )
        found: list[dict[str, Any]] = json.loads(done.stdout)["listings"]
        return found

    assert listings("--as-of", "2019-01-01") == []
    assert listings("--as-of", "2025-01-01", "--known-at", "2020-01-01") == []
    [shown] = listings("--as-of", "2025-01-01")
    assert shown["start_date"] == "2024-10-15"
    assert shown["measures"]


def test_a_redlist_entry_counts_from_when_the_registry_wrote_it(engine: Engine, tmp_path: Path) -> None:
    """A redlist entry is derived from the stored score intervals: it is known from the refresh
    that wrote them, and its end (the day the first act stops counting) is known with it, not
    only once a refresh runs on that day."""
    hero = person_id(date(1983, 6, 1), region="371082", seq=733)

    def row(kind: str, day: str, **attrs: object) -> dict[str, Any]:
        return {"id_number": hero, "kind": kind, "date": day, "region": "371082", "attrs": attrs}

    reg = Registry(engine, tmp_path, now=at("2025-03-01"))
    reg.feed("police", [row("residence", "2015-03-01", region="371082", status="registered")])
    reg.feed("credit_office", [row("scheme_consent", "2020-02-01", scheme="rongcheng-credit", granted=True)])
    before = reg.now
    reg.feed("credit_office", [row("heroic_act", d, citation="rescue") for d in ("2025-01-10", "2025-02-10")])
    started = reg.now  # 1060 points: AAA from 10 February, the day the second act counts
    with engine.connect() as conn:
        subject = conn.execute(select(Subject.id).where(Subject.id_number == hero)).scalar_one()
    update(engine, SCHEMES, subjects=[subject], as_of=date(2027, 1, 10), now=reg.tick())  # the first act expired
    ended = reg.now

    def entries(known_at: datetime) -> list[tuple[str, str | None, str]]:
        found = explained(engine, hero, as_of=date(2027, 2, 1), known_at=known_at).listings
        return [(e.list_id, e.end_date, e.status) for e in found]

    assert entries(before) == []
    assert entries(started) == [("rongcheng-trustworthy", "2027-01-10", "ended")]
    assert entries(ended) == [("rongcheng-trustworthy", "2027-01-10", "ended")]
