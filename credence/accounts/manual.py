"""Two officers (DESIGN P7; issue 10, part 6): a record written by hand takes effect only once a
second officer of the same agency approves it.

An officer asks for a manual action: a record of a kind their agency is authorised for (a
demerit, a favourable record, a listing decision; a score moves only through a rule that counts
a record, so a "manual score adjustment" is such a record, never a bare number), or the
withdrawal of one of the agency's records. The request is checked as a feed row of the agency
is (kind, jurisdiction, ID number, attributes, a legal basis) and stored with its event; nothing
about the subject changes. A second officer of the agency approves it, and the record goes
through ingest's one write path as the agency's own (the subject waits in ``pending_subjects``
for the worker, and notices follow as for any record), or refuses it with reasons.

No account both requests and approves (``model.roles``: the officer and second-officer roles),
no officer approves their own request, and no officer requests or approves anything about a
subject they declared a relation to (``disputes.recusals``). Each refused attempt is an error
naming why and a ``manual.denied`` event, in a transaction of its own: an insider who tries
leaves a trace even though nothing applied.
"""

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, Engine, func, insert, select
from sqlalchemy.exc import IntegrityError

from credence import audit, resolve
from credence.accounts.officers import Officer, require_agency
from credence.audit.tags import EventTag
from credence.disputes import recusals
from credence.disputes.rows import MAX_STATEMENT, receipt_for
from credence.exc import FieldError, NotAuthorisedError, NotFoundError
from credence.ingest.loader import LoadResult, authority, write_batch
from credence.ingest.mapping import Fields, KindMap, Mapping
from credence.ingest.records import Candidate, Checker, subject_ref
from credence.model.catalogue import Catalogue, default_catalogue
from credence.model.identifiers import masked
from credence.model.ids import derived_id
from credence.model.roles import Permission, RoleRefusedError, require
from credence.store.db import stored_instant
from credence.store.orm import ManualAction, ManualDecision, Record, Subject
from credence.store.orm import Officer as OfficerTable

PENDING, APPROVED, REFUSED = "pending", "approved", "refused"
ASSERT, RETRACT = "assert", "retract"


class SelfApprovalError(NotAuthorisedError):
    """An officer approving their own request (HTTP 403, field ``officer``)."""

    field = "officer"


@dataclass(frozen=True, slots=True)
class Action:
    id: uuid.UUID
    receipt: str
    agency: str
    requested_by: str  # the officer's account name
    subject: uuid.UUID
    masked: str  # the subject's ID number as the SPC publishes it (birth month and day hidden)
    op: str
    kind: str
    source_record_id: str
    valid_date: date
    jurisdiction: str
    attributes: dict[str, Any]
    legal_basis: str
    reason: str
    requested_at: datetime
    state: str = PENDING
    decided_by: str | None = None
    decided_at: datetime | None = None
    note: str | None = None
    record: uuid.UUID | None = None  # the record version an approval wrote


def _mapping(agency: str, catalogue: Catalogue, kind: str, legal_basis: str) -> Mapping:
    """How a manual request reads as a feed row of ``agency``: the same checks, one code path."""
    names = {name for k in catalogue.kinds.values() for name in k.attributes}
    return Mapping(
        source=agency,
        format="jsonl",
        file="manual",
        fields=Fields(
            source_record_id="source_record_id",
            id_number="id_number",
            valid_date="valid_date",
            jurisdiction="jurisdiction",
            retracted="retracted",
        ),
        kind=KindMap(value=kind),
        attributes={name: f"attributes.{name}" for name in sorted(names)},
        legal_basis={kind: legal_basis},
    )


def _candidate(conn: Connection, agency: str, row: dict[str, Any], *, catalogue: Catalogue) -> Candidate:
    kind = catalogue.kind(str(row["kind"]))
    unknown = sorted(set(row["attributes"]) - set(kind.attributes))
    if unknown:
        expected = ", ".join(sorted(kind.attributes)) or "none"
        raise FieldError(f"attributes.{unknown[0]}", f"a {kind.name} record has no such attribute; expected {expected}")
    legal_basis = str(row["legal_basis"]).strip()
    if not legal_basis:
        raise FieldError("legal_basis", "name the law or regulation the record is written under")
    mapping = _mapping(agency, catalogue, kind.name, legal_basis)
    return Checker(mapping, catalogue, authority(conn, agency)).build(row)


