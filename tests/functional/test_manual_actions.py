"""Two officers (issue 10, part 6): a record written by hand (a demerit, a listing decision, the
withdrawal of a record) takes effect only once a second officer of the same agency approves it.
The requester cannot approve, an officer of another agency cannot, an officer who declared a
relation to the subject can neither request nor approve; each refused attempt leaves an event and
applies nothing. A refusal needs reasons. On SQLite and PostgreSQL."""

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from credence import resolve
from credence.accounts import manual, officers
from credence.accounts.officers import AgencyRefusedError, Officer
from credence.disputes.recusals import RelatedError
from credence.dueprocess import disputes
from credence.dueprocess.explanations import explain
from credence.exc import FieldError, NotAuthorisedError
from credence.model.roles import Role, RoleRefusedError
from credence.pipeline import clock
from credence.screening.check import check
from credence.store.orm import Event, ManualAction, ManualDecision, Record
from tests.common.feeds import Registry, listed_debtor, person_id

HOME = person_id(date(1984, 4, 4), seq=321)  # registered in Suzhou (320505)
KIN = person_id(date(1986, 6, 6), seq=322)
OFFENCE = {"offence_code": "1345", "fine_yuan": 200}
DAY = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)


def registry(engine: Engine, tmp_path: Path) -> Registry:
    reg = Registry(engine, tmp_path, now=DAY)
    for number in (HOME, KIN):
        home = {"id_number": number, "kind": "residence", "date": "2018-01-01"}
        reg.feed("police", [{**home, "attrs": {"region": "320505", "status": "registered"}}])
    return reg


def staff(engine: Engine, now: datetime, agency: str = "police") -> tuple[Officer, Officer, Officer]:
    """An officer, another officer, and a second officer of ``agency``."""
    with engine.begin() as conn:
        made = [
            officers.add(
                conn, f"{agency}.{name}", agency=agency, email=f"{name}@{agency}.example", actor="t", now=now, role=role
            )
            for name, role in (("wu", Role.OFFICER), ("li", Role.OFFICER), ("zhao", Role.SECOND_OFFICER))
        ]
    return made[0], made[1], made[2]


def demerit(engine: Engine, officer: Officer, now: datetime, **given: Any) -> manual.Action:
    return manual.request(
        engine,
        officer,
        kind=given.pop("kind", "traffic_offence"),
        id_number=given.pop("id_number", HOME),
        valid_date=given.pop("valid_date", "2026-03-01"),
        jurisdiction=given.pop("jurisdiction", "320505"),
        attributes=given.pop("attributes", OFFENCE),
        legal_basis=given.pop("legal_basis", "Road Traffic Safety Law, Art. 90"),
        reason=given.pop("reason", "a ticket written on paper at the roadside, entered by hand"),
        now=now,
        **given,
    )


def suzhou(engine: Engine, reg: Registry, number: str = HOME) -> int:
    with engine.connect() as conn:
        subject = resolve.find(conn, number)
        assert subject is not None
        found = explain(conn, reg.schemes, subject, as_of=date(2026, 3, 5), known_at=reg.now)
    return next(s.score for s in found.schemes if s.scheme == "suzhou-osmanthus")


def tags(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        return list(conn.scalars(select(Event.tag).where(Event.tag.like("manual.%")).order_by(Event.seq)))


def manual_records(engine: Engine) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).where(Record.source_record_id.like("manual-%"))).scalar_one()


def test_a_demerit_by_hand_applies_only_once_a_second_officer_approves(engine: Engine, tmp_path: Path) -> None:
    reg = registry(engine, tmp_path)
    wu, li, zhao = staff(engine, reg.tick())
    action = demerit(engine, wu, reg.tick())
    assert action.state == "pending"
    assert action.receipt.startswith("M20260302-")
    assert manual_records(engine) == 0
    assert clock.tick(engine, reg.schemes, now=reg.tick()) is None  # nothing waits to be rescored
    assert suzhou(engine, reg) == 100
    for attempt in (wu, li):  # the requester, and another officer of the agency
        with pytest.raises(RoleRefusedError, match="may not approve manual action"):
            manual.decide(engine, action.id, attempt, approved=True, now=reg.tick())
    court = staff(engine, reg.tick(), agency="court")[2]
    with pytest.raises(AgencyRefusedError, match="acts for 'court', not 'police'"):
        manual.decide(engine, action.id, court, approved=True, now=reg.tick())
    assert manual_records(engine) == 0
    assert tags(engine) == ["manual.requested", "manual.denied", "manual.denied", "manual.denied"]

    decided = manual.decide(engine, action.id, zhao, approved=True, now=reg.tick())
    assert (decided.state, decided.decided_by, decided.requested_by) == ("approved", "police.zhao", "police.wu")
    assert decided.record is not None
    assert clock.tick(engine, reg.schemes, now=reg.tick()) is not None
    assert suzhou(engine, reg) == 97  # the Suzhou-style rule's -3 for a traffic offence
    with engine.connect() as conn:
        written = conn.execute(select(Record).where(Record.id == decided.record)).one()
        approved = conn.execute(select(Event.data).where(Event.tag == "manual.approved")).scalar_one()
    assert (written.source_id, written.kind, written.source_record_id) == (
        "police",
        "traffic_offence",
        f"manual-{action.receipt}",
    )
    assert approved["record_id"] == str(decided.record)
    with pytest.raises(FieldError, match="was approved already"):
        manual.decide(engine, action.id, zhao, approved=True, now=reg.tick())
    assert [a.receipt for a in _listed(engine, "police")] == [action.receipt]


