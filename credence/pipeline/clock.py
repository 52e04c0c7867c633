"""The registry's clock, as ``credence worker`` keeps it: what must be derived again because time
passed or a subject was told, rather than because a record arrived.

Today that is the subjects waiting in ``pending_subjects``: a listing notice that reached its
subject (``outbox.claims``) lets the listing's measures be dated (``lists.effect``), and a load
killed before its refresh left its subjects there. The worker refreshes them when no other
writer holds the registry; one that does (an ingest) takes them along in its own refresh.
"""

from datetime import datetime

from sqlalchemy import Engine, exists, select

from credence import logs
from credence.exc import WriterBusyError
from credence.model.time import legal_date
from credence.pipeline import state
from credence.pipeline.update import update
from credence.rules.loader import Scheme
from credence.store.lock import writer
from credence.store.orm import PendingSubject

log = logs.get_logger(__name__)


def tick(engine: Engine, schemes: dict[str, Scheme], *, now: datetime) -> state.Written | None:
    """Refresh the subjects waiting, if any and if the writer lock is free; None otherwise."""
    with engine.connect() as conn:
        if not conn.execute(select(exists().where(PendingSubject.subject_id.is_not(None)))).scalar():
            return None
    try:
        with writer(engine, command="credence worker", wait=0):
            return update(engine, schemes, subjects=(), as_of=legal_date(now), now=now)
    except WriterBusyError:
        log.info("clock.writer_busy")
        return None
