"""Relations officers declare to subjects (DESIGN P7; issue 10, part 6): an officer who declared
one stands aside from that subject (a recusal). They may not request or approve a manual action
about them, nor decide their dispute or repair application. This room keeps the rows because
every case an officer decides asks them (``dueprocess``, and the manual actions in ``accounts``).

Declarations are rows written once (``officer_relations``) with an event naming the officer's
internal id and the relation, never the subject's number: the event's subject is the internal id,
which the published log commits to. A declaration is never withdrawn: a relation that ended is
still a reason to stand aside.
"""

import uuid
from datetime import datetime

from sqlalchemy import Connection, insert, select

from credence import audit
from credence.audit.tags import EventTag
from credence.exc import FieldError, NotAuthorisedError
from credence.store.orm import OfficerRelation

# what an officer may declare; "other" covers what the list does not name
RELATIONS = ("family", "spouse", "household", "business", "friend", "adversary", "other")


class RelatedError(NotAuthorisedError):
    """An officer acting on a subject they declared a relation to (HTTP 403, field ``subject``)."""

    field = "subject"


def check_relation(relation: str) -> str:
    found = relation.strip().lower()
    if found not in RELATIONS:
        raise FieldError("relation", f"expected one of {', '.join(RELATIONS)}, got {relation!r}")
    return found


def declare(
    conn: Connection, officer: uuid.UUID, agency: str, subject: uuid.UUID, relation: str, *, now: datetime
) -> None:
    """Record that ``officer`` (of ``agency``) has ``relation`` to ``subject``, with its event, in
    the caller's transaction; declaring the same relation twice writes it once."""
    relation = check_relation(relation)
    if relation in related(conn, officer, subject):
        return
    conn.execute(
        insert(OfficerRelation).values(
            id=uuid.uuid4(), officer_id=officer, subject_id=subject, relation=relation, declared_at=now
        )
    )
    data = {"officer": str(officer), "agency": agency, "relation": relation}
    audit.record(conn, tag=EventTag.OFFICER_RELATION, subject=subject, actor=f"officer:{officer}", data=data, now=now)


def related(conn: Connection, officer: uuid.UUID, subject: uuid.UUID) -> list[str]:
    """The relations ``officer`` declared to ``subject``, oldest first."""
    query = (
        select(OfficerRelation.relation)
        .where(OfficerRelation.officer_id == officer, OfficerRelation.subject_id == subject)
        .order_by(OfficerRelation.declared_at)
    )
    return list(conn.scalars(query))


def require_unrelated(conn: Connection, officer: uuid.UUID, subject: uuid.UUID, *, who: str = "you") -> None:
    """Refuse (``RelatedError``) an act by ``officer`` about a subject they declared a relation to."""
    found = related(conn, officer, subject)
    if found:
        raise RelatedError(f"subject: {who} declared a relation ({found[0]}) to this subject and must stand aside")