@contextmanager
def _denied(
    engine: Engine, officer: Officer, *, action: uuid.UUID | None, subject: uuid.UUID | None, now: datetime
) -> Iterator[None]:
    """Turn a refused attempt into its ``manual.denied`` event, written apart from the refused
    transaction (which rolls back), and let the error through."""
    try:
        yield
    except NotAuthorisedError as err:
        data = {
            "officer": str(officer.id),
            "agency": officer.agency,
            "role": officer.role.value,
            "action": str(action) if action else None,
            "why": type(err).__name__,
        }
        with engine.begin() as conn:
            audit.record(
                conn, tag=EventTag.MANUAL_DENIED, subject=subject, actor=f"officer:{officer.id}", data=data, now=now
            )
        raise


def request(
    engine: Engine,
    officer: Officer,
    *,
    kind: str,
    reason: str,
    legal_basis: str,
    id_number: str | None = None,
    valid_date: str | date | None = None,
    jurisdiction: str = "",
    attributes: dict[str, Any] | None = None,
    retract: uuid.UUID | None = None,
    now: datetime,
    catalogue: Catalogue | None = None,
) -> Action:
    """Ask for a record to be written by hand for the officer's agency (or, with ``retract``, for
    the withdrawal of the agency's record of that version id). Checked as the agency's feed row;
    nothing applies until a second officer approves."""
    known = catalogue or default_catalogue()
    text = reason.strip()
    subject: uuid.UUID | None = None
    with _denied(engine, officer, action=None, subject=None, now=now):
        require(officer.role, Permission.REQUEST_MANUAL_ACTION)
    if not text:
        raise FieldError("reason", "say why the record is written by hand")
    if len(text) > MAX_STATEMENT:
        raise FieldError("reason", f"{len(text):,} characters; at most {MAX_STATEMENT:,}")
    receipt = receipt_for(now, "M")
    with _denied(engine, officer, action=None, subject=None, now=now), engine.begin() as conn:
        if retract is None:
            row: dict[str, Any] = {
                "source_record_id": f"manual-{receipt}",
                "id_number": id_number,
                "valid_date": str(valid_date) if valid_date is not None else None,
                "jurisdiction": jurisdiction,
                "kind": kind,
                "attributes": dict(attributes or {}),
                "legal_basis": legal_basis,
                "retracted": False,
            }
        else:
            row = _withdrawal(conn, officer, retract, legal_basis=legal_basis)
        candidate = _candidate(conn, officer.agency, row, catalogue=known)
        subject = resolve.ensure(conn, [candidate.subject], now=now)[candidate.subject.id_number]
    with _denied(engine, officer, action=None, subject=subject, now=now), engine.begin() as conn:
        recusals.require_unrelated(conn, officer.id, subject)
        action = Action(
            id=uuid.uuid4(),
            receipt=receipt,
            agency=officer.agency,
            requested_by=officer.name,
            subject=subject,
            op=candidate.op,
            kind=candidate.kind,
            source_record_id=candidate.source_record_id,
            valid_date=candidate.valid_date,
            jurisdiction=candidate.jurisdiction,
            attributes=candidate.attributes,
            legal_basis=candidate.legal_basis,
            reason=text,
            requested_at=now,
            masked=masked(candidate.subject.id_number),
        )
        conn.execute(
            insert(ManualAction).values(
                id=action.id,
                receipt=receipt,
                agency=officer.agency,
                requested_by=officer.id,
                subject_id=subject,
                op=action.op,
                kind=action.kind,
                source_record_id=action.source_record_id,
                valid_date=action.valid_date,
                jurisdiction=action.jurisdiction,
                attributes=action.attributes,
                legal_basis=action.legal_basis,
                reason=text,
                requested_at=now,
            )
        )
        data = {"action": str(action.id), "receipt": receipt, "agency": officer.agency, "kind": action.kind}
        data |= {"op": action.op, "officer": str(officer.id)}
        audit.record(
            conn, tag=EventTag.MANUAL_REQUESTED, subject=subject, actor=f"officer:{officer.id}", data=data, now=now
        )
    return action


