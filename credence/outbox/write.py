"""Write notices into the outbox in the caller's transaction, and wake those that waited for a
contact. A notice's facts are what its template says, taken when the change is made: internal
ids, codes, dates, titles and legal bases, never an ID number, name or address (the address is
looked up at delivery, from the contact record, so it has a source and a date)."""

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, select, update

from credence.outbox.kinds import NoticeKind
from credence.store import bulk
from credence.store.orm import Notice as NoticeRow
from credence.store.orm import NoticeDelivery

NOTICE_COLUMNS = ("id", "subject_id", "kind", "facts", "respond_by", "created_at", "about")
DELIVERY_COLUMNS = ("notice_id", "state", "attempts", "next_at")


@dataclass(frozen=True, slots=True, kw_only=True)
class Notice:
    subject: uuid.UUID
    kind: NoticeKind
    facts: dict[str, Any]  # JSON
    respond_by: date | None = None  # the last day to dispute, where the notice opens a dispute
    about: uuid.UUID | None = None  # the listing it tells of, for a listing notice


def enqueue(conn: Connection, notices: Iterable[Notice], *, now: datetime) -> list[uuid.UUID]:
    """Append ``notices``, each due for delivery at once; returns their ids (each is the
    Message-ID and idempotency key every attempt to deliver it carries)."""
    rows = [(uuid.uuid4(), n.subject, n.kind.value, n.facts, n.respond_by, now, n.about) for n in notices]
    bulk.insert_rows(conn, NoticeRow, NOTICE_COLUMNS, rows)
    bulk.insert_rows(conn, NoticeDelivery, DELIVERY_COLUMNS, [(row[0], "pending", 0, now) for row in rows])
    return [row[0] for row in rows]


def revive(conn: Connection, subjects: Sequence[uuid.UUID], *, now: datetime) -> int:
    """Make the notices that found no contact for ``subjects`` due again (a contact record of
    theirs was just accepted); returns how many."""
    if not subjects:
        return 0
    waiting = (
        update(NoticeDelivery)
        .where(NoticeDelivery.state == "unreachable")
        .where(NoticeDelivery.notice_id.in_(select(NoticeRow.id).where(NoticeRow.subject_id.in_(list(subjects)))))
        .values(state="pending", next_at=now)
    )
    return conn.execute(waiting).rowcount
