"""The store as a backend: ``facts`` is a CTE over ``records``, as known at one instant.

The incremental path, explanations and the point of service run here, on the transaction they
already hold, for the few subjects they are about (``scope`` narrows the CTE, so a one-subject
question reads one subject's records by index).
"""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property, lru_cache

from sqlalchemy import Connection, TextClause, text

from credence.batch.backend import Row
from credence.model.catalogue import Catalogue, default_catalogue
from credence.model.ids import as_uuid
from credence.rules.compile import Query, facts_sql
from credence.rules.targets import Dialect, Target
from credence.store.db import dialect_of


@dataclass
class StoreBackend:
    """``conn``'s records as known at ``known_at``, for ``scope`` (everyone if None)."""

    conn: Connection
    known_at: datetime
    scope: Sequence[uuid.UUID] | None = None
    catalogue: Catalogue = field(default_factory=default_catalogue)

    @cached_property
    def target(self) -> Target:
        return Target(Dialect(dialect_of(self.conn.engine)))

    @cached_property
    def facts(self) -> Query:
        """The CTE body of ``facts`` with its parameters; the snapshot copies exactly this relation."""
        return facts_sql(self.target, self.catalogue, known_at=self.known_at, scope=self.scope)

    def rows(
        self, query: Query, *, subjects: Sequence[str] = ("subject_id",), records: Sequence[str] = ()
    ) -> list[Row]:
        # the instant and the scope are bound, not written in: the statement's text is the same
        # on every update, so the engine reuses its plan (see Target.in_ids)
        params = {**self.facts.params, **query.params}
        found = [dict(row) for row in self.conn.execute(_statement(query.sql(self.facts.select)), params).mappings()]
        for row in found:
            for column in (*subjects, *records):
                if row[column] is not None:
                    row[column] = as_uuid(row[column])
        return found


@lru_cache(maxsize=256)
def _statement(sql: str) -> TextClause:
    """The text clause of ``sql``, made once: text() scans the whole 12 KB of a score-interval
    query for bind parameters every time it is made."""
    return text(sql)