def _withdrawal(conn: Connection, officer: Officer, record: uuid.UUID, *, legal_basis: str) -> dict[str, Any]:
    """The feed row that withdraws the agency's record whose version ``record`` is."""
    given = conn.execute(select(Record).where(Record.id == record)).first()
    if given is None or given.source_id != officer.agency:
        raise FieldError("retract", f"no record of {officer.agency} has this id")
    newest = conn.execute(
        select(Record)
        .where(Record.source_id == given.source_id, Record.source_record_id == given.source_record_id)
        .order_by(Record.version.desc())
        .limit(1)
    ).one()
    if newest.op == RETRACT:
        raise FieldError("retract", "the record is withdrawn already")
    return {
        "source_record_id": newest.source_record_id,
        "id_number": resolve.number_of(conn, newest.subject_id),
        "valid_date": newest.valid_date.isoformat(),
        "jurisdiction": newest.jurisdiction,
        "kind": newest.kind,
        "attributes": dict(newest.attributes),
        "legal_basis": legal_basis,
        "retracted": True,
    }


def decide(
    engine: Engine,
    action: uuid.UUID,
    officer: Officer,
    *,
    approved: bool,
    note: str = "",
    now: datetime,
    catalogue: Catalogue | None = None,
) -> Action:
    """A second officer of the agency approves (the record is written, as the agency's own,
    through the one write path) or refuses (with reasons) a pending manual action."""
    known = catalogue or default_catalogue()
    with engine.connect() as conn:
        found = get(conn, action)
    if found is None:
        raise NotFoundError("action: no such manual action")
    with _denied(engine, officer, action=action, subject=found.subject, now=now), engine.begin() as conn:
        require(officer.role, Permission.APPROVE_MANUAL_ACTION)
        require_agency(officer, found.agency)
        requester = conn.execute(select(ManualAction.requested_by).where(ManualAction.id == action)).scalar_one()
        if requester == officer.id:
            raise SelfApprovalError("officer: an officer may not approve their own request")
        recusals.require_unrelated(conn, officer.id, found.subject)
        recusals.require_unrelated(conn, requester, found.subject, who="the requesting officer")
        if found.state != PENDING:
            raise FieldError("action", f"{found.receipt} was {found.state} already")
        text = note.strip()
        if not approved and not text:
            raise FieldError("note", "a refusal gives its reasons")
        if len(text) > MAX_STATEMENT:
            raise FieldError("note", f"{len(text):,} characters; at most {MAX_STATEMENT:,}")
        candidate = _candidate(conn, found.agency, _row(conn, found), catalogue=known) if approved else None
        written = _next_version(conn, found) if candidate else None
        try:  # the decision first: its key makes a second approver wait here, then fail
            with conn.begin_nested():
                conn.execute(
                    insert(ManualDecision).values(
                        action_id=action,
                        decided_by=officer.id,
                        approved=approved,
                        note=text,
                        record_id=written,
                        decided_at=now,
                    )
                )
        except IntegrityError:  # another second officer decided it first
            raise FieldError("action", f"{found.receipt} was decided already") from None
        if candidate is not None:
            _apply(conn, found, candidate, expected=written, now=now, catalogue=known)
        data: dict[str, str | None] = {"action": str(action), "receipt": found.receipt, "agency": found.agency}
        data |= {"officer": str(officer.id), "record_id": str(written) if written else None}
        tag = EventTag.MANUAL_APPROVED if approved else EventTag.MANUAL_REFUSED
        audit.record(conn, tag=tag, subject=found.subject, actor=f"officer:{officer.id}", data=data, now=now)
        decided = get(conn, action)
    if decided is None:  # the row was read in this transaction a moment ago
        raise NotFoundError("action: no such manual action")
    return decided


def _row(conn: Connection, found: Action) -> dict[str, Any]:
    """The action as the agency's feed row, to be checked again against the agency's
    authorisation and the catalogue as they are at approval."""
    return {
        "source_record_id": found.source_record_id,
        "id_number": resolve.number_of(conn, found.subject),
        "valid_date": found.valid_date.isoformat(),
        "jurisdiction": found.jurisdiction,
        "kind": found.kind,
        "attributes": dict(found.attributes),
        "legal_basis": found.legal_basis,
        "retracted": found.op == RETRACT,
    }


