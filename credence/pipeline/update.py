"""After records land: rescore the subjects they touch and refresh their listings, in one
transaction, so a measure lifts the moment the record that ends it is accepted.

The subjects waiting in ``pending_subjects`` (written with their records) are always taken along
and cleared in the same transaction: a load killed before its refresh leaves them there, and the
next update, whatever it was asked for, settles them.
"""

import uuid
from collections.abc import Collection
from datetime import date, datetime

from sqlalchemy import Engine, delete, select

from credence.batch import duckdb
from credence.batch.backend import Backend
from credence.batch.store import StoreBackend
from credence.logs import get_logger
from credence.pipeline import state
from credence.rules.loader import Scheme
from credence.store import bulk
from credence.store.orm import PendingSubject

log = get_logger(__name__)
# past this many subjects, one pass over everyone in the DuckDB snapshot beats the store: the
# score-interval SQL grows faster than linearly in SQLite's planner (1,000 subjects 1.6 s, 2,000
# 5.2 s, everyone in a 20,000-person city 93 s, against about 1 s for the snapshot)
FULL_PASS_ABOVE = 500


def update(
    engine: Engine,
    schemes: dict[str, Scheme],
    *,
    subjects: Collection[uuid.UUID] | None,
    as_of: date,
    now: datetime,
) -> state.Written:
    """Rescore and relist ``subjects`` (everyone if None) and every waiting subject: in the store
    for a few, in a DuckDB snapshot of the transaction's own view for many; written in the store,
    in one transaction."""
    with engine.begin() as conn:
        wanted = None
        if subjects is not None:
            wanted = set(subjects) | set(conn.execute(select(PendingSubject.subject_id)).scalars())
            if not wanted:
                return state.Written()
        scope = sorted(wanted) if wanted is not None and len(wanted) <= FULL_PASS_ABOVE else None
        settled = delete(PendingSubject)
        for where in bulk.matching(PendingSubject.subject_id, scope or (), conn):
            conn.execute(settled.where(where))
        if scope is None:
            conn.execute(settled)
        backend: Backend = (
            StoreBackend(conn, known_at=now, scope=scope) if scope is not None else duckdb.take(conn, known_at=now)
        )
        _, written = state.refresh(conn, schemes, backend, as_of=as_of, now=now, scope=scope)
    log.info(
        "registry.updated",
        subjects="all" if scope is None else len(scope),
        scores=written.scores,
        listings_started=written.started,
        listings_ended=written.ended,
    )
    return written
