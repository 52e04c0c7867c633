"""The versions a gate process reads: the store's schema and the registry's newest event.

A check itself is answered by the in-memory index (``screening.index``), never by a query.
"""

from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, func, select

from credence.store.orm import Event


def versions(conn: Connection) -> tuple[str, int]:
    """The schema revision the store is at, and the registry's version: the sequence number of
    its newest event (every change writes one), so two gates reading the same number read the
    same registry."""
    heads = MigrationContext.configure(conn).get_current_heads()
    newest = conn.execute(select(func.coalesce(func.max(Event.seq), 0))).scalar_one()
    return ",".join(sorted(heads)), int(newest)
