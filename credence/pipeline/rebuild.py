"""Full recompute: snapshot the store into DuckDB, derive everything there, store it.

A rebuild must equal the incremental state: it derives with the same ``state.derive`` on the
DuckDB backend and writes with the same ``state.write``; the tests compare the two paths.
"""

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Engine, delete

from credence.batch import duckdb
from credence.pipeline import state
from credence.rules.loader import Scheme
from credence.store.orm import PendingSubject


@dataclass(frozen=True, slots=True)
class Rebuilt:
    derived: state.Derived
    written: state.Written
    facts: int  # the snapshot's size and how long taking it took
    subjects: int
    seconds: float


def rebuild(engine: Engine, schemes: dict[str, Scheme], *, as_of: date, now: datetime, write: bool = True) -> Rebuilt:
    """Derive every subject's state in DuckDB from the records as known at ``now``; store it, in
    the transaction the snapshot was read in, unless ``write`` is false (a dry run, which only
    reads). Nobody is left waiting for a refresh after it."""
    if not write:
        with engine.connect() as conn:
            snap = duckdb.take(conn, known_at=now)
            derived, written = state.derive(snap, conn, schemes, as_of=as_of), state.Written()
    else:
        with engine.begin() as conn:
            conn.execute(delete(PendingSubject))
            snap = duckdb.take(conn, known_at=now)
            derived, written = state.refresh(conn, schemes, snap, as_of=as_of, now=now, scope=None)
    return Rebuilt(derived=derived, written=written, facts=snap.facts, subjects=snap.subjects, seconds=snap.seconds)
