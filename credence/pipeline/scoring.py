"""Score subjects in the store (SQLite or PostgreSQL) by executing the compiled SQL.

Incremental: after records land, only the subjects they touch are rescored (``scope``). Scores
are derived rows with deterministic ids, so rescoring everything writes the same rows.
"""

import uuid
from collections.abc import Sequence
from datetime import date, datetime

from sqlalchemy import Connection, delete, insert, text

from credence.model.catalogue import Catalogue, default_catalogue
from credence.model.ids import as_uuid, derived_id
from credence.rules.compile import facts_sql, score_query
from credence.rules.loader import Scheme
from credence.rules.targets import Dialect, Target
from credence.store.db import dialect_of
from credence.store.orm import Score


def compute(
    conn: Connection,
    scheme: Scheme,
    *,
    as_of: date,
    known_at: datetime,
    scope: Sequence[uuid.UUID] | None = None,
    exclude: Sequence[uuid.UUID] = (),
    catalogue: Catalogue | None = None,
) -> dict[uuid.UUID, tuple[int, str | None]]:
    """Scores and grades as of ``as_of``, as the registry knew them at ``known_at``."""
    target = Target(Dialect(dialect_of(conn.engine)))
    query = score_query(scheme, target, as_of=as_of, scope=scope, exclude=exclude)
    if query is None:
        return {}
    facts = facts_sql(target, catalogue or default_catalogue(), known_at=known_at, scope=scope)
    return {as_uuid(sid): (int(score), grade) for sid, score, grade in conn.execute(text(query.sql(facts)))}


def rescore(
    conn: Connection,
    schemes: dict[str, Scheme],
    *,
    as_of: date,
    known_at: datetime,
    scope: Sequence[uuid.UUID] | None = None,
) -> int:
    """Replace the stored scores of ``scope`` (everyone if None); returns rows written."""
    written = 0
    for name, scheme in schemes.items():
        current = scheme.in_force(as_of)
        if current is None or current.book.score is None:
            continue
        rows = compute(conn, scheme, as_of=as_of, known_at=known_at, scope=scope)
        stale = delete(Score).where(Score.scheme == name)
        if scope is not None:
            stale = stale.where(Score.subject_id.in_(list(scope)))
        conn.execute(stale)
        values = score_rows(name, current.book.version, rows, as_of=as_of)
        if values:
            conn.execute(insert(Score), values)
        written += len(values)
    return written


def score_rows(
    scheme: str, version: str, scores: dict[uuid.UUID, tuple[int, str | None]], *, as_of: date
) -> list[dict[str, object]]:
    """Rows for ``scores``, with ids derived from their inputs so that a rebuild writes the same rows."""
    return [
        {
            "subject_id": sid,
            "scheme": scheme,
            "id": derived_id("score", scheme, version, sid, as_of, score),
            "rulebook_version": version,
            "score": score,
            "grade": grade,
            "as_of": as_of,
        }
        for sid, (score, grade) in scores.items()
    ]
