"""A subject's listings as the registry knew them at an instant.

The stored ``listings`` table is what the last refresh derived from everything recorded; it
cannot answer "as known at T". Here, for the lists the given schemes decide, the rows are derived
again from the records known at T (``derive(known_at=T)``), for the subject and for every
organisation whose decision, as known at T, binds it. Rows of other lists (redlists, which follow
the stored grade, and lists of rulebooks not given) can only come from storage: such a row counts
from the transaction time of its ``listing.start`` event, and its end only from that of its
``listing.end`` event. Which rows were in force on a day is the caller's question.

When nothing was written after T (asking about the present), the stored rows are that answer and
are read as they are.
"""

import uuid
from collections.abc import Collection
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, or_, select

from credence import resolve
from credence.audit import EventTag
from credence.lists.derive import derive
from credence.lists.rows import ListingRow
from credence.model.identifiers import SubjectKind
from credence.rules.loader import Scheme
from credence.store.orm import Event, Listing, Record, Subject


def _binders(conn: Connection, schemes: dict[str, Scheme], subject: uuid.UUID, *, known_at: datetime) -> set[uuid.UUID]:
    """Subjects with a decision recorded by ``known_at`` that names ``subject`` in a bound role
    (any version: ``derive`` then decides which of them counted at ``known_at``)."""
    rules = [c.rule for s in schemes.values() for e in s.editions for c in e.lists if c.rule.binds]
    if not rules:
        return set()
    number = resolve.number_of(conn, subject)
    if number is None:
        return set()
    kinds = sorted({rule.decision_kind for rule in rules})
    roles = sorted({role for rule in rules for role in rule.binds})
    # only an organisation's decision binds people (its legal representative, principal, actual
    # controller); naming organisations lets the store search each one's decisions by the
    # (subject, kind) index instead of reading every record
    organisations = select(Subject.id).where(Subject.kind == SubjectKind.ORGANISATION.value)
    found = conn.execute(
        select(Record.subject_id)
        .where(
            Record.subject_id.in_(organisations),
            Record.kind.in_(kinds),
            Record.recorded_at <= known_at,
            or_(*(Record.attributes[role].as_string() == number for role in roles)),
        )
        .distinct()
    )
    return set(found.scalars())


def _settled(conn: Connection, known_at: datetime) -> bool:
    """Whether the registry has written nothing after ``known_at`` (the newest entry of the event
    log, which every accepted record and every listing change writes in its own transaction, is
    no later): then the stored rows are what it knew at ``known_at``, and nothing need be derived.
    This trusts transaction times to grow with the log, as a clock that never runs back does."""
    last = conn.execute(select(Event.recorded_at).order_by(Event.seq.desc()).limit(1)).scalar()
    if last is None:
        return True
    return (last if last.tzinfo else last.replace(tzinfo=UTC)) <= known_at


def _stored(
    conn: Connection, subject: uuid.UUID, *, known_at: datetime, lists: Collection[str] | None, derived: set[str]
) -> list[ListingRow]:
    """Stored rows of lists no given scheme derives, as far as their events were recorded by ``known_at``."""
    query = select(Listing.__table__).where(Listing.subject_id == subject, Listing.list_id.not_in(derived))
    if lists is not None:
        query = query.where(Listing.list_id.in_(list(lists)))
    rows = [ListingRow.stored(r) for r in conn.execute(query).mappings()]
    if not rows:
        return []
    listing_id = Event.data["listing_id"].as_string()
    events = conn.execute(
        select(listing_id, Event.tag).where(
            Event.subject_id == subject,
            Event.tag.in_([EventTag.LISTING_START.value, EventTag.LISTING_END.value]),
            Event.recorded_at <= known_at,
            listing_id.in_([str(r.id) for r in rows]),
        )
    ).all()
    started = {i for i, tag in events if tag == EventTag.LISTING_START.value}
    ended = {i for i, tag in events if tag == EventTag.LISTING_END.value}
    out = []
    for row in rows:
        if str(row.id) not in started:
            continue  # the registry had not written it yet
        if str(row.id) not in ended:
            row = replace(row, end_date=None, end_reason=None)  # its end was not known yet
        out.append(row)
    return out


def _in_order(rows: list[ListingRow]) -> list[dict[str, Any]]:
    """Oldest start first, as the columns of ``listings`` (what check and explain read)."""
    rows.sort(key=lambda r: (r.start_date, r.list_id, str(r.id)))
    return [r.as_dict() for r in rows]


def known_listings(
    conn: Connection,
    schemes: dict[str, Scheme],
    subject: uuid.UUID,
    *,
    known_at: datetime,
    lists: Collection[str] | None = None,
) -> list[dict[str, Any]]:
    """The listing rows naming ``subject`` (as listed or bound), as known at ``known_at``, oldest
    start first; ``lists`` narrows them to those list ids.

    Each row has the columns of ``listings``."""
    derived = {c.rule.id for s in schemes.values() for e in s.editions for c in e.lists}
    if lists is not None:
        wanted = set(lists)
        schemes = {
            name: s for name, s in schemes.items() if any(c.rule.id in wanted for e in s.editions for c in e.lists)
        }
    if _settled(conn, known_at):  # the common case, a check at the present: one indexed read
        query = select(Listing.__table__).where(Listing.subject_id == subject)
        if lists is not None:
            query = query.where(Listing.list_id.in_(list(lists)))
        return _in_order([ListingRow.stored(r) for r in conn.execute(query).mappings()])
    rows: list[ListingRow] = []
    if schemes:
        scope = [subject, *sorted(_binders(conn, schemes, subject, known_at=known_at) - {subject})]
        rows = [
            row
            for row in derive(conn, schemes, known_at=known_at, scope=scope)
            if row.subject_id == subject and (lists is None or row.list_id in lists)
        ]
    rows += _stored(conn, subject, known_at=known_at, lists=lists, derived=derived)
    return _in_order(rows)
