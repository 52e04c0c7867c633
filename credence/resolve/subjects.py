"""ID number -> subject, the one place it is written: look subjects up, create the new ones.

A subject's internal id is random (uuid4), never derived from its number, so that an id in a
log or an event cannot be turned back into an ID number. Numbers here are the canonical ones
``model.identifiers.parse_subject`` gives (a 15-digit resident ID already upgraded); ``find``
parses a number as a person wrote it first. Everything runs in the caller's transaction.
"""

import uuid
from collections.abc import Iterable
from datetime import date, datetime
from typing import Protocol

from sqlalchemy import Connection, bindparam, select

from credence.model.identifiers import SubjectKind, parse_subject
from credence.store import bulk
from credence.store.orm import Subject

COLUMNS = ("id", "id_number", "kind", "birth_date", "address_code", "created_at")


class Reference(Protocol):
    """What a new subject is created from: a checked ID number and what it says."""

    @property
    def id_number(self) -> str: ...
    @property
    def kind(self) -> SubjectKind: ...
    @property
    def birth_date(self) -> date | None: ...
    @property
    def address_code(self) -> str: ...


def lookup(conn: Connection, numbers: Iterable[str]) -> dict[str, uuid.UUID]:
    """The internal ids of the subjects the registry holds for ``numbers`` (canonical ID
    numbers); a number it has never seen is left out."""
    found: dict[str, uuid.UUID] = {}
    for where in bulk.matching(Subject.id_number, dict.fromkeys(numbers), conn):
        found.update(conn.execute(select(Subject.id_number, Subject.id).where(where)).all())
    return found


def ensure(conn: Connection, refs: Iterable[Reference], *, now: datetime) -> dict[str, uuid.UUID]:
    """Internal ids for every reference's ID number, creating (in one bulk insert) the subjects
    that are new (what a number says about its subject is the same in every reference to it)."""
    wanted = {ref.id_number: ref for ref in refs}
    found = lookup(conn, wanted)
    new = [
        (uuid.uuid4(), number, ref.kind.value, ref.birth_date, ref.address_code, now)
        for number, ref in wanted.items()
        if number not in found
    ]
    bulk.insert_rows(conn, Subject, COLUMNS, new)
    found.update((row[1], row[0]) for row in new)
    return found


# built once: a point of service finds a subject on every check
BY_NUMBER = select(Subject.id).where(Subject.id_number == bindparam("number"))


def find(conn: Connection, id_number: str, *, field: str = "id_number") -> uuid.UUID | None:
    """The subject of an ID number as a person wrote it (checked and made canonical first), or
    None if the registry has never seen it. A malformed number is a ``FieldError`` naming ``field``."""
    number = parse_subject(id_number, field=field).number
    found: uuid.UUID | None = conn.execute(BY_NUMBER, {"number": number}).scalar()
    return found


def number_of(conn: Connection, subject: uuid.UUID) -> str | None:
    """The ID number of an internal id, for a person who may see it (never for a log)."""
    number: str | None = conn.execute(select(Subject.id_number).where(Subject.id == subject)).scalar()
    return number
