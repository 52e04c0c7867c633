"""Leasing due rows to one worker: the claim both outboxes (notices, provider calls) make.

A due row is pending, due by ``next_at`` and not leased (or its lease ran out). On PostgreSQL the
select skips rows another worker's claim has locked (``FOR UPDATE SKIP LOCKED``); on SQLite,
whose writers take turns, the update re-checks that the row is still due, and only what it
changed is claimed. The caller commits at once, then sends.
"""

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, and_, or_, select, update

PENDING = "pending"


def take(
    conn: Connection, model: Any, key: Any, *, owner: str, now: datetime, lease: timedelta, limit: int
) -> Sequence[Any]:
    """Lease up to ``limit`` due rows of ``model`` (keyed by its column ``key``) to ``owner``
    until ``now + lease``, oldest due first; returns the keys taken."""
    free = or_(model.lease_until.is_(None), model.lease_until < now)
    due = and_(model.state == PENDING, model.next_at <= now, free)
    candidates = select(key).where(due).order_by(model.next_at).limit(limit).with_for_update(skip_locked=True)
    ids = list(conn.scalars(candidates))
    if not ids:
        return []
    return conn.scalars(
        update(model).where(key.in_(ids), due).values(lease_owner=owner, lease_until=now + lease).returning(key)
    ).all()
