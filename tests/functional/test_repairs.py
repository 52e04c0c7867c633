"""Credit repair: a resident applies for repair of an adverse record once the rule's minimum
period has run, and gets a receipt; the reporting agency's officer grants it (every condition
confirmed) and the record stops counting from that day, the history keeping what was known
before; or refuses with reasons, and the record counts on. Too early, too late, no repair clause,
someone else's record, a second application, another agency's officer: each refused, naming why.
On SQLite and PostgreSQL."""

from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import Engine, select

from credence import resolve
from credence.disputes.repairs import Application
from credence.dueprocess import disputes, repairs
from credence.dueprocess.explanations import explain
from credence.exc import FieldError, NotAuthorisedError
from credence.pipeline import clock
from credence.rules.loader import Scheme, group, load_text, shipped
from credence.store.orm import Event, Notice, Record
from tests.common.feeds import Registry, person_id
from tests.common.histories import PEOPLE

SUZHOU = Path(__file__).parents[2] / "credence/rules/rulebooks/suzhou-osmanthus/1.0.yaml"
HOME = PEOPLE[0]  # registered in Suzhou (320505) since 2018
OTHER = person_id(date(1990, 7, 1), seq=12)
CONDITIONS = ["arrears and late fees paid"]  # the Suzhou-style rule tax-arrears


def shanghai(day: date, hour: int = 10) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC) - timedelta(hours=8)


def resident(
    engine: Engine, tmp_path: Path, *, on: date, schemes: dict[str, Scheme] | None = None
) -> tuple[Registry, Any, dict[str, Any]]:
    """HOME with tax arrears of 2024-03-01 (-5 for three years, repairable after one), a traffic
    offence of 2023-01-10 (expired 2024-01-10) and a listing decision (no repair clause); the
    registry's clock on ``on``."""
    reg = Registry(engine, tmp_path, now=shanghai(date(2024, 3, 1)), schemes=schemes)
    home = {"id_number": HOME, "kind": "residence", "date": "2018-01-01", "attrs": {"region": "320505"}}
    reg.feed("police", [{**home, "attrs": {"region": "320505", "status": "registered"}}])
    reg.feed(
        "tax",
        [
            {
                "id": "tax-1",
                "id_number": HOME,
                "kind": "tax_arrears",
                "date": "2024-03-01",
                "attrs": {"amount_yuan": 900},
            }
        ],
    )
    offence = {"offence_code": "1345"}
    reg.feed(
        "police",
        [{"id": "traffic-1", "id_number": HOME, "kind": "traffic_offence", "date": "2023-01-10", "attrs": offence}],
    )
    court = {"case_number": "(2024)苏05执9号", "court": "Suzhou Intermediate People's Court", "ground": 1}
    reg.feed(
        "court",
        [
            {
                "id": "court-1",
                "id_number": HOME,
                "kind": "defaulter_listing_decision",
                "date": "2024-03-01",
                "attrs": court,
                "region": "",
            }
        ],
    )
    reg.feed(
        "police",
        [{"id": "other-1", "id_number": OTHER, "kind": "traffic_offence", "date": "2024-03-01", "attrs": offence}],
    )
    reg.now = shanghai(on)
    with engine.connect() as conn:
        subject = resolve.find(conn, HOME)
        ids = {r.source_record_id: r.id for r in conn.execute(select(Record.source_record_id, Record.id))}
    return reg, subject, ids


def apply(engine: Engine, reg: Registry, subject: Any, record: Any, **given: Any) -> Application:
    return repairs.file(
        engine,
        subject=subject,
        record=record,
        statement=given.pop(
            "statement", "I paid the arrears and the late fees on 2 June; the tax receipt is attached."
        ),
        now=reg.tick(),
        schemes=reg.schemes,
    )


def suzhou_score(
    engine: Engine, reg: Registry, subject: Any, day: date, *, known_at: datetime | None = None
) -> tuple[int, list[str]]:
    with engine.connect() as conn:
        found = explain(conn, reg.schemes, subject, as_of=day, known_at=known_at or reg.now)
    scheme = next(s for s in found.schemes if s.scheme == "suzhou-osmanthus")
    return scheme.score, [line.source_record_id for line in scheme.lines]