def _next_version(conn: Connection, found: Action) -> uuid.UUID:
    """The id the write path gives the record's next version (ids are derived, not random)."""
    newest = conn.execute(
        select(func.max(Record.version)).where(
            Record.source_id == found.agency, Record.source_record_id == found.source_record_id
        )
    ).scalar()
    return derived_id("record", found.agency, found.source_record_id, (newest or 0) + 1)


def _apply(
    conn: Connection,
    found: Action,
    candidate: Candidate,
    *,
    expected: uuid.UUID | None,
    now: datetime,
    catalogue: Catalogue,
) -> None:
    """Write the approved record through the one write path, as the agency's own."""
    label = f"manual {found.receipt}"
    written = write_batch(
        conn,
        source=found.agency,
        file=label,
        candidates=[(0, candidate)],
        rejected=[],
        now=now,
        result=LoadResult(file=label),
        catalogue=catalogue,
    )
    if not written:
        raise FieldError("action", f"{found.receipt}: the record it names is already as asked; nothing to write")
    if written[0] != expected:  # the write path numbers versions as _next_version does
        raise FieldError("action", f"{found.receipt}: the record changed while it was approved; try again")


def _query() -> Any:
    requester = OfficerTable.__table__.alias("requester")
    decider = OfficerTable.__table__.alias("decider")
    return (
        select(
            ManualAction,
            requester.c.name.label("requester_name"),
            ManualDecision.approved,
            ManualDecision.note.label("decision_note"),
            ManualDecision.decided_at,
            ManualDecision.record_id,
            decider.c.name.label("decider_name"),
            Subject.id_number,
        )
        .join(requester, requester.c.id == ManualAction.requested_by)
        .join(Subject, Subject.id == ManualAction.subject_id)
        .outerjoin(ManualDecision, ManualDecision.action_id == ManualAction.id)
        .outerjoin(decider, decider.c.id == ManualDecision.decided_by)
    )


def _action(row: Any) -> Action:
    state = PENDING if row.approved is None else APPROVED if row.approved else REFUSED
    return Action(
        id=row.id,
        receipt=row.receipt,
        agency=row.agency,
        requested_by=row.requester_name,
        subject=row.subject_id,
        masked=masked(row.id_number),
        op=row.op,
        kind=row.kind,
        source_record_id=row.source_record_id,
        valid_date=row.valid_date,
        jurisdiction=row.jurisdiction,
        attributes=dict(row.attributes),
        legal_basis=row.legal_basis,
        reason=row.reason,
        requested_at=stored_instant(row.requested_at),
        state=state,
        decided_by=row.decider_name,
        decided_at=stored_instant(row.decided_at) if row.decided_at else None,
        note=row.decision_note,
        record=row.record_id,
    )


def get(conn: Connection, action: uuid.UUID) -> Action | None:
    """The manual action of that id, whatever its agency, or None."""
    row = conn.execute(_query().where(ManualAction.id == action)).first()
    return None if row is None else _action(row)


def listed(conn: Connection, *, agency: str | None = None, subject: uuid.UUID | None = None) -> list[Action]:
    """Manual actions of an agency (or about a subject): pending first, then newest first."""
    query = _query()
    if agency is not None:
        query = query.where(ManualAction.agency == agency)
    if subject is not None:
        query = query.where(ManualAction.subject_id == subject)
    found = [_action(row) for row in conn.execute(query.order_by(ManualAction.requested_at.desc()))]
    return sorted(found, key=lambda a: a.state != PENDING)


def declare_relation(engine: Engine, officer: Officer, id_number: str, relation: str, *, now: datetime) -> uuid.UUID:
    """An officer declares a relation to the subject of ``id_number`` (made known to the registry
    if it is new); from then on they stand aside from it."""
    with engine.begin() as conn:
        ref = subject_ref(id_number, field="id_number")
        subject = resolve.ensure(conn, [ref], now=now)[ref.id_number]
        recusals.declare(conn, officer.id, officer.agency, subject, relation, now=now)
    return subject


__all__ = ["Action", "RoleRefusedError", "SelfApprovalError", "decide", "declare_relation", "listed", "request"]
