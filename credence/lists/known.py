"""Derived state as the registry knew it at an instant: a lookup, never a re-derivation.

Listings, active measures and exemptions are stored as versions over transaction time
(``store.versioned``): the rows the registry held at ``known_at`` are those derived by then and
not yet superseded. Which of them were in force on a day is a question about valid time
(``start_date``/``end_date``, ``valid_from``/``valid_to``).
"""

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, Table, bindparam, case, func, or_, select

from credence.lists.rows import ListingRow
from credence.store import versioned
from credence.store.orm import (
    ActiveMeasure,
    ActiveMeasureHistory,
    Exemption,
    ExemptionHistory,
    Listing,
    ListingHistory,
    Subject,
)


def _in_order(rows: list[ListingRow]) -> list[dict[str, Any]]:
    """Oldest start first, as the columns of ``listings`` (what check and explain read)."""
    rows.sort(key=lambda r: (r.start_date, r.list_id, str(r.id)))
    return [r.as_dict() for r in rows]


def _listings(table: Table) -> list[ColumnElement[bool]]:
    return [table.c.subject_id == bindparam("subject")]


def _exempted(table: Table) -> ColumnElement[Any]:
    """The reason of an exemption known at ``at`` for the row's subject, action and case on
    ``day`` (the lesser of the current and the historical one, if both), so the point of service
    reads measures and exemptions in one statement."""
    day, at = bindparam("day", type_=Exemption.day.type), bindparam("at", type_=Exemption.derived_at.type)
    reasons = []
    for model in (Exemption, ExemptionHistory):
        ex = model.__table__
        when = [
            ex.c.subject_id == table.c.subject_id,
            ex.c.day == day,
            ex.c.action == table.c.action,
            ex.c.case_number == table.c.case_number,
            ex.c.derived_at <= at,
        ]
        if model is ExemptionHistory:
            when.append(ex.c.superseded_at > at)
        reasons.append(select(func.min(ex.c.reason)).where(*when).scalar_subquery())
    now, then = reasons
    return case((now.is_(None), then), (then.is_(None), now), (now < then, now), else_=then).label("exemption")


def _measures(table: Table) -> list[ColumnElement[bool]]:
    day = bindparam("day", type_=table.c.valid_from.type)
    subject = select(Subject.id).where(Subject.id_number == bindparam("number")).scalar_subquery()
    return [
        table.c.subject_id == subject,
        table.c.action == bindparam("action"),
        table.c.valid_from <= day,
        or_(table.c.valid_to.is_(None), table.c.valid_to > day),
    ]


# built once: building a statement costs more than running it, and these run on every check
LISTINGS = versioned.known_query(Listing, ListingHistory, _listings)
MEASURES = versioned.known_query(ActiveMeasure, ActiveMeasureHistory, _measures, extra=_exempted)


def known_listings(conn: Connection, subject: uuid.UUID, *, known_at: datetime) -> list[dict[str, Any]]:
    """The listing rows naming ``subject`` (as listed or bound) that the registry held at
    ``known_at``, oldest start first. Each row has the columns of ``listings``."""
    found = conn.execute(LISTINGS, {"subject": subject, "at": known_at}).mappings()
    return _in_order([ListingRow.stored(dict(row)) for row in found])


def measures_in_force(
    conn: Connection, number: str, *, action: str, day: date, known_at: datetime
) -> list[dict[str, Any]]:
    """The active measures for ``action`` that applied on ``day`` to the subject of the ID number
    ``number`` (canonical), as the registry knew them at ``known_at``, oldest listing first; each
    with ``exemption``, the reason of a court's exemption for its case on that day, if any. One
    statement: the point of service runs nothing else."""
    params = {"number": number, "action": action, "day": day, "at": known_at}
    found = [dict(row) for row in conn.execute(MEASURES, params).mappings()]
    found.sort(key=lambda r: (r["listing_start"] or date.min, r["list_id"] or "", str(r["listing_id"] or r["id"])))
    return found
