"""Write event-log entries in the caller's transaction: the one way to log a change.

The subject is always named, by its internal id (never an ID number); it is None only for an
entry that has none (a quarantined or replayed row, a rulebook version). ``record`` writes one
entry; ``record_many`` the thousands a load writes, in one bulk insert.
"""

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from credence.audit.tags import EventTag
from credence.store import bulk
from credence.store.orm import Event

COLUMNS = ("tag", "subject_id", "actor", "data", "recorded_at")


@dataclass(frozen=True, slots=True, kw_only=True)
class Entry:
    tag: EventTag
    subject: uuid.UUID | None
    actor: str
    data: dict[str, Any]  # JSON: internal ids, codes and dates, no personal data


def record(
    conn: Connection,
    *,
    tag: EventTag,
    subject: uuid.UUID | None,
    actor: str,
    data: dict[str, Any],
    now: datetime,
) -> None:
    """Append one entry in the caller's transaction."""
    record_many(conn, [Entry(tag=tag, subject=subject, actor=actor, data=data)], now=now)


def record_many(conn: Connection, entries: Iterable[Entry], *, now: datetime) -> int:
    """Append entries in the caller's transaction, in their order; returns how many were written."""
    rows = [(e.tag.value, e.subject, e.actor, e.data, now) for e in entries]
    return bulk.insert_rows(conn, Event, COLUMNS, rows)