def _listed(engine: Engine, agency: str) -> list[manual.Action]:
    with engine.connect() as conn:
        return manual.listed(conn, agency=agency)


def test_a_refusal_gives_reasons_and_applies_nothing(engine: Engine, tmp_path: Path) -> None:
    reg = registry(engine, tmp_path)
    wu, _li, zhao = staff(engine, reg.tick())
    action = demerit(engine, wu, reg.tick())
    with pytest.raises(FieldError, match="note: a refusal gives its reasons"):
        manual.decide(engine, action.id, zhao, approved=False, note="  ", now=reg.tick())
    refused = manual.decide(engine, action.id, zhao, approved=False, note="no ticket stub on file", now=reg.tick())
    assert (refused.state, refused.note, refused.record) == ("refused", "no ticket stub on file", None)
    assert manual_records(engine) == 0
    assert suzhou(engine, reg) == 100
    with pytest.raises(FieldError, match="was refused already"):
        manual.decide(engine, action.id, zhao, approved=True, now=reg.tick())
    pending = demerit(engine, wu, reg.tick(), reason="the second ticket")
    assert [a.state for a in _listed(engine, "police")] == ["pending", "refused"]  # pending first
    assert _listed(engine, "police")[0].id == pending.id


def test_a_declared_relation_bars_the_officer_from_requesting_and_approving(engine: Engine, tmp_path: Path) -> None:
    reg = registry(engine, tmp_path)
    wu, li, zhao = staff(engine, reg.tick())
    manual.declare_relation(engine, wu, KIN, "family", now=reg.tick())
    with pytest.raises(RelatedError, match=r"declared a relation \(family\)"):
        demerit(engine, wu, reg.tick(), id_number=KIN)
    assert manual.declare_relation(engine, zhao, HOME, "Adversary", now=reg.tick()) is not None
    action = demerit(engine, li, reg.tick())
    with pytest.raises(RelatedError, match="stand aside"):
        manual.decide(engine, action.id, zhao, approved=True, now=reg.tick())
    # a requester who declares a relation after asking: the approval is refused too
    other = demerit(engine, li, reg.tick(), id_number=KIN)
    manual.declare_relation(engine, li, KIN, "friend", now=reg.tick())
    with pytest.raises(RelatedError, match="the requesting officer declared a relation"):
        manual.decide(engine, other.id, zhao, approved=True, now=reg.tick())
    with pytest.raises(FieldError, match="relation: expected one of family"):
        manual.declare_relation(engine, li, HOME, "cousin-ish", now=reg.tick())
    assert manual_records(engine) == 0
    assert tags(engine).count("manual.denied") == 3
    with engine.connect() as conn:
        declared = list(conn.scalars(select(Event.data).where(Event.tag == "officer.relation")))
    assert sorted(d["relation"] for d in declared) == ["adversary", "family", "friend"]
    assert all(HOME not in str(d) and KIN not in str(d) for d in declared)  # no ID number in the log


