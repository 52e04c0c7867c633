"""Disputes: a subject disputes a record about them and gets a receipt; the record's agency
answers by its rulebook's deadline; an upheld dispute writes the correction record, a rejected
one leaves the record standing, and one left unanswered makes the record lose its effect the day
after the deadline, with nothing run on that day. On SQLite and PostgreSQL."""

import json
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import Engine, select

from credence import resolve
from credence.disputes import evidence, rows
from credence.disputes.rows import Filed
from credence.dueprocess import disputes
from credence.dueprocess.disputes import Correction
from credence.exc import FieldError, NotAuthorisedError
from credence.pipeline import clock
from credence.rules.loader import Scheme, group, load_text, shipped
from credence.screening.check import check
from credence.store.orm import Event, Notice, Record
from tests.common.feeds import Registry, person_id
from tests.common.gate import credence

DEBTOR = person_id(date(1981, 3, 9), seq=411)
OTHER = person_id(date(1990, 7, 1), seq=12)
SHIPPED = Path(__file__).parents[2] / "credence/rules/rulebooks/national-defaulters/2017.yaml"
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def suspending() -> dict[str, Scheme]:
    """The shipped rulebooks, a dispute of a defaulter's listing suspending it meanwhile (a
    GDPR-style restriction of use while the accuracy is contested, Art. 18(1)(a))."""
    spec = yaml.safe_load(SHIPPED.read_text("utf-8"))
    spec["disputes"] = {"answer_within": {"days": 30}, "suspends": True}
    spec["version"] = "2017-gdpr"
    book = load_text(yaml.safe_dump(spec, allow_unicode=True), file="gdpr-style.yaml")
    return group([*[b for b in shipped() if b.book.scheme != spec["scheme"]], book])


def shanghai(day: date, hour: int = 10) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC) - timedelta(hours=8)


def decision(id_number: str) -> dict[str, Any]:
    attrs = {"case_number": "(2026)苏05执77号", "court": "Suzhou Intermediate People's Court", "ground": 1}
    return {"id_number": id_number, "kind": "defaulter_listing_decision", "date": "2026-03-02", "attrs": attrs}


def listed(engine: Engine, tmp_path: Path, schemes: dict[str, Scheme] | None = None) -> tuple[Registry, Any, Any]:
    reg = Registry(engine, tmp_path, now=shanghai(date(2026, 3, 2)), schemes=schemes)
    reg.feed("court", [{**decision(DEBTOR), "region": ""}])
    with engine.connect() as conn:
        subject = resolve.find(conn, DEBTOR)
        record = conn.execute(select(Record.id).where(Record.subject_id == subject)).scalar_one()
    return reg, subject, record


def flights(engine: Engine, day: date) -> str:
    with engine.connect() as conn:
        return check(conn, DEBTOR, "flight", at=shanghai(day, 12)).outcome.value


def refresh(engine: Engine, reg: Registry) -> None:
    """What the worker's clock does after a dispute's step."""
    assert clock.tick(engine, reg.schemes, now=reg.tick()) is not None


def dispute(engine: Engine, reg: Registry, subject: Any, record: Any, **given: Any) -> Filed:
    filed = disputes.file(
        engine,
        subject=subject,
        record=record,
        statement=given.pop("statement", "I paid the judgment debt on 1 March; the receipt is attached."),
        evidence=given.pop("evidence", [PDF]),
        now=reg.tick(),
        schemes=reg.schemes,
    )
    refresh(engine, reg)
    return filed


def test_a_dispute_is_received_with_a_receipt_and_the_courts_deadline(engine: Engine, tmp_path: Path) -> None:
    reg, subject, record = listed(engine, tmp_path)
    filed = dispute(engine, reg, subject, record)
    assert filed.receipt.startswith("D20260302-")
    assert filed.respond_by == date(2026, 3, 17)  # the court reviews within 15 days (Art. 12)
    assert filed.source == "court"
    assert not filed.suspends
    with engine.connect() as conn:
        kinds = Counter(conn.scalars(select(Notice.kind).where(Notice.subject_id == subject)))
        logged = conn.execute(select(Event.data).where(Event.tag == "dispute.filed")).scalar_one()
    assert kinds["dispute_filed"] == 1
    assert logged["receipt"] == filed.receipt
    assert logged["evidence"] == [evidence.checked([PDF])[0].sha256]
    assert DEBTOR not in str(logged)


