"""What an agency's officer reads before answering a dispute: the subject's statement, the
evidence (described, then each file on request) and the disputed record's history, every
version with the transaction time the registry learnt it."""

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, select
from sqlalchemy.orm import aliased

from credence.store.db import stored_instant
from credence.store.orm import Dispute, DisputeEvidence, Record


@dataclass(frozen=True, slots=True)
class File:
    id: uuid.UUID
    media_type: str
    size: int
    sha256: str


@dataclass(frozen=True, slots=True)
class Version:
    id: uuid.UUID
    version: int
    op: str
    valid_date: date
    recorded_at: datetime  # the transaction time
    legal_basis: str
    attributes: dict[str, Any]  # Any: the record's attributes as stored


@dataclass(frozen=True, slots=True)
class Case:
    statement: str
    files: list[File]
    history: list[Version]  # oldest first


def case(conn: Connection, dispute: uuid.UUID) -> Case | None:
    """The statement, the evidence's description and the record's versions, or None."""
    statement = conn.execute(select(Dispute.statement).where(Dispute.id == dispute)).scalar()
    if statement is None:
        return None
    e = DisputeEvidence
    files = [
        File(r.id, r.media_type, r.size, r.sha256)
        for r in conn.execute(
            select(e.id, e.media_type, e.size, e.sha256).where(e.dispute_id == dispute).order_by(e.created_at, e.id)
        )
    ]
    disputed = aliased(Record)
    query = (
        select(Record)
        .join(Dispute, Dispute.id == dispute)
        .join(disputed, disputed.id == Dispute.record_id)
        .where(Record.source_id == disputed.source_id, Record.source_record_id == disputed.source_record_id)
        .order_by(Record.version)
    )
    history = [
        Version(r.id, r.version, r.op, r.valid_date, stored_instant(r.recorded_at), r.legal_basis, r.attributes)
        for r in conn.execute(query)
    ]
    return Case(statement, files, history)


def evidence(conn: Connection, dispute: uuid.UUID, file: uuid.UUID) -> tuple[str, bytes] | None:
    """One evidence file of ``dispute``: its media type and bytes, or None."""
    e = DisputeEvidence
    row = conn.execute(select(e.media_type, e.content).where(e.dispute_id == dispute, e.id == file)).first()
    return None if row is None else (row.media_type, bytes(row.content))
