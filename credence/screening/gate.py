"""What the gate reads for one request: the decision for a subject, and the version of what it reads.

``Lookup`` is the one seam between the HTTP face and the registry: today ``TableLookup`` runs the
library ``check()`` (one prebuilt statement per request); the in-memory index of active measures
replaces it behind the same call, and nothing above it changes.
"""

from datetime import datetime
from typing import Any, Protocol

from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, Engine, func, select

from credence.screening.check import Decision, check
from credence.store.orm import Event


class Lookup(Protocol):
    def __call__(self, id_number: str, action: str, attributes: dict[str, Any], *, at: datetime) -> Decision:
        """The decision for the subject of ``id_number`` (exact), ``action`` and ``attributes``
        at the instant ``at``; refuses a malformed number or request with a ``FieldError``."""


class TableLookup:
    """``check()`` on a connection of its own per request, from the tables as known at ``at``."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def __call__(self, id_number: str, action: str, attributes: dict[str, Any], *, at: datetime) -> Decision:
        with self.engine.connect() as conn:
            return check(conn, id_number, action, attributes, at=at)


def versions(conn: Connection) -> tuple[str, int]:
    """The schema revision the store is at, and the registry's version: the sequence number of
    its newest event (every change writes one), so two gates reading the same number read the
    same registry."""
    heads = MigrationContext.configure(conn).get_current_heads()
    newest = conn.execute(select(func.coalesce(func.max(Event.seq), 0))).scalar_one()
    return ",".join(sorted(heads)), int(newest)
