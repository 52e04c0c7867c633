"""Full recompute: snapshot the store into DuckDB, derive everything there (or on Spark), store it.

A rebuild must equal the incremental state: it derives with the same ``state.derive`` on the
DuckDB backend (or the Spark backend loaded from the same snapshot) and writes with the same
``state.write``; the tests compare the paths.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from sqlalchemy import Connection, Engine, delete

from credence.batch import duckdb, parquet, spark
from credence.batch.backend import Backend
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


@dataclass(frozen=True, slots=True)
class Through:
    """The Parquet snapshot a rebuild reads through: its folder, and the export's settings."""

    folder: Path
    overlap: float
    buckets: int


def rebuild(
    engine: Engine,
    schemes: dict[str, Scheme],
    *,
    as_of: date,
    now: datetime,
    write: bool = True,
    spark_master: str | None = None,
    snapshot: Through | None = None,
) -> Rebuilt:
    """Derive every subject's state in DuckDB (on Spark at ``spark_master``, if given) from the
    records as known at ``now``; store it, in the transaction the snapshot was read in, unless
    ``write`` is false (a dry run, which only reads). Nobody is left waiting for a refresh after it.

    With ``snapshot``, the records are read from that Parquet snapshot, first brought up to
    ``now`` by an incremental export in the same transaction (run it under the writer lock)."""
    if not write:
        with engine.connect() as conn:
            snap = _take(conn, now, snapshot)
            with _engine_room(snap, spark_master) as backend:
                derived, written = state.derive(backend, conn, schemes, as_of=as_of), state.Written()
    else:
        with engine.begin() as conn:
            conn.execute(delete(PendingSubject))
            snap = _take(conn, now, snapshot)
            with _engine_room(snap, spark_master) as backend:
                derived, written = state.refresh(conn, schemes, backend, as_of=as_of, now=now, scope=None)
    return Rebuilt(derived=derived, written=written, facts=snap.facts, subjects=snap.subjects, seconds=snap.seconds)


def _take(conn: Connection, now: datetime, through: Through | None) -> duckdb.Snapshot:
    """The records as known at ``now``: copied from the store through Arrow, or, with ``through``,
    exported to the Parquet snapshot (only what is new) and read back from it: the same tables."""
    if through is None:
        return duckdb.take(conn, known_at=now)
    parquet.export(conn, through.folder, now=now, overlap=through.overlap, buckets=through.buckets)
    return duckdb.read(through.folder, known_at=now)


@contextmanager
def _engine_room(snap: duckdb.Snapshot, spark_master: str | None) -> Iterator[Backend]:
    """The snapshot itself, or its tables loaded into Spark (pyspark imported only then)."""
    if spark_master is None:
        yield snap
        return
    with spark.loaded(snap, spark.session(spark_master)) as backend:
        yield backend
