"""What an agency's officer reads before answering a dispute or a credit-repair application: the
subject's statement, the evidence (described, then each file on request) and the record's
history, every version with the transaction time the registry learnt it."""

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, select
from sqlalchemy.orm import aliased

from credence.store.db import stored_instant
from credence.store.orm import Dispute, DisputeEvidence, Record, RepairApplication, RepairEvidence


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
    return Case(statement, files, _versions(conn, query))


def _versions(conn: Connection, query: Any) -> list[Version]:
    return [
        Version(r.id, r.version, r.op, r.valid_date, stored_instant(r.recorded_at), r.legal_basis, r.attributes)
        for r in conn.execute(query)
    ]


def repair_case(conn: Connection, application: uuid.UUID) -> Case | None:
    """A repair application's statement, its evidence described and its record's versions, or None."""
    found = conn.execute(
        select(RepairApplication.statement, RepairApplication.source_id, RepairApplication.source_record_id).where(
            RepairApplication.id == application
        )
    ).first()
    if found is None:
        return None
    e = RepairEvidence
    files = [
        File(r.id, r.media_type, r.size, r.sha256)
        for r in conn.execute(
            select(e.id, e.media_type, e.size, e.sha256)
            .where(e.application_id == application)
            .order_by(e.created_at, e.id)
        )
    ]
    query = (
        select(Record)
        .where(Record.source_id == found.source_id, Record.source_record_id == found.source_record_id)
        .order_by(Record.version)
    )
    return Case(found.statement, files, _versions(conn, query))


def repair_evidence(conn: Connection, application: uuid.UUID, file: uuid.UUID) -> tuple[str, bytes] | None:
    """One evidence file of a repair application: its media type and bytes, or None."""
    e = RepairEvidence
    row = conn.execute(select(e.media_type, e.content).where(e.application_id == application, e.id == file)).first()
    return None if row is None else (row.media_type, bytes(row.content))


def evidence(conn: Connection, dispute: uuid.UUID, file: uuid.UUID) -> tuple[str, bytes] | None:
    """One evidence file of ``dispute``: its media type and bytes, or None."""
    e = DisputeEvidence
    row = conn.execute(select(e.media_type, e.content).where(e.dispute_id == dispute, e.id == file)).first()
    return None if row is None else (row.media_type, bytes(row.content))
