"""Disputes as rows: filed, answered, listed, and read by the derivation of measures. Each write
is in the caller's transaction, with its event; the caller writes the notices and the
correction record (``dueprocess.disputes``)."""

import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, insert, select, update
from sqlalchemy.exc import IntegrityError

from credence import audit
from credence.audit import EventTag
from credence.disputes.evidence import Evidence
from credence.exc import FieldError, NotAuthorisedError, NotFoundError
from credence.model.time import legal_date
from credence.store import bulk
from credence.store.db import stored_instant
from credence.store.orm import Dispute, DisputeEvidence, Record

OPEN, UPHELD, REJECTED = "open", "upheld", "rejected"
MAX_STATEMENT = 4000
RECEIPT_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O, 1/I: read aloud over the phone


@dataclass(frozen=True, slots=True)
class Filed:
    id: uuid.UUID
    receipt: str
    subject: uuid.UUID
    source: str
    record: uuid.UUID
    kind: str
    respond_by: date
    suspends: bool
    state: str
    filed_at: datetime
    decided_at: datetime | None = None
    decided_by: str | None = None
    note: str | None = None
    correction: uuid.UUID | None = None

    def lapsed(self, today: date) -> bool:
        """Open past its deadline: the record lost its effect the day after it."""
        return self.state == OPEN and today > self.respond_by


@dataclass(frozen=True, slots=True)
class Standing:
    """How an open dispute bears on its record's effect: none from ``filed`` on if it suspends
    the record, and none after ``respond_by`` in any case (unless answered by then)."""

    filed: date
    respond_by: date
    suspends: bool

    def effect_ends(self) -> date:
        """The first day the record has no effect, while the dispute stays open."""
        return self.filed if self.suspends else self.respond_by + timedelta(days=1)


def receipt_for(now: datetime, prefix: str = "D") -> str:
    """A receipt to quote: D for a dispute, R for a repair application, the day, 8 random letters."""
    tail = "".join(secrets.choice(RECEIPT_ALPHABET) for _ in range(8))
    return f"{prefix}{legal_date(now):%Y%m%d}-{tail}"


def record_of(conn: Connection, subject: uuid.UUID, record: uuid.UUID) -> Any:
    """The row of record version ``record`` if it is about ``subject``; None for another's or no
    record (one answer, so a subject cannot learn whether another's record exists)."""
    return conn.execute(select(Record).where(Record.id == record, Record.subject_id == subject)).first()


def file(
    conn: Connection,
    *,
    subject: uuid.UUID,
    record: Any,  # a row of records (record_of)
    statement: str,
    evidence: Sequence[Evidence],
    respond_by: date,
    suspends: bool,
    now: datetime,
) -> Filed:
    """Open a dispute of ``record`` (one of ``subject``'s), with its evidence and its event."""
    text = statement.strip()
    if not text:
        raise FieldError("statement", "say what is wrong with the record")
    if len(text) > MAX_STATEMENT:
        raise FieldError("statement", f"{len(text):,} characters; at most {MAX_STATEMENT:,}")
    already = open_of(conn, record.source_id, record.source_record_id)
    if already is not None:
        raise FieldError("record_id", f"a dispute of this record is open already (receipt {already.receipt})")
    filed = Filed(
        id=uuid.uuid4(),
        receipt=receipt_for(now),
        subject=subject,
        source=record.source_id,
        record=record.id,
        kind=record.kind,
        respond_by=respond_by,
        suspends=suspends,
        state=OPEN,
        filed_at=now,
    )
    values = {
        "id": filed.id,
        "receipt": filed.receipt,
        "subject_id": subject,
        "source_id": record.source_id,
        "source_record_id": record.source_record_id,
        "record_id": record.id,
        "statement": text,
        "filed_at": now,
        "respond_by": respond_by,
        "suspends": suspends,
        "state": OPEN,
    }
    try:
        with conn.begin_nested():
            conn.execute(insert(Dispute).values(**values))
    except IntegrityError:  # another filing of the same record won the race
        raise FieldError("record_id", "a dispute of this record is open already") from None
    rows = [(uuid.uuid4(), filed.id, e.media_type, e.size, e.sha256, e.content, now) for e in evidence]
    columns = ("id", "dispute_id", "media_type", "size", "sha256", "content", "created_at")
    bulk.insert_rows(conn, DisputeEvidence, columns, rows)
    data = {
        "dispute_id": str(filed.id),
        "receipt": filed.receipt,
        "record_id": str(record.id),
        "source": record.source_id,
        "respond_by": str(respond_by),
        "suspends": suspends,
        "evidence": [e.sha256 for e in evidence],
    }
    audit.record(conn, tag=EventTag.DISPUTE_FILED, subject=subject, actor="subject", data=data, now=now)
    return filed