def test_a_request_is_checked_as_the_agencys_feed_row(engine: Engine, tmp_path: Path) -> None:
    reg = registry(engine, tmp_path)
    wu, _li, zhao = staff(engine, reg.tick())
    with pytest.raises(NotAuthorisedError, match="source police is not authorised for defaulter_listing_decision"):
        demerit(engine, wu, reg.tick(), kind="defaulter_listing_decision", attributes={})
    with pytest.raises(NotAuthorisedError, match="not authorised for region '110101'"):
        demerit(engine, wu, reg.tick(), jurisdiction="110101")
    with pytest.raises(FieldError, match=r"attributes\.volume_ml: a traffic_offence record has no such attribute"):
        demerit(engine, wu, reg.tick(), attributes={**OFFENCE, "volume_ml": 400})
    with pytest.raises(FieldError, match="id_number"):
        demerit(engine, wu, reg.tick(), id_number=HOME[:-1] + ("0" if HOME[-1] != "0" else "1"))
    with pytest.raises(FieldError, match="valid_date"):
        demerit(engine, wu, reg.tick(), valid_date="2026-02-30")
    with pytest.raises(FieldError, match="legal_basis: name the law"):
        demerit(engine, wu, reg.tick(), legal_basis=" ")
    with pytest.raises(FieldError, match="reason: say why"):
        demerit(engine, wu, reg.tick(), reason="")
    with pytest.raises(RoleRefusedError, match="may not request manual action"):
        demerit(engine, zhao, reg.tick())  # a second officer approves; they do not ask
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(ManualAction)).scalar_one() == 0
    assert tags(engine) == ["manual.denied"] * 3  # the two out of scope, the second officer asking


def test_an_officer_never_approves_their_own_request(engine: Engine, tmp_path: Path) -> None:
    """Roles already keep requesting and approving apart; an account given both (by a mistake in
    the roles table, say) still cannot approve what it asked for."""
    reg = registry(engine, tmp_path)
    wu, _li, _zhao = staff(engine, reg.tick())
    action = demerit(engine, wu, reg.tick())
    both = Officer(wu.id, wu.name, wu.agency, Role.SECOND_OFFICER)
    with pytest.raises(manual.SelfApprovalError, match="may not approve their own request"):
        manual.decide(engine, action.id, both, approved=True, now=reg.tick())
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(ManualDecision)).scalar_one() == 0


def test_a_listing_withdrawn_by_hand_ends_once_approved(engine: Engine, tmp_path: Path) -> None:
    debtor = person_id(date(1979, 9, 9), seq=55)
    reg = listed_debtor(engine, tmp_path, debtor)
    reg.now = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
    at = reg.now + timedelta(days=1)
    with engine.connect() as conn:
        assert check(conn, debtor, "flight", at=at).outcome.value == "restricted"
        decision = conn.execute(select(Record.id).where(Record.kind == "defaulter_listing_decision")).scalar_one()
    clerk, _other, judge = staff(engine, reg.tick(), agency="court")
    action = manual.request(
        engine,
        clerk,
        kind="defaulter_listing_decision",
        retract=decision,
        legal_basis="SPC Provisions on the List of Dishonest Judgment Debtors (2017), Art. 10",
        reason="the debt was paid in full at the enforcement office on 1 March",
        now=reg.tick(),
    )
    assert (action.op, action.kind) == ("retract", "defaulter_listing_decision")
    with engine.connect() as conn:
        assert check(conn, debtor, "flight", at=at).outcome.value == "restricted"
    manual.decide(engine, action.id, judge, approved=True, now=reg.tick())
    assert clock.tick(engine, reg.schemes, now=reg.tick()) is not None
    with engine.connect() as conn:
        assert check(conn, debtor, "flight", at=at).outcome.value == "allowed"
    with pytest.raises(FieldError, match="withdrawn already"):
        manual.request(
            engine,
            clerk,
            kind="defaulter_listing_decision",
            retract=decision,
            legal_basis="x",
            reason="y",
            now=reg.tick(),
        )


def test_an_officer_related_to_the_subject_does_not_decide_their_dispute(engine: Engine, tmp_path: Path) -> None:
    debtor = person_id(date(1979, 9, 9), seq=56)
    reg = listed_debtor(engine, tmp_path, debtor)
    with engine.connect() as conn:
        subject = resolve.find(conn, debtor)
        decision = conn.execute(select(Record.id).where(Record.kind == "defaulter_listing_decision")).scalar_one()
    assert subject is not None
    filed = disputes.file(engine, subject=subject, record=decision, statement="I paid on 2 June", now=reg.tick())
    judge, other, _second = staff(engine, reg.tick(), agency="court")
    manual.declare_relation(engine, judge, debtor, "business", now=reg.tick())
    with pytest.raises(RelatedError, match=r"declared a relation \(business\)"):
        disputes.decide(
            engine,
            filed.id,
            agency="court",
            officer=judge.name,
            officer_id=judge.id,
            upheld=False,
            note="no",
            now=reg.tick(),
        )
    decided = disputes.decide(
        engine,
        filed.id,
        agency="court",
        officer=other.name,
        officer_id=other.id,
        upheld=False,
        note="unpaid",
        now=reg.tick(),
    )
    assert decided.state == "rejected"


def by(officer: Officer) -> dict[str, Any]:
    return {"agency": officer.agency, "officer": officer.name, "officer_id": officer.id}
