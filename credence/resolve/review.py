"""The clerk's queue: proposals in the doubt band, shown side by side, and the judgements on them.

A proposal whose outcome is ``review`` waits here until a clerk judges it. Judgements are
append-only rows (``link_judgements``: the pair, ``match`` or ``no_match``, who and when), on the
model of nomenklatura's resolver: nothing is updated in place, the newest judgement of a pair is
the one that counts and every earlier one stays in its history. A row only a clerk could link
has no effect until a clerk judges it a match: it stays in quarantine, and ingest applies it
only then (``ingest.unidentified``). The queue shows internal ids and masked identifiers only
(``identity.masked``), never a whole name, birth date, phone or ID number. The officers'
console (``web.linkage_console``) shows the same queue through these functions.
"""

import uuid
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Connection, insert, select

from credence import audit
from credence.audit import EventTag
from credence.exc import CredenceError, NotFoundError
from credence.resolve.links import judgement_of, newest
from credence.store.orm import Link, LinkJudgement, Quarantine

MAX_CLERK = 64


class Judgement(StrEnum):
    MATCH = "match"
    NO_MATCH = "no_match"


@dataclass(frozen=True, slots=True)
class Pair:
    """A proposal waiting for a clerk: the row and the candidate subject, side by side."""

    link: int
    quarantine_id: int
    source: str
    source_record_id: str
    subject: uuid.UUID
    weight: float
    margin: float | None
    model: str
    record: dict[str, str]  # masked
    candidate: dict[str, str]  # masked
    reasons: list[tuple[str, str, float]]  # (comparison, level, weight), strongest first


@dataclass(frozen=True, slots=True)
class Decided:
    link: int
    judgement: Judgement
    by: str
    at: datetime


def reasons(contributions: dict[str, Any]) -> list[tuple[str, str, float]]:
    """The waterfall's comparisons, the ones that said most (either way) first."""
    steps = [(name, step["level"], float(step["weight"])) for name, step in contributions.items() if name != "prior"]
    return sorted(steps, key=lambda step: (-abs(step[2]), step[0]))


def _pair(link: Any) -> Pair:  # Any: a Link row
    return Pair(
        link=link.id,
        quarantine_id=link.quarantine_id,
        source=link.source_id,
        source_record_id=link.source_record_id,
        subject=link.subject_id,
        weight=link.match_weight,
        margin=link.margin,
        model=link.model,
        record=link.masked.get("record", {}),
        candidate=link.masked.get("subject", {}),
        reasons=reasons(link.contributions),
    )


def queue(conn: Connection, *, source: str | None = None, limit: int = 50) -> tuple[list[Pair], int]:
    """The pairs waiting for a clerk (the newest proposal of a row still quarantined, in the
    doubt band, not judged yet), strongest first; and how many wait in all."""
    waiting = select(Quarantine.id).where(Quarantine.replayed_at.is_(None))
    pending = [
        link
        for link in newest(conn).values()
        if link.outcome == "review" and (source is None or link.source_id == source)
    ]
    open_rows = {row for (row,) in conn.execute(waiting.where(Quarantine.id.in_([p.quarantine_id for p in pending])))}
    judged = {
        link_id
        for (link_id,) in conn.execute(
            select(LinkJudgement.link_id).where(LinkJudgement.link_id.in_([p.id for p in pending]))
        )
    }
    pairs = [p for p in pending if p.quarantine_id in open_rows and p.id not in judged]
    pairs.sort(key=lambda p: (-p.match_weight, p.id))
    return [_pair(p) for p in pairs[:limit]], len(pairs)


def decide(conn: Connection, link: int, judgement: Judgement, *, by: str, now: datetime) -> Decided:
    """Record a clerk's judgement of a pair in the caller's transaction (a ``link.judged`` event).

    Refused: an unknown pair, one that is not in the doubt band, one superseded by a newer
    proposal of its row, and a no-match on a pair already judged a match (undoing a link that
    applied is not there yet)."""
    by = by.strip()
    if not by or len(by) > MAX_CLERK:
        raise CredenceError(f"--by: expected the clerk's name, 1 to {MAX_CLERK} characters")
    row = conn.execute(select(Link).where(Link.id == link)).one_or_none()
    if row is None:
        raise NotFoundError(f"pair {link}: no such proposal (see `credence resolve queue`)")
    if row.outcome != "review":
        raise CredenceError(
            f"pair {link}: its outcome is {row.outcome}, not review: a clerk judges doubtful pairs only"
        )
    if newest(conn, [row.quarantine_id])[row.quarantine_id].id != link:
        raise CredenceError(f"pair {link}: its row has a newer proposal; judge that one")
    before = judgement_of(conn, link)
    if before == Judgement.MATCH and judgement is Judgement.NO_MATCH:
        raise CredenceError(f"pair {link}: already judged a match and applied; undoing a link is not supported yet")
    conn.execute(insert(LinkJudgement).values(link_id=link, judgement=judgement.value, decided_by=by, created_at=now))
    audit.record(
        conn,
        tag=EventTag.LINK_JUDGED,
        subject=row.subject_id,
        actor=f"clerk:{by}",
        data={"link": link, "judgement": judgement.value, "before": before},
        now=now,
    )
    return Decided(link, judgement, by, now)


def pair(conn: Connection, link: int) -> Pair:
    """One proposal side by side, as ``queue`` shows it, whether or not it still waits."""
    row = conn.execute(select(Link).where(Link.id == link)).one_or_none()
    if row is None:
        raise NotFoundError(f"pair {link}: no such proposal")
    return _pair(row)


def judgeable(conn: Connection, link: int) -> bool:
    """Whether ``decide`` would take a judgement of the pair: a doubtful proposal, its row's
    newest, not judged a match yet (a no-match may still be judged again)."""
    row = conn.execute(select(Link.outcome, Link.quarantine_id).where(Link.id == link)).one_or_none()
    if row is None or row.outcome != "review":
        return False
    is_newest = newest(conn, [row.quarantine_id])[row.quarantine_id].id == link
    return is_newest and judgement_of(conn, link) != Judgement.MATCH


def history(conn: Connection, link: int) -> list[Decided]:
    """Every judgement of a pair, oldest first."""
    query = (
        select(LinkJudgement.judgement, LinkJudgement.decided_by, LinkJudgement.created_at)
        .where(LinkJudgement.link_id == link)
        .order_by(LinkJudgement.id)
    )
    return [Decided(link, Judgement(j), by, at) for j, by, at in conn.execute(query)]


def source_of(conn: Connection, link: int) -> str:
    found: str | None = conn.execute(select(Link.source_id).where(Link.id == link)).scalar()
    if found is None:
        raise NotFoundError(f"pair {link}: no such proposal")
    return found