def test_a_granted_repair_stops_the_record_counting_from_that_day(engine: Engine, tmp_path: Path) -> None:
    reg, subject, ids = resident(engine, tmp_path, on=date(2025, 6, 10))
    application = apply(engine, reg, subject, ids["tax-1"])
    assert application.receipt.startswith("R20250610-")
    assert application.respond_by == date(2025, 6, 25)  # 15 days, the rule's default
    assert (application.source, application.scheme, application.rule) == ("tax", "suzhou-osmanthus", "tax-arrears")
    with pytest.raises(FieldError, match="open already"):
        apply(engine, reg, subject, ids["tax-1"])
    with pytest.raises(NotAuthorisedError, match="for agency tax"):
        repairs.decide(
            engine,
            application.id,
            agency="police",
            officer="officer.wu",
            granted=True,
            confirmed=CONDITIONS,
            now=reg.tick(),
        )
    with pytest.raises(FieldError, match="missing: arrears and late fees paid"):
        repairs.decide(engine, application.id, agency="tax", officer="officer.wang", granted=True, now=reg.tick())
    before = reg.now
    decided = repairs.decide(
        engine, application.id, agency="tax", officer="officer.wang", granted=True, confirmed=CONDITIONS, now=reg.tick()
    )
    assert clock.tick(engine, reg.schemes, now=reg.tick()) is not None  # the worker rescores the subject
    assert decided.state == "granted"
    assert decided.repair_record is not None
    assert suzhou_score(engine, reg, subject, date(2025, 6, 11)) == (100, [])
    assert suzhou_score(engine, reg, subject, date(2025, 6, 9)) == (95, ["tax-1"])  # before the repair
    assert suzhou_score(engine, reg, subject, date(2025, 6, 11), known_at=before) == (95, ["tax-1"])  # as known then
    with engine.connect() as conn:
        repair = conn.execute(select(Record).where(Record.id == decided.repair_record)).one()
        kinds = Counter(conn.scalars(select(Notice.kind).where(Notice.subject_id == subject)))
        logged = conn.execute(select(Event.data).where(Event.tag == "repair.decided")).scalar_one()
    assert (repair.source_id, repair.kind, repair.valid_date) == ("tax", "credit_repair", date(2025, 6, 10))
    assert repair.attributes == {"repaired_record": "tax-1", "application": application.receipt}
    assert kinds["repair_filed"] == 1
    assert kinds["repair_decided"] == 1
    assert kinds["score"] >= 1  # the new score, told in its own notice
    assert logged["outcome"] == "granted"
    assert logged["confirmed"] == CONDITIONS
    assert HOME not in str(logged)
    with pytest.raises(FieldError, match="repaired already"):
        apply(engine, reg, subject, ids["tax-1"])


def test_a_refusal_gives_reasons_and_the_record_counts_on(engine: Engine, tmp_path: Path) -> None:
    reg, subject, ids = resident(engine, tmp_path, on=date(2025, 6, 10))
    application = apply(engine, reg, subject, ids["tax-1"])
    with pytest.raises(FieldError, match="reasons"):
        repairs.decide(engine, application.id, agency="tax", officer="officer.wang", granted=False, now=reg.tick())
    decided = repairs.decide(
        engine,
        application.id,
        agency="tax",
        officer="officer.wang",
        granted=False,
        note="Late fees unpaid.",
        now=reg.tick(),
    )
    assert decided.state == "refused"
    assert decided.note == "Late fees unpaid."
    assert suzhou_score(engine, reg, subject, date(2025, 7, 1)) == (95, ["tax-1"])
    with pytest.raises(FieldError, match="closed"):
        repairs.decide(
            engine,
            application.id,
            agency="tax",
            officer="officer.wang",
            granted=True,
            confirmed=CONDITIONS,
            now=reg.tick(),
        )
    assert apply(engine, reg, subject, ids["tax-1"]).state == "open"  # a new application, once refused


