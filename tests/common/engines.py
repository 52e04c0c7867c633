"""Short names for asking the engine room what the rules give, as the tests ask it often."""

import uuid
from collections.abc import Sequence
from datetime import date, datetime
from functools import partial

from sqlalchemy import Connection

from credence import resolve
from credence.batch import duckdb, evaluate
from credence.batch.store import StoreBackend
from credence.lists.derive import listings
from credence.lists.rows import ListingRow
from credence.rules.loader import Scheme


def store_scores(
    conn: Connection,
    scheme: Scheme,
    *,
    as_of: date,
    known_at: datetime,
    scope: Sequence[uuid.UUID] | None = None,
    exclude: Sequence[uuid.UUID] = (),
) -> evaluate.Scores:
    """Scores and grades on ``as_of`` from the store's records as known at ``known_at``."""
    backend = StoreBackend(conn, known_at=known_at, scope=scope)
    return evaluate.scores(backend, scheme, as_of=as_of, exclude=exclude)


def relist(snap: duckdb.Snapshot, conn: Connection, schemes: dict[str, Scheme]) -> list[ListingRow]:
    """Every decided listing, derived in the DuckDB snapshot."""
    return listings(snap, schemes, lookup=partial(resolve.lookup, conn))
