"""The score job: score and list the whole registry, in the store, DuckDB or Spark, or only look.

``credence score`` and any later face call ``score``; it says what it found (subjects by scheme
and grade) and what it wrote, and leaves the showing to the face.
"""

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Engine

from credence.batch import spark
from credence.batch.store import StoreBackend
from credence.exc import CredenceError
from credence.pipeline import rebuild, report, state
from credence.pipeline.update import update
from credence.rules.loader import Scheme

Graded = dict[str, Counter[str | None]]  # scheme -> grade -> subjects


class Where(StrEnum):
    """Where the rules run: the store, incrementally, or a snapshot in DuckDB or Spark, in full."""

    STORE = "store"
    DUCKDB = "duckdb"
    SPARK = "spark"


@dataclass(frozen=True, slots=True)
class Scored:
    graded: Graded
    written: state.Written
    snapshot: tuple[int, int, float] | None = None  # facts, subjects, seconds, for a snapshot's run


def refuse_drafts(schemes: dict[str, Scheme], *, dry_run: bool) -> None:
    """A ``CredenceError`` naming the draft editions among ``schemes``, unless it is a dry run
    (the only way a draft may be scored); a face calls it before it takes the writer lock."""
    editions = (e for s in schemes.values() for e in s.editions)
    found = [f"{e.book.scheme} {e.book.version}" for e in editions if e.book.status == "draft"]
    if found and not dry_run:
        raise CredenceError(f"draft rulebooks ({', '.join(found)}) can only be scored with --dry-run")


def refuse_missing(where: Where) -> None:
    """A ``CredenceError`` saying how to install the engine asked for, if it is not installed."""
    if where is Where.SPARK:
        try:
            import pyspark  # noqa: F401 - only whether it imports; the job imports it again when it runs
        except ImportError:
            raise CredenceError(spark.MISSING) from None


def score(
    engine: Engine,
    schemes: dict[str, Scheme],
    *,
    where: Where,
    dry_run: bool,
    as_of: date,
    now: datetime,
    spark_master: str = "local[2]",
    snapshot: rebuild.Through | None = None,
) -> Scored:
    """Score and list everyone on ``as_of`` from the records as known at ``now``; write nothing
    if ``dry_run``. Draft rulebooks are refused unless it is a dry run. ``spark_master`` is where
    ``Where.SPARK`` runs (``CREDENCE_SPARK_MASTER``); ``snapshot``, the Parquet snapshot a full
    recompute reads the records through (brought up to date first)."""
    refuse_drafts(schemes, dry_run=dry_run)
    if snapshot is not None and where is Where.STORE:
        raise CredenceError("--snapshot: the store engine reads the store itself; expected --engine duckdb or spark")
    if where is Where.STORE and dry_run:
        with engine.connect() as conn:
            scores = state.scores(StoreBackend(conn, known_at=now), schemes, as_of=as_of)
        return Scored(graded=_graded(scores), written=state.Written())
    if where is Where.STORE:
        written = update(engine, schemes, subjects=None, as_of=as_of, now=now)
        with engine.connect() as conn:
            return Scored(graded=report.grades(conn, day=as_of), written=written)
    master = spark_master if where is Where.SPARK else None
    rebuilt = rebuild.rebuild(
        engine, schemes, as_of=as_of, now=now, write=not dry_run, spark_master=master, snapshot=snapshot
    )
    return Scored(
        graded=_graded(rebuilt.derived.scores),
        written=rebuilt.written,
        snapshot=(rebuilt.facts, rebuilt.subjects, rebuilt.seconds),
    )


def _graded(scores: state.Scores) -> Graded:
    return {name: Counter(grade for _, grade in by_subject.values()) for name, by_subject in scores.items()}
