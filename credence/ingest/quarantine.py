"""Read the quarantine: the rows a load refused, where they came from and why.

Rows a source's circuit breaker held (``ingest.breaker``) are in the same table, under a hold;
they are listed by ``credence held``, not here, and replay does not apply them until an officer
releases their hold.

What is read here never includes a row's raw content: it holds ID numbers and names, and a
listing is shown to clerks and printed to terminals. ``loader.replay`` is the one reader of the
raw rows, to apply them.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, or_, select

from credence.store.orm import Hold, Quarantine


def refused() -> Any:  # Any: a SQL condition
    """Rows a check refused, not those a breaker holds (a hold an officer released counts as
    refused again: its rows that no longer pass wait like any other)."""
    released = select(Hold.id).where(Hold.outcome == "released")
    return or_(Quarantine.hold_id.is_(None), Quarantine.hold_id.in_(released))


@dataclass(frozen=True)
class Held:
    """A quarantined row without its content: its id (the key of ``ingest --replay --fixes``),
    file, line, the field that failed, the reason, and when it was replayed (None while waiting)."""

    id: int
    source_id: str
    file: str
    line: int
    field: str | None
    reason: str
    replayed_at: datetime | None


def held(conn: Connection, *, source: str | None = None, replayed: bool = False, limit: int = 50) -> list[Held]:
    """The first ``limit`` quarantined rows by id, of ``source`` only if given.

    Args:
        conn: a connection to the registry.
        source: only this source's rows (None: every source).
        replayed: include the rows already replayed; by default only those still waiting.
        limit: at most this many rows.
    """
    query = select(
        Quarantine.id,
        Quarantine.source_id,
        Quarantine.file,
        Quarantine.line,
        Quarantine.field,
        Quarantine.reason,
        Quarantine.replayed_at,
    ).where(refused())
    if source:
        query = query.where(Quarantine.source_id == source)
    if not replayed:
        query = query.where(Quarantine.replayed_at.is_(None))
    return [Held(*row) for row in conn.execute(query.order_by(Quarantine.id).limit(limit))]
