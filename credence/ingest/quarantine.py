"""Read the quarantine: the rows a load refused, where they came from and why.

What is read here never includes a row's raw content: it holds ID numbers and names, and a
listing is shown to clerks and printed to terminals. ``loader.replay`` is the one reader of the
raw rows, to apply them.
"""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, select

from credence.store.orm import Quarantine


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
    )
    if source:
        query = query.where(Quarantine.source_id == source)
    if not replayed:
        query = query.where(Quarantine.replayed_at.is_(None))
    return [Held(*row) for row in conn.execute(query.order_by(Quarantine.id).limit(limit))]
