"""The registry's clock, as ``credence worker`` keeps it: what must be derived again because time
passed or a subject was told, rather than because a record arrived; and the transparency log's
checkpoint, signed at least every minute while the log grows.

Today that is the subjects waiting in ``pending_subjects``: a listing notice that reached its
subject (``outbox.claims``) lets the listing's measures be dated (``lists.effect``), and a load
killed before its refresh left its subjects there. The worker refreshes them when no other
writer holds the registry; one that does (an ingest) takes them along in its own refresh.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine, exists, select

from credence import logs
from credence.audit import checkpoints, notes
from credence.exc import WriterBusyError
from credence.model.time import legal_date
from credence.pipeline import state
from credence.pipeline.update import update
from credence.rules.loader import Scheme
from credence.store.lock import writer
from credence.store.orm import PendingSubject

log = logs.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class Checkpointing:
    """How the worker signs the log's checkpoints: the key, the log's name, how often."""

    signer: notes.Signer
    origin: str
    every: timedelta = timedelta(seconds=60)


def checkpoint(engine: Engine, plan: Checkpointing, *, now: datetime) -> checkpoints.Advanced | None:
    """Integrate the log's new entries and sign a checkpoint if it grew (``credence audit
    checkpoint``), if the writer lock is free; None when another writer holds it."""
    try:
        with writer(engine, command="credence worker", wait=0), engine.begin() as conn:
            return checkpoints.advance(conn, plan.signer, now=now, origin=plan.origin)
    except WriterBusyError:
        return None


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
