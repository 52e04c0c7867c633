"""Subjects worth a first look, found in the registry: ``explain --example`` and the demo's picks.

The names a user types (``--example listed``) and what each says it found; the registry is
asked in ``resolve.picks``, whose picks are deterministic (ties fall by ID number), so the
demo's "Try next" lines and a rerun of them show the same subject.
"""

import uuid
from datetime import date
from enum import StrEnum

from sqlalchemy import Connection

from credence.exc import NotFoundError
from credence.resolve import picks

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


def find(conn: Connection, which: Example, *, day: date) -> uuid.UUID | None:
    """The example subject's internal id, or None when the registry has no such subject."""
    if which is Example.LISTED:
        return picks.listed_person(conn, day=day)
    if which is Example.BOUND:
        return picks.bound_person(conn, day=day)
    if which is Example.TOP:
        return picks.highest_scored(conn, TOP_SCHEME, day=day)
    return picks.lowest_scored(conn, LOW_SCHEME, day=day)


def pick(conn: Connection, which: Example, *, day: date) -> uuid.UUID:
    """``find``, or a ``NotFoundError`` saying what was looked for."""
    found = find(conn, which, day=day)
    if found is None:
        raise NotFoundError(f"--example {which}: the registry has {MISSING[which]}")
    return found


def unlisted(conn: Connection, *, day: date) -> uuid.UUID | None:
    """A person on no list today: neither listed nor bound by a listing."""
    return picks.unlisted_person(conn, day=day)
