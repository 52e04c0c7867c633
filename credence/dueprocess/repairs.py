"""Credit repair: a subject applies for repair of an adverse record once the rulebook's minimum
period has run; the officer of the agency that reported it confirms the rule's conditions and
grants, or refuses with reasons. Each step is one transaction with its event and its notice.

A grant writes a ``credit_repair`` record as the agency's own, through ingest's one write path,
dated the day of the decision: the rules with a ``repair`` clause stop counting the repaired
record from that day (``rules.compile``), what the registry knew before keeps it, and the
subject waits in ``pending_subjects`` so that ``credence worker`` rescores them and their score
notice follows.
"""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, Engine, select

from credence import outbox, resolve
from credence.disputes import evidence as files
from credence.disputes import recusals
from credence.disputes import repairs as rows
from credence.disputes.repairs import Application
from credence.exc import FieldError
from credence.ingest.loader import LoadResult, mark_pending, write_batch
from credence.ingest.records import Candidate, subject_ref
from credence.model import calendars
from credence.model.catalogue import Catalogue, default_catalogue
from credence.model.time import legal_date
from credence.outbox import Notice, NoticeKind
from credence.outbox import facts as common
from credence.rules.compile import REPAIR_KIND
from credence.rules.loader import Scheme, shipped_schemes
from credence.rules.schema import Repair, Rule
from credence.store.orm import Record


@dataclass(frozen=True, slots=True)
class Repairable:
    """The rule under which a record may be repaired, and from which day."""

    scheme: str
    rule: Rule
    repair: Repair
    from_day: date  # the first day an application is accepted
    expires: date | None  # the day the record stops counting without repair

    @property
    def conditions(self) -> list[str]:
        return list(self.repair.conditions)


def _months_after(day: date, months: int) -> date:
    return calendars.Period(months=months).last_day(day)


def repairable(schemes: dict[str, Scheme], kind: str, valid_date: date) -> list[Repairable]:
    """The rules of the editions in force on ``valid_date`` that count ``kind`` and allow repair,
    earliest first."""
    found = []
    for name, scheme in sorted(schemes.items()):
        for index, edition in enumerate(scheme.editions):
            start, end = scheme.window(index)
            if valid_date < start or (end is not None and valid_date >= end):
                continue
            for compiled in edition.rules:
                rule = compiled.rule
                if kind not in rule.kinds or rule.repair is None:
                    continue
                expires = _months_after(valid_date, rule.expires_after.total_months) if rule.expires_after else None
                from_day = _months_after(valid_date, rule.repair.after.total_months)
                found.append(Repairable(name, rule, rule.repair, from_day, expires))
    return sorted(found, key=lambda r: (r.from_day, r.scheme, r.rule.id))


def offered(schemes: dict[str, Scheme], kind: str, valid_date: date, today: date) -> Repairable | None:
    """The rule an application filed ``today`` would be routed under, as ``file`` chooses it: the
    earliest whose minimum period has run, else (not yet open: its ``from_day`` is the first day)
    the earliest still to run; None where no rule allows repair or the record no longer counts."""
    live = [r for r in repairable(schemes, kind, valid_date) if r.expires is None or today < r.expires]
    ready = [r for r in live if r.from_day <= today]
    return (ready or live)[0] if live else None


@dataclass(frozen=True, slots=True)
class Offer:
    """What a subject is shown before applying for repair of one of their records."""

    record: uuid.UUID  # the newest version, the one an application names
    kind: str
    valid_date: date
    source: str
    source_record_id: str
    rule: Repairable


def offer(
    conn: Connection, *, subject: uuid.UUID, record: uuid.UUID, today: date, schemes: dict[str, Scheme] | None = None
) -> Offer | None:
    """The rule and conditions under which ``subject`` may apply for repair of ``record`` (a
    version of a record about them), or None: not theirs, withdrawn, or no rule allows it."""
    found = _newest(conn, subject, record)
    if found is None or found.op != "assert":
        return None
    rule = offered(schemes or shipped_schemes(), found.kind, found.valid_date, today)
    if rule is None:
        return None
    return Offer(found.id, found.kind, found.valid_date, found.source_id, found.source_record_id, rule)


