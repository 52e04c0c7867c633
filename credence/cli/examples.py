"""Subjects worth a first look, found in the registry: ``explain --example`` and the demo's picks.

Each pick is deterministic (ties fall by ID number), so the demo's "Try next" lines and a rerun
of them show the same subject.
"""

import uuid
from datetime import date
from enum import StrEnum

from sqlalchemy import ColumnElement, Connection, Select, select

from credence.exc import NotFoundError
from credence.model.identifiers import SubjectKind
from credence.store.orm import Listing, Score, Subject

TOP_SCHEME = "suzhou-osmanthus"
LOW_SCHEME = "rongcheng-credit"


class Example(StrEnum):
    LISTED = "listed"
    BOUND = "bound"
    TOP = "top"
    LOW = "low"


FOUND = {
    Example.LISTED: "a person listed today as the subject of a listing",
    Example.BOUND: "a person bound today by an organisation's listing (as its legal representative, say)",
    Example.TOP: f"the highest {TOP_SCHEME} score",
    Example.LOW: f"the lowest {LOW_SCHEME} score",
}
MISSING = {
    Example.LISTED: "no person listed today as the subject of a listing",
    Example.BOUND: "no person bound today by an organisation's listing",
    Example.TOP: f"no {TOP_SCHEME} scores",
    Example.LOW: f"no {LOW_SCHEME} scores",
}


def _active(day: date) -> ColumnElement[bool]:
    return (Listing.start_date <= day) & (Listing.end_date.is_(None) | (Listing.end_date > day))


def _query(which: Example, day: date) -> Select[uuid.UUID]:
    people = select(Subject.id).where(Subject.kind == SubjectKind.PERSON)
    if which is Example.LISTED:
        return people.join(Listing, Listing.subject_id == Subject.id).where(Listing.role == "subject", _active(day))
    if which is Example.BOUND:
        return people.join(Listing, Listing.subject_id == Subject.id).where(Listing.role != "subject", _active(day))
    scheme, best = (TOP_SCHEME, Score.score.desc()) if which is Example.TOP else (LOW_SCHEME, Score.score.asc())
    return select(Subject.id).join(Score, Score.subject_id == Subject.id).where(Score.scheme == scheme).order_by(best)


def find(conn: Connection, which: Example, *, day: date) -> uuid.UUID | None:
    """The example subject's internal id, or None when the registry has no such subject."""
    found: uuid.UUID | None = conn.execute(_query(which, day).order_by(Subject.id_number).limit(1)).scalar()
    return found


def pick(conn: Connection, which: Example, *, day: date) -> uuid.UUID:
    """``find``, or a ``NotFoundError`` saying what was looked for."""
    found = find(conn, which, day=day)
    if found is None:
        raise NotFoundError(f"--example {which}: the registry has {MISSING[which]}")
    return found


def unlisted(conn: Connection, *, day: date) -> uuid.UUID | None:
    """A person on no list today: neither listed nor bound by a listing."""
    on_a_list = select(Listing.subject_id).where(_active(day))
    query = select(Subject.id).where(Subject.kind == SubjectKind.PERSON, Subject.id.not_in(on_a_list))
    found: uuid.UUID | None = conn.execute(query.order_by(Subject.id_number).limit(1)).scalar()
    return found
