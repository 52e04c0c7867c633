"""Where compiled rule SQL runs: the ``Backend`` protocol, on the model of Splink's DatabaseAPI.

A backend holds the relations the compiled SQL reads (``facts``, the record versions as known at
one instant, and ``subjects``) and runs a ``rules.compile.Query`` against them. Two exist: the
store (SQLite or PostgreSQL, ``facts`` as a CTE over ``records``, see ``batch.store``) and the
DuckDB snapshot (``facts`` as a table copied through Arrow, see ``batch.duckdb``); a Spark
backend would be a third. What a query means is decided by the compiler and the ``Target`` it
was compiled for; a backend only says where it runs and turns ids back into ``uuid.UUID``.
"""

import uuid
from collections.abc import Sequence
from typing import Any, Protocol

from credence.rules.compile import Query
from credence.rules.targets import Target

Row = dict[str, Any]


class Backend(Protocol):
    """An engine with ``facts`` and ``subjects`` in scope."""

    @property
    def target(self) -> Target:
        """The dialect queries must be compiled for."""
        ...

    @property
    def scope(self) -> Sequence[uuid.UUID] | None:
        """The subjects whose facts are in scope (None: everyone); queries are compiled for it."""
        ...

    def rows(
        self, query: Query, *, subjects: Sequence[str] = ("subject_id",), records: Sequence[str] = ()
    ) -> list[Row]:
        """The query's rows as column-name mappings, with the ``subjects`` and ``records``
        columns (internal ids) as ``uuid.UUID`` on every engine."""
        ...