def _newest(conn: Connection, subject: uuid.UUID, record: uuid.UUID) -> Any:
    """The newest version (a row of records) of the record whose version ``record`` is, if it is
    about ``subject``; None otherwise."""
    given = conn.execute(select(Record).where(Record.id == record, Record.subject_id == subject)).first()
    if given is None:
        return None
    return conn.execute(
        select(Record)
        .where(Record.source_id == given.source_id, Record.source_record_id == given.source_record_id)
        .order_by(Record.version.desc())
        .limit(1)
    ).one()


def _already_repaired(conn: Connection, found: Any) -> bool:
    """Whether the record's agency has a repair record for it (asked of the store, not by reading
    every repair the agency ever granted)."""
    query = select(Record.id).where(
        Record.source_id == found.source_id,
        Record.kind == REPAIR_KIND,
        Record.attributes["repaired_record"].as_string() == found.source_record_id,
    )
    return conn.execute(query.limit(1)).first() is not None


def file(
    engine: Engine,
    *,
    subject: uuid.UUID,
    record: uuid.UUID,
    statement: str,
    evidence: Sequence[bytes] = (),
    now: datetime,
    schemes: dict[str, Scheme] | None = None,
) -> Application:
    """A signed-in subject applies for repair of one of their records; refused, naming why, if
    no rulebook allows it, too early, too late, or already repaired."""
    checked = files.checked(list(evidence))
    today = legal_date(now)
    with engine.begin() as conn:
        found = _newest(conn, subject, record)
        if found is None or found.subject_id != subject:
            raise FieldError("record_id", "no record about you has this id")
        if found.op != "assert":
            raise FieldError("record_id", "the record was withdrawn by its agency: nothing to repair")
        rules = repairable(schemes or shipped_schemes(), found.kind, found.valid_date)
        if not rules:
            raise FieldError("record_id", f"no rulebook provides credit repair for a {found.kind} record")
        live = [r for r in rules if r.expires is None or today < r.expires]
        if not live:
            last = max(r.expires for r in rules if r.expires is not None)
            raise FieldError("record_id", f"the record stopped counting on {last}: nothing to repair")
        ready = [r for r in live if r.from_day <= today]
        if not ready:
            first = min(r.from_day for r in live)
            raise FieldError(
                "record_id", f"repair may be applied for from {first}, the end of the rule's minimum period"
            )
        if _already_repaired(conn, found):
            raise FieldError("record_id", "the record was repaired already")
        chosen = ready[0]
        application = rows.file(
            conn,
            subject=subject,
            record=found,
            scheme=chosen.scheme,
            rule=chosen.rule.id,
            statement=statement,
            evidence=checked,
            respond_by=chosen.repair.answer_within.counted().last_day(today),
            now=now,
        )
        outbox.enqueue(conn, [_notice(conn, NoticeKind.REPAIR_FILED, application, chosen)], now=now)
    return application


