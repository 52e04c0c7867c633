"""The store as a backend: ``facts`` is a CTE over ``records``, as known at one instant.

The incremental path, explanations and the point of service run here, on the transaction they
already hold, for the few subjects they are about (``scope`` narrows the CTE, so a one-subject
question reads one subject's records by index).
"""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property

from sqlalchemy import Connection, text

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
    def facts(self) -> str:
        """The CTE body of ``facts``; the snapshot copies exactly this relation."""
        return facts_sql(self.target, self.catalogue, known_at=self.known_at, scope=self.scope)

    def rows(
        self, query: Query, *, subjects: Sequence[str] = ("subject_id",), records: Sequence[str] = ()
    ) -> list[Row]:
        found = [dict(row) for row in self.conn.execute(text(query.sql(self.facts))).mappings()]
        for row in found:
            for column in (*subjects, *records):
                if row[column] is not None:
                    row[column] = as_uuid(row[column])
        return found