def decide(
    conn: Connection,
    found: Filed,
    *,
    agency: str,
    officer: str,
    upheld: bool,
    note: str,
    correction: uuid.UUID | None,
    now: datetime,
) -> Filed:
    """Answer ``found``, a dispute ``answerable`` gave in this transaction (so locked and open)."""
    dispute = found.id
    state = UPHELD if upheld else REJECTED
    conn.execute(
        update(Dispute)
        .where(Dispute.id == dispute, Dispute.state == OPEN)
        .values(
            state=state, decided_at=now, decided_by=officer, note=note.strip() or None, correction_record_id=correction
        )
    )
    data = {
        "dispute_id": str(dispute),
        "receipt": found.receipt,
        "outcome": state,
        "officer": officer,
        "correction_record_id": str(correction) if correction else None,
    }
    audit.record(
        conn, tag=EventTag.DISPUTE_DECIDED, subject=found.subject, actor=f"officer:{agency}", data=data, now=now
    )
    return get(conn, dispute) or found


def answerable(conn: Connection, dispute: uuid.UUID, *, agency: str, now: datetime) -> Filed:
    """The dispute, locked, if ``agency`` may answer it now; refuses (naming why) otherwise."""
    found = get(conn, dispute, for_update=True)
    if found is None:
        raise NotFoundError(f"dispute {dispute}: no such dispute")
    if found.source != agency:
        raise NotAuthorisedError(f"dispute {found.receipt} is for agency {found.source}; you act for {agency}")
    if found.state != OPEN:
        closed = legal_date(found.decided_at or now)
        raise FieldError("dispute", f"{found.receipt} is closed ({found.state} on {closed})")
    if found.lapsed(legal_date(now)):
        raise FieldError(
            "dispute",
            f"{found.receipt} lapsed: its deadline was {found.respond_by}, and the record lost its effect the day "
            "after; a new record is needed to give it effect again",
        )
    return found


def _filed(row: Any) -> Filed:
    """A row of ``select(Dispute, Record.kind)``: the dispute's columns and its record's kind."""
    return Filed(
        id=row.id,
        receipt=row.receipt,
        subject=row.subject_id,
        source=row.source_id,
        record=row.record_id,
        kind=row.kind,
        respond_by=row.respond_by,
        suspends=row.suspends,
        state=row.state,
        filed_at=stored_instant(row.filed_at),
        decided_at=stored_instant(row.decided_at) if row.decided_at else None,
        decided_by=row.decided_by,
        note=row.note,
        correction=row.correction_record_id,
    )


def get(conn: Connection, dispute: uuid.UUID, *, for_update: bool = False) -> Filed | None:
    query = select(Dispute, Record.kind).join(Record, Record.id == Dispute.record_id).where(Dispute.id == dispute)
    if for_update:
        # the dispute's row only: a lock on the joined record would need UPDATE on records, which
        # the service role never holds (append-only, store/roles.py)
        query = query.with_for_update(of=Dispute)
    row = conn.execute(query).first()
    return _filed(row) if row else None


def by_receipt(conn: Connection, receipt: str) -> Filed | None:
    row = conn.execute(
        select(Dispute, Record.kind).join(Record, Record.id == Dispute.record_id).where(Dispute.receipt == receipt)
    ).first()
    return _filed(row) if row else None


def open_of(conn: Connection, source: str, source_record_id: str) -> Filed | None:
    row = conn.execute(
        select(Dispute, Record.kind)
        .join(Record, Record.id == Dispute.record_id)
        .where(Dispute.source_id == source, Dispute.source_record_id == source_record_id, Dispute.state == OPEN)
    ).first()
    return _filed(row) if row else None


def listed(
    conn: Connection, *, subject: uuid.UUID | None = None, agency: str | None = None, limit: int = 100
) -> list[Filed]:
    """Disputes of a subject, or routed to an agency, newest first."""
    query = select(Dispute, Record.kind).join(Record, Record.id == Dispute.record_id)
    if subject is not None:
        query = query.where(Dispute.subject_id == subject)
    if agency is not None:
        query = query.where(Dispute.source_id == agency)
    rows = conn.execute(query.order_by(Dispute.filed_at.desc(), Dispute.id).limit(limit))
    return [_filed(r) for r in rows]


def standing(conn: Connection, records: Sequence[uuid.UUID]) -> dict[uuid.UUID, Standing]:
    """For each record version of ``records`` whose record (any version) has an open dispute:
    how the dispute bears on its effect. The derivation of measures reads it."""
    found: dict[uuid.UUID, Standing] = {}
    for where in bulk.matching(Record.id, records, conn):
        rows = conn.execute(
            select(Record.id, Dispute.filed_at, Dispute.respond_by, Dispute.suspends)
            .join(
                Dispute,
                (Dispute.source_id == Record.source_id) & (Dispute.source_record_id == Record.source_record_id),
            )
            .where(where, Dispute.state == OPEN)
        )
        for row in rows:
            found[row.id] = Standing(legal_date(stored_instant(row.filed_at)), row.respond_by, row.suspends)
    return found