def decide(
    engine: Engine,
    application: uuid.UUID,
    *,
    agency: str,
    officer: str,
    granted: bool,
    note: str = "",
    confirmed: Sequence[str] = (),
    now: datetime,
    schemes: dict[str, Scheme] | None = None,
    catalogue: Catalogue | None = None,
    officer_id: uuid.UUID | None = None,
) -> Application:
    """The agency's officer grants (every condition of the rule confirmed) or refuses (with
    reasons) an open application. An officer (``officer_id``) who declared a relation to the
    subject stands aside (``disputes.recusals``)."""
    with engine.begin() as conn:
        found = rows.answerable(conn, application, agency=agency, now=now)
        if officer_id is not None:
            recusals.require_unrelated(conn, officer_id, found.subject)
        record = conn.execute(select(Record).where(Record.id == found.record)).one()
        rule = _rule_of(schemes or shipped_schemes(), found, record.valid_date)
        repair_record = None
        if granted:
            missing = [c for c in rule.conditions if c not in confirmed]
            if missing:
                raise FieldError(
                    "confirmed", f"confirm every condition of the rule before granting; missing: {missing[0]}"
                )
            repair_record = _write_repair(
                conn, found, record, rule, now=now, catalogue=catalogue or default_catalogue()
            )
        elif not note.strip():
            raise FieldError("note", "a refusal gives its reasons")
        decided = rows.decide(
            conn,
            found,
            agency=agency,
            officer=officer,
            granted=granted,
            note=note,
            confirmed=[c for c in confirmed if c in rule.conditions],
            repair_record=repair_record,
            now=now,
        )
        outbox.enqueue(conn, [_notice(conn, NoticeKind.REPAIR_DECIDED, decided, rule)], now=now)
        mark_pending(conn, {decided.subject}, now=now)
    return decided


def _rule_of(schemes: dict[str, Scheme], found: Application, valid_date: date) -> Repairable:
    for candidate in repairable(schemes, found.kind, valid_date):
        if candidate.scheme == found.scheme and candidate.rule.id == found.rule:
            return candidate
    raise FieldError("application", f"{found.receipt}: rule {found.rule} of {found.scheme} no longer allows repair")


def _write_repair(
    conn: Connection, found: Application, record: Any, rule: Repairable, *, now: datetime, catalogue: Catalogue
) -> uuid.UUID:
    """The grant as the agency's own ``credit_repair`` record, dated today."""
    number = resolve.number_of(conn, found.subject)
    if number is None:
        raise FieldError("application", "the record's subject is gone")
    candidate = Candidate(
        op="assert",
        source_record_id=f"repair-{found.receipt}",
        subject=subject_ref(number, field="id_number"),
        kind=REPAIR_KIND,
        valid_date=legal_date(now),
        jurisdiction=record.jurisdiction,
        legal_basis=rule.repair.legal_basis,
        attributes={"repaired_record": found.source_record_id, "application": found.receipt},
        related=(),
    )
    label = f"repair {found.receipt}"
    written = write_batch(
        conn,
        source=found.source,
        file=label,
        candidates=[(0, candidate)],
        rejected=[],
        now=now,
        result=LoadResult(file=label),
        catalogue=catalogue,
    )
    if not written:
        raise FieldError("application", f"{found.receipt}: the repair record was not written")
    return written[0]


def _notice(conn: Connection, kind: NoticeKind, application: Application, rule: Repairable) -> Notice:
    record = common.records(conn, [application.record]).get(application.record, common.NO_RECORD)
    facts = {
        **record,
        "application_id": str(application.id),
        "receipt": application.receipt,
        "scheme": application.scheme,
        "rule_id": application.rule,
        "rule_title": rule.rule.title,
        "conditions": rule.conditions,
        "repair_basis": rule.repair.legal_basis,
        "respond_by": str(application.respond_by),
        "state": application.state,
        "effective": str(legal_date(application.decided_at)) if application.decided_at else None,
        "note": application.note,
        "repair_record_id": str(application.repair_record) if application.repair_record else None,
    }
    return Notice(subject=application.subject, kind=kind, facts=facts)


def conditions(
    conn: Connection, applications: Sequence[Application], schemes: dict[str, Scheme] | None = None
) -> dict[uuid.UUID, list[str]]:
    """What the agency confirms before granting each application: its rule's conditions, in the
    edition that counts the record (none if the rulebook no longer allows its repair)."""
    known = schemes or shipped_schemes()
    wanted = [a.record for a in applications]
    dated = {row[0]: row[1] for row in conn.execute(select(Record.id, Record.valid_date).where(Record.id.in_(wanted)))}
    found: dict[uuid.UUID, list[str]] = {}
    for application in applications:
        try:
            found[application.id] = _rule_of(known, application, dated[application.record]).conditions
        except (FieldError, KeyError):
            found[application.id] = []
    return found
