"""The journal of active-measure changes (``measure_changes``): what the gate's index follows.

Every transaction that changes some subjects' active measures or exemptions appends one entry
naming them, so a process holding the index in memory re-reads those subjects and nothing else.
Entries are numbered in commit order (writers hold the registry's writer lock), so a reader that
has applied entry N has every change up to N.
"""

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, func, insert, select

from credence.store.orm import MeasureChange

# above this many subjects one entry says "reload everything": a full pass changes most of the
# registry, and re-reading it subject by subject would be slower than loading it afresh
WHOLE = 10_000


@dataclass(frozen=True, slots=True)
class Entry:
    seq: int
    subjects: frozenset[uuid.UUID] | None  # None: everyone


def journal(conn: Connection, subjects: Iterable[uuid.UUID], *, now: datetime, everyone: bool = False) -> int | None:
    """Append an entry for ``subjects`` (or for everyone) in ``conn``'s transaction; nothing when
    nothing changed. Returns the entry's number."""
    changed = sorted({str(s) for s in subjects})
    if not changed and not everyone:
        return None
    seq = int(conn.execute(select(func.coalesce(func.max(MeasureChange.seq), 0))).scalar_one()) + 1
    listed = None if everyone or len(changed) > WHOLE else changed
    conn.execute(insert(MeasureChange).values(seq=seq, changed_at=now, subjects=listed))
    return seq


def newest(conn: Connection) -> int:
    """The number of the newest entry (0 before any)."""
    return int(conn.execute(select(func.coalesce(func.max(MeasureChange.seq), 0))).scalar_one())


def since(conn: Connection, seq: int) -> list[Entry]:
    """The entries after ``seq``, oldest first."""
    rows = conn.execute(
        select(MeasureChange.seq, MeasureChange.subjects).where(MeasureChange.seq > seq).order_by(MeasureChange.seq)
    )
    return [Entry(n, None if s is None else frozenset(uuid.UUID(x) for x in s)) for n, s in rows]
