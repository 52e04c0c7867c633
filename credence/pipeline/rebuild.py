"""Full recompute: snapshot the store into DuckDB and run the same compiled SQL there.

A rebuild must equal the incremental state; ``credence score --engine duckdb`` writes the
rebuilt scores back, and the tests compare the two paths.
"""

import uuid
from datetime import date, datetime
from functools import partial

from sqlalchemy import Connection, delete, insert

from credence import resolve
from credence.batch import duckdb as batch
from credence.lists.derive import listings
from credence.lists.rows import ListingRow
from credence.model.catalogue import SQL_TYPES, default_catalogue
from credence.model.ids import as_uuid
from credence.pipeline.scoring import score_rows
from credence.rules.compile import facts_sql, score_query
from credence.rules.loader import Scheme
from credence.rules.targets import Dialect, Target
from credence.store.db import dialect_of
from credence.store.orm import PendingSubject, Score

Scores = dict[str, dict[uuid.UUID, tuple[int, str | None]]]


def take_snapshot(conn: Connection, *, known_at: datetime) -> batch.Snapshot:
    catalogue = default_catalogue()
    store = Target(Dialect(dialect_of(conn.engine)))
    types = {name: SQL_TYPES[kind] for name, kind in catalogue.attribute_types().items()}
    return batch.snapshot(conn, facts_sql(store, catalogue, known_at=known_at), types)


def recompute(snap: batch.Snapshot, schemes: dict[str, Scheme], *, as_of: date) -> Scores:
    out: Scores = {}
    ids: list[uuid.UUID] = []
    for name, scheme in schemes.items():
        query = score_query(scheme, Target(Dialect.DUCKDB), as_of=as_of)
        if query is None:
            continue
        # scores come back keyed by integers; the ids are looked up here, once per snapshot,
        # rather than joined in the SQL for every scheme
        ids = ids or [as_uuid(uid) for uid in snap.subject_ids()]
        out[name] = {ids[key - 1]: (int(score), grade) for key, score, grade in batch.run(snap, query.sql())}
    return out


def relist(snap: batch.Snapshot, conn: Connection, schemes: dict[str, Scheme]) -> list[ListingRow]:
    """Every listing, derived in DuckDB from the snapshot; bound ID numbers are looked up in the
    store, because the snapshot carries no ID numbers."""
    return listings(
        schemes,
        Target(Dialect.DUCKDB),
        run=lambda query: batch.rows(snap, batch.with_ids(query.sql(), records=("record_id",))),
        lookup=partial(resolve.lookup, conn),
    )


def write(conn: Connection, schemes: dict[str, Scheme], scores: Scores, *, as_of: date) -> int:
    """Replace every stored score with ``scores``; nobody is left waiting for a refresh."""
    conn.execute(delete(PendingSubject))
    written = 0
    for name, rows in scores.items():
        current = schemes[name].in_force(as_of)
        assert current is not None  # noqa: S101 - recompute only returns schemes in force
        conn.execute(delete(Score).where(Score.scheme == name))
        values = score_rows(name, current.book.version, rows, as_of=as_of)
        if values:
            conn.execute(insert(Score), values)
        written += len(values)
    return written
