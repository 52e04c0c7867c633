"""Credit-repair applications as rows: filed, answered and listed. Each write is in the caller's
transaction, with its event; the caller checks the rulebook, writes the notices and, for a grant,
the ``credit_repair`` record (``dueprocess.repairs``)."""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, insert, select, update
from sqlalchemy.exc import IntegrityError

from credence import audit
from credence.audit import EventTag
from credence.disputes.evidence import Evidence
from credence.disputes.rows import MAX_STATEMENT, receipt_for
from credence.exc import FieldError, NotAuthorisedError, NotFoundError
from credence.model.time import legal_date
from credence.store import bulk
from credence.store.db import stored_instant
from credence.store.orm import Record, RepairApplication, RepairEvidence

OPEN, GRANTED, REFUSED = "open", "granted", "refused"


@dataclass(frozen=True, slots=True)
class Application:
    id: uuid.UUID
    receipt: str
    subject: uuid.UUID
    source: str
    source_record_id: str
    record: uuid.UUID
    kind: str
    scheme: str
    rule: str
    respond_by: date
    state: str
    filed_at: datetime
    decided_at: datetime | None = None
    decided_by: str | None = None
    note: str | None = None
    repair_record: uuid.UUID | None = None


def file(
    conn: Connection,
    *,
    subject: uuid.UUID,
    record: Any,  # a row of records, the newest version, about ``subject``
    scheme: str,
    rule: str,
    statement: str,
    evidence: Sequence[Evidence],
    respond_by: date,
    now: datetime,
) -> Application:
    """Open an application for repair of ``record`` under ``scheme``'s ``rule``, with its event."""
    text = statement.strip()
    if not text:
        raise FieldError("statement", "say how the conduct was corrected and the obligations fulfilled")
    if len(text) > MAX_STATEMENT:
        raise FieldError("statement", f"{len(text):,} characters; at most {MAX_STATEMENT:,}")
    already = open_of(conn, record.source_id, record.source_record_id)
    if already is not None:
        raise FieldError(
            "record_id", f"a repair application for this record is open already (receipt {already.receipt})"
        )
    application = Application(
        id=uuid.uuid4(),
        receipt=receipt_for(now, "R"),
        subject=subject,
        source=record.source_id,
        source_record_id=record.source_record_id,
        record=record.id,
        kind=record.kind,
        scheme=scheme,
        rule=rule,
        respond_by=respond_by,
        state=OPEN,
        filed_at=now,
    )
    values = {
        "id": application.id,
        "receipt": application.receipt,
        "subject_id": subject,
        "source_id": record.source_id,
        "source_record_id": record.source_record_id,
        "record_id": record.id,
        "scheme": scheme,
        "rule_id": rule,
        "statement": text,
        "filed_at": now,
        "respond_by": respond_by,
        "state": OPEN,
    }
    try:
        with conn.begin_nested():
            conn.execute(insert(RepairApplication).values(**values))
    except IntegrityError:  # another application for the same record won the race
        raise FieldError("record_id", "a repair application for this record is open already") from None
    rows = [(uuid.uuid4(), application.id, e.media_type, e.size, e.sha256, e.content, now) for e in evidence]
    columns = ("id", "application_id", "media_type", "size", "sha256", "content", "created_at")
    bulk.insert_rows(conn, RepairEvidence, columns, rows)
    data = {
        "application_id": str(application.id),
        "receipt": application.receipt,
        "record_id": str(record.id),
        "source": record.source_id,
        "scheme": scheme,
        "rule": rule,
        "respond_by": str(respond_by),
        "evidence": [e.sha256 for e in evidence],
    }
    audit.record(conn, tag=EventTag.REPAIR_FILED, subject=subject, actor="subject", data=data, now=now)
    return application


def decide(
    conn: Connection,
    found: Application,
    *,
    agency: str,
    officer: str,
    granted: bool,
    note: str,
    confirmed: Sequence[str],
    repair_record: uuid.UUID | None,
    now: datetime,
) -> Application:
    """Answer ``found``, an application ``answerable`` gave in this transaction (locked and open)."""
    state = GRANTED if granted else REFUSED
    conn.execute(
        update(RepairApplication)
        .where(RepairApplication.id == found.id, RepairApplication.state == OPEN)
        .values(
            state=state, decided_at=now, decided_by=officer, note=note.strip() or None, repair_record_id=repair_record
        )
    )
    data = {
        "application_id": str(found.id),
        "receipt": found.receipt,
        "outcome": state,
        "officer": officer,
        "confirmed": list(confirmed),
        "repair_record_id": str(repair_record) if repair_record else None,
    }
    audit.record(
        conn, tag=EventTag.REPAIR_DECIDED, subject=found.subject, actor=f"officer:{agency}", data=data, now=now
    )
    return get(conn, found.id) or found


def answerable(conn: Connection, application: uuid.UUID, *, agency: str, now: datetime) -> Application:
    """The application, locked, if ``agency`` may answer it; refuses (naming why) otherwise."""
    found = get(conn, application, for_update=True)
    if found is None:
        raise NotFoundError(f"repair application {application}: no such application")
    if found.source != agency:
        raise NotAuthorisedError(
            f"repair application {found.receipt} is for agency {found.source}; you act for {agency}"
        )
    if found.state != OPEN:
        raise FieldError(
            "application", f"{found.receipt} is closed ({found.state} on {legal_date(found.decided_at or now)})"
        )
    return found


def _application(row: Any) -> Application:
    """A row of ``select(RepairApplication, Record.kind)``."""
    return Application(
        id=row.id,
        receipt=row.receipt,
        subject=row.subject_id,
        source=row.source_id,
        source_record_id=row.source_record_id,
        record=row.record_id,
        kind=row.kind,
        scheme=row.scheme,
        rule=row.rule_id,
        respond_by=row.respond_by,
        state=row.state,
        filed_at=stored_instant(row.filed_at),
        decided_at=stored_instant(row.decided_at) if row.decided_at else None,
        decided_by=row.decided_by,
        note=row.note,
        repair_record=row.repair_record_id,
    )


def _query() -> Any:
    return select(RepairApplication, Record.kind).join(Record, Record.id == RepairApplication.record_id)


def get(conn: Connection, application: uuid.UUID, *, for_update: bool = False) -> Application | None:
    query = _query().where(RepairApplication.id == application)
    if for_update:
        query = query.with_for_update(of=RepairApplication)  # the application only: records are append-only
    row = conn.execute(query).first()
    return _application(row) if row else None


def open_of(conn: Connection, source: str, source_record_id: str) -> Application | None:
    row = conn.execute(
        _query().where(
            RepairApplication.source_id == source,
            RepairApplication.source_record_id == source_record_id,
            RepairApplication.state == OPEN,
        )
    ).first()
    return _application(row) if row else None


def listed(
    conn: Connection, *, subject: uuid.UUID | None = None, agency: str | None = None, limit: int = 100
) -> list[Application]:
    """A subject's applications, newest first; or an agency's, open ones first by deadline."""
    query = _query()
    if subject is not None:
        query = query.where(RepairApplication.subject_id == subject).order_by(RepairApplication.filed_at.desc())
    if agency is not None:
        query = query.where(RepairApplication.source_id == agency).order_by(
            (RepairApplication.state != OPEN), RepairApplication.respond_by, RepairApplication.filed_at
        )
    rows = conn.execute(query.order_by(RepairApplication.id).limit(limit))
    return [_application(r) for r in rows]
