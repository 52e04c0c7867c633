"""Subjects picked from the registry by what it holds of them: the people worth a first look.

``explain --example`` and the demo show these. Each pick is deterministic (ties fall by ID
number, the lowest first), so a rerun on the same registry shows the same subject. Every pick
is an internal id, or None when the registry holds no such subject.
"""

import uuid
from datetime import date

from sqlalchemy import ColumnElement, Connection, Select, select

from credence.model.identifiers import SubjectKind
from credence.store.orm import Listing, ScoreInterval, Subject


def _in_force(day: date) -> ColumnElement[bool]:
    """A listing in force on ``day``: started, and not ended (its end day is the first day without it)."""
    return (Listing.start_date <= day) & (Listing.end_date.is_(None) | (Listing.end_date > day))


def _first(conn: Connection, query: Select[uuid.UUID]) -> uuid.UUID | None:
    found: uuid.UUID | None = conn.execute(query.order_by(Subject.id_number).limit(1)).scalar()
    return found


def _people() -> Select[uuid.UUID]:
    return select(Subject.id).where(Subject.kind == SubjectKind.PERSON)


def listed_person(conn: Connection, *, day: date) -> uuid.UUID | None:
    """A person listed on ``day`` as the subject of a listing."""
    listed = Listing.role == "subject"
    return _first(conn, _people().join(Listing, Listing.subject_id == Subject.id).where(listed, _in_force(day)))


def bound_person(conn: Connection, *, day: date) -> uuid.UUID | None:
    """A person bound on ``day`` by an organisation's listing (as its legal representative, say)."""
    bound = Listing.role != "subject"
    return _first(conn, _people().join(Listing, Listing.subject_id == Subject.id).where(bound, _in_force(day)))


def unlisted_person(conn: Connection, *, day: date) -> uuid.UUID | None:
    """A person on no list on ``day``: neither listed nor bound by a listing."""
    on_a_list = select(Listing.subject_id).where(_in_force(day))
    return _first(conn, _people().where(Subject.id.not_in(on_a_list)))


def highest_scored(conn: Connection, scheme: str, *, day: date) -> uuid.UUID | None:
    """The subject with the highest stored score under ``scheme`` on ``day``."""
    return _scored(conn, scheme, day=day, highest=True)


def lowest_scored(conn: Connection, scheme: str, *, day: date) -> uuid.UUID | None:
    """The subject with the lowest stored score under ``scheme`` on ``day``."""
    return _scored(conn, scheme, day=day, highest=False)


def _scored(conn: Connection, scheme: str, *, day: date, highest: bool) -> uuid.UUID | None:
    best = ScoreInterval.score.desc() if highest else ScoreInterval.score.asc()
    held = (ScoreInterval.scheme == scheme) & ScoreInterval.holds(day)
    query = select(Subject.id).join(ScoreInterval, ScoreInterval.subject_id == Subject.id).where(held)
    return _first(conn, query.order_by(best))
