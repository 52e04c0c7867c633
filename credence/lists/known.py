"""Derived state as the registry knew it at an instant: a lookup, never a re-derivation.

Listings, active measures and exemptions are stored as versions over transaction time
(``store.versioned``): the rows the registry held at ``known_at`` are those derived by then and
not yet superseded. Which of them were in force on a day is a question about valid time
(``start_date``/``end_date``, ``valid_from``/``valid_to``).
"""

import uuid
from collections.abc import Collection
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, Table, or_

from credence.lists.rows import ListingRow
from credence.store import versioned
from credence.store.orm import ActiveMeasure, ActiveMeasureHistory, Exemption, ExemptionHistory, Listing, ListingHistory


def _in_order(rows: list[ListingRow]) -> list[dict[str, Any]]:
    """Oldest start first, as the columns of ``listings`` (what check and explain read)."""
    rows.sort(key=lambda r: (r.start_date, r.list_id, str(r.id)))
    return [r.as_dict() for r in rows]


def known_listings(
    conn: Connection, subject: uuid.UUID, *, known_at: datetime, lists: Collection[str] | None = None
) -> list[dict[str, Any]]:
    """The listing rows naming ``subject`` (as listed or bound) that the registry held at
    ``known_at``, oldest start first; ``lists`` narrows them to those list ids. Each row has the
    columns of ``listings``."""

    def where(table: Table) -> list[ColumnElement[bool]]:
        found: list[ColumnElement[bool]] = [table.c.subject_id == subject]
        if lists is not None:
            found.append(table.c.list_id.in_(list(lists)))
        return found

    found = versioned.known(conn, Listing, ListingHistory, where, at=known_at)
    return _in_order([ListingRow.stored(row) for row in found])


def measures_in_force(
    conn: Connection, subject: uuid.UUID, *, action: str, day: date, known_at: datetime
) -> list[dict[str, Any]]:
    """The active measures for ``action`` that applied to ``subject`` on ``day``, as the registry
    knew them at ``known_at``; oldest listing first."""

    def where(table: Table) -> list[ColumnElement[bool]]:
        return [
            table.c.subject_id == subject,
            table.c.action == action,
            table.c.valid_from <= day,
            or_(table.c.valid_to.is_(None), table.c.valid_to > day),
        ]

    found = versioned.known(conn, ActiveMeasure, ActiveMeasureHistory, where, at=known_at)
    found.sort(key=lambda r: (r["listing_start"] or date.min, r["list_id"] or "", str(r["listing_id"] or r["id"])))
    return found


def exemption(
    conn: Connection, subject: uuid.UUID, *, action: str, case: str | None, day: date, known_at: datetime
) -> str | None:
    """The reason of the deciding court's one-off exemption for ``action`` on ``day`` in ``case``,
    as the registry knew it at ``known_at``, if there is one."""
    if case is None:
        return None

    def where(table: Table) -> list[ColumnElement[bool]]:
        return [
            table.c.subject_id == subject,
            table.c.day == day,
            table.c.action == action,
            table.c.case_number == case,
        ]

    found = versioned.known(conn, Exemption, ExemptionHistory, where, at=known_at)
    return min((str(r["reason"]) for r in found), default=None)