def test_an_unanswered_dispute_ends_the_measures_the_day_after_its_deadline(engine: Engine, tmp_path: Path) -> None:
    reg, subject, record = listed(engine, tmp_path)
    assert flights(engine, date(2026, 3, 5)) == "restricted"
    dispute(engine, reg, subject, record)
    # the court's review does not suspend the listing: restricted until the deadline, inclusive
    assert flights(engine, date(2026, 3, 5)) == "restricted"
    assert flights(engine, date(2026, 3, 17)) == "restricted"
    # nothing runs on the 18th: the measure's interval was given its end when the dispute was filed
    assert flights(engine, date(2026, 3, 18)) == "allowed"

    late = shanghai(date(2026, 3, 18))
    filed = next(iter(disputes_of(engine, subject)))
    with pytest.raises(FieldError, match="lapsed: its deadline was 2026-03-17"):
        disputes.decide(engine, filed.id, agency="court", officer="judge.li", upheld=False, now=late)


def test_a_rejected_dispute_leaves_the_record_standing(engine: Engine, tmp_path: Path) -> None:
    reg, subject, record = listed(engine, tmp_path)
    filed = dispute(engine, reg, subject, record)
    decided = disputes.decide(
        engine, filed.id, agency="court", officer="judge.li", upheld=False, note="No payment received.", now=reg.tick()
    )
    refresh(engine, reg)
    assert decided.state == "rejected"
    assert flights(engine, date(2026, 3, 18)) == "restricted"  # no lapse: it was answered in time
    with engine.connect() as conn:
        kinds = Counter(conn.scalars(select(Notice.kind).where(Notice.subject_id == subject)))
    assert kinds["dispute_decided"] == 1


def test_an_upheld_dispute_retracts_the_record_as_a_new_version_and_lifts_the_measures(
    engine: Engine, tmp_path: Path
) -> None:
    reg, subject, record = listed(engine, tmp_path)
    filed = dispute(engine, reg, subject, record)
    decided = disputes.decide(
        engine,
        filed.id,
        agency="court",
        officer="judge.li",
        upheld=True,
        note="Paid on 1 March; listed in error.",
        correction=Correction(retract=True),
        now=reg.tick(),
    )
    refresh(engine, reg)
    assert decided.state == "upheld"
    assert flights(engine, date(2026, 3, 5)) == "allowed"
    with engine.connect() as conn:
        versions = conn.execute(
            select(Record.id, Record.version, Record.op, Record.recorded_at).where(
                Record.subject_id == subject, Record.source_id == "court"
            )
        ).all()
    assert sorted((v.version, v.op) for v in versions) == [(1, "assert"), (2, "retract")]  # history kept
    assert {v.id for v in versions if v.version == 2} == {decided.correction}
    first, second = sorted(versions, key=lambda v: v.version)
    assert second.recorded_at > first.recorded_at  # a new transaction time


def test_an_upheld_dispute_may_amend_an_attribute(engine: Engine, tmp_path: Path) -> None:
    reg, subject, record = listed(engine, tmp_path)
    filed = dispute(engine, reg, subject, record)
    fixed = Correction(attributes={"case_number": "(2026)苏05执78号"})
    decided = disputes.decide(
        engine, filed.id, agency="court", officer="judge.li", upheld=True, correction=fixed, now=reg.tick()
    )
    with engine.connect() as conn:
        amended = conn.execute(select(Record).where(Record.id == decided.correction)).one()
    assert amended.attributes["case_number"] == "(2026)苏05执78号"
    assert amended.version == 2
    again = dispute(engine, reg, subject, amended.id)
    with pytest.raises(FieldError, match=r"correction\.attributes\.colour"):
        disputes.decide(
            engine,
            again.id,
            agency="court",
            officer="judge.li",
            upheld=True,
            correction=Correction(attributes={"colour": "red"}),
            now=reg.tick(),
        )


