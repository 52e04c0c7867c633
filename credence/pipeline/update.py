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

from credence.lists import derive, redlist
from credence.logs import get_logger
from credence.pipeline import rulebooks, scoring
from credence.rules.loader import Scheme
from credence.store import bulk
from credence.store.orm import PendingSubject

log = get_logger(__name__)
FULL_PASS_ABOVE = 2000  # past this many subjects one pass over everyone beats a long IN list


def update(
    engine: Engine,
    schemes: dict[str, Scheme],
    *,
    subjects: Collection[uuid.UUID] | None,
    as_of: date,
    now: datetime,
) -> tuple[int, int, int]:
    """Returns (scores written, listings started, listings ended)."""
    with engine.begin() as conn:
        wanted = None
        if subjects is not None:
            wanted = set(subjects) | set(conn.execute(select(PendingSubject.subject_id)).scalars())
            if not wanted:
                return (0, 0, 0)
        scope = sorted(wanted) if wanted is not None and len(wanted) <= FULL_PASS_ABOVE else None
        settled = delete(PendingSubject)
        for where in bulk.matching(PendingSubject.subject_id, scope or (), conn):
            conn.execute(settled.where(where))
        if scope is None:
            conn.execute(settled)
        rulebooks.register(conn, schemes, now=now)
        written = scoring.rescore(conn, schemes, as_of=as_of, known_at=now, scope=scope)
        started, ended = derive.refresh(conn, schemes, known_at=now, now=now, scope=scope)
        red_started, red_ended = redlist.refresh(conn, schemes, as_of=as_of, now=now, scope=scope)
        started, ended = started + red_started, ended + red_ended
    log.info(
        "registry.updated",
        subjects="all" if scope is None else len(scope),
        scores=written,
        listings_started=started,
        listings_ended=ended,
    )
    return written, started, ended