@pytest.mark.parametrize(
    ("record", "on", "refusal"),
    [
        ("tax-1", date(2024, 12, 1), "from 2025-03-01, the end of the rule's minimum period"),
        ("traffic-1", date(2024, 6, 1), "stopped counting on 2024-01-10"),
        ("court-1", date(2025, 6, 1), "no rulebook provides credit repair for a defaulter_listing_decision record"),
        ("other-1", date(2025, 6, 1), "no record about you has this id"),
    ],
)
def test_an_application_the_rulebook_does_not_allow_is_refused(
    engine: Engine, tmp_path: Path, record: str, on: date, refusal: str
) -> None:
    reg, subject, ids = resident(engine, tmp_path, on=on)
    with pytest.raises(FieldError, match=refusal):
        apply(engine, reg, subject, ids[record])
    with engine.connect() as conn:
        assert conn.execute(select(Event.seq).where(Event.tag == "repair.filed")).first() is None


def test_a_disputed_score_record_follows_its_dispute(engine: Engine, tmp_path: Path) -> None:
    """Scores follow a dispute as measures do. Under a rulebook whose disputes suspend the
    record, tax arrears stop counting the day the dispute is filed and count again from the
    day it is rejected; under the shipped ones (no suspension), an unanswered dispute makes the
    record stop counting the day after its deadline, and an answer in time undoes that."""
    reg, subject, ids = resident(engine, tmp_path, on=date(2025, 6, 10))
    filed = disputes.file(
        engine, subject=subject, record=ids["tax-1"], statement="Not my debt.", now=reg.tick(), schemes=reg.schemes
    )
    assert clock.tick(engine, reg.schemes, now=reg.tick()) is not None
    assert filed.respond_by == date(2025, 7, 10)  # 30 days by default: no rulebook sets the tax bureau's
    assert suzhou_score(engine, reg, subject, date(2025, 7, 10)) == (95, ["tax-1"])
    assert suzhou_score(engine, reg, subject, date(2025, 7, 11)) == (100, [])  # lapsed, if unanswered
    reg.now = shanghai(date(2025, 6, 20))
    disputes.decide(engine, filed.id, agency="tax", officer="officer.wang", upheld=False, note="It is.", now=reg.tick())
    assert clock.tick(engine, reg.schemes, now=reg.tick()) is not None
    assert suzhou_score(engine, reg, subject, date(2025, 7, 11)) == (95, ["tax-1"])  # answered in time


def suspending_suzhou() -> dict[str, Scheme]:
    """The shipped rulebooks, the Suzhou-style one's disputes suspending the disputed record."""
    spec = yaml.safe_load(SUZHOU.read_text("utf-8"))
    spec["disputes"] = {"answer_within": {"days": 30}, "suspends": True}
    spec["version"] = "1.0-suspending"
    book = load_text(yaml.safe_dump(spec, allow_unicode=True), file="suspending.yaml")
    return group([*[b for b in shipped() if b.book.scheme != spec["scheme"]], book])


def test_a_suspending_dispute_stops_the_count_from_filing_until_its_answer(engine: Engine, tmp_path: Path) -> None:
    reg, subject, ids = resident(engine, tmp_path, on=date(2025, 6, 10), schemes=suspending_suzhou())
    filed = disputes.file(
        engine, subject=subject, record=ids["tax-1"], statement="Not my debt.", now=reg.tick(), schemes=reg.schemes
    )
    assert filed.suspends
    assert clock.tick(engine, reg.schemes, now=reg.tick()) is not None
    assert suzhou_score(engine, reg, subject, date(2025, 6, 9)) == (95, ["tax-1"])
    assert suzhou_score(engine, reg, subject, date(2025, 6, 10)) == (100, [])  # suspended from filing
    reg.now = shanghai(date(2025, 6, 20))
    disputes.decide(engine, filed.id, agency="tax", officer="officer.wang", upheld=False, note="It is.", now=reg.tick())
    assert clock.tick(engine, reg.schemes, now=reg.tick()) is not None
    assert suzhou_score(engine, reg, subject, date(2025, 6, 19)) == (100, [])  # the window stays in the history
    assert suzhou_score(engine, reg, subject, date(2025, 6, 20)) == (95, ["tax-1"])  # counts again once rejected