def test_a_rulebook_that_suspends_the_record_allows_at_once(engine: Engine, tmp_path: Path) -> None:
    reg, subject, record = listed(engine, tmp_path, schemes=suspending())
    assert flights(engine, date(2026, 3, 2)) == "restricted"
    filed = dispute(engine, reg, subject, record)
    assert filed.suspends
    assert flights(engine, date(2026, 3, 2)) == "allowed"
    disputes.decide(engine, filed.id, agency="court", officer="judge.li", upheld=False, now=reg.tick())
    refresh(engine, reg)
    assert flights(engine, date(2026, 3, 3)) == "restricted"  # rejected: the restriction is back


def test_what_a_dispute_refuses(engine: Engine, tmp_path: Path) -> None:
    reg, subject, record = listed(engine, tmp_path)
    other = Registry(engine, tmp_path, now=reg.tick())
    other.feed("court", [{**decision(OTHER), "region": ""}])
    with engine.connect() as conn:
        stranger = resolve.find(conn, OTHER)
    with pytest.raises(FieldError, match="record_id: no record about you has this id"):
        dispute(engine, reg, stranger, record)  # another's record: the same answer as none
    with pytest.raises(FieldError, match="record_id: no record about you has this id"):
        dispute(engine, reg, subject, stranger)
    with pytest.raises(FieldError, match="statement: say what is wrong"):
        dispute(engine, reg, subject, record, statement="   ")
    with pytest.raises(FieldError, match=r"evidence\[0\]: content of no known type"):
        dispute(engine, reg, subject, record, evidence=[b"just some text, not a document"])
    with pytest.raises(FieldError, match=r"evidence\[1\]: .*at most 10 MiB per file"):
        dispute(engine, reg, subject, record, evidence=[PNG, PDF + b"0" * (10 * 1024 * 1024)])
    with pytest.raises(FieldError, match="at most 5 files"):
        dispute(engine, reg, subject, record, evidence=[PDF] * 6)

    filed = dispute(engine, reg, subject, record, evidence=[PNG])
    with pytest.raises(FieldError, match=f"open already \\(receipt {filed.receipt}\\)"):
        dispute(engine, reg, subject, record)
    with pytest.raises(NotAuthorisedError, match="is for agency court; you act for police"):
        disputes.decide(engine, filed.id, agency="police", officer="officer.wu", upheld=False, now=reg.tick())
    with pytest.raises(FieldError, match="says what it corrects"):
        disputes.decide(engine, filed.id, agency="court", officer="judge.li", upheld=True, now=reg.tick())
    disputes.decide(engine, filed.id, agency="court", officer="judge.li", upheld=False, now=reg.tick())
    with pytest.raises(FieldError, match="is closed \\(rejected on 2026-03-02\\)"):
        disputes.decide(engine, filed.id, agency="court", officer="judge.li", upheld=False, now=reg.tick())
    with engine.connect() as conn:
        assert conn.execute(select(Event.tag).where(Event.tag == "dispute.decided")).all() == [("dispute.decided",)]


def disputes_of(engine: Engine, subject: Any) -> list[Filed]:
    with engine.connect() as conn:
        return rows.listed(conn, subject=subject)


def test_credence_disputes_list_shows_an_agency_its_disputes_without_personal_data(
    engine: Engine, tmp_path: Path
) -> None:
    reg, subject, record = listed(engine, tmp_path)
    filed = dispute(engine, reg, subject, record)
    shown = json.loads(credence(engine, "disputes", "list", "--agency", "court", "--json").stdout)
    assert [(d["receipt"], d["agency"], d["respond_by"], d["subject"]) for d in shown] == [
        (filed.receipt, "court", "2026-03-17", str(subject))
    ]
    table = credence(engine, "disputes", "list", "--subject", DEBTOR).stdout
    assert filed.receipt in table
    assert DEBTOR not in table
    assert json.loads(credence(engine, "disputes", "list", "--agency", "police", "--json").stdout) == []
    refused = credence(engine, "disputes", "list", check=False)
    assert refused.returncode == 2
    assert "name one of --agency or --subject" in refused.stderr
