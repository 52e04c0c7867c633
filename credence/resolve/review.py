"""The clerk's queue: proposals in the doubt band, shown side by side, and the judgements on them.

A proposal whose outcome is ``review`` waits here until a clerk judges it. Judgements are
append-only rows (``link_judgements``: the pair, ``match`` or ``no_match``, who and when), on the
model of nomenklatura's resolver: nothing is updated in place, the newest judgement of a pair is
the one that counts and every earlier one stays in its history. A row only a clerk could link
has no effect until a clerk judges it a match: it stays in quarantine, and ingest applies it
only then (``ingest.unidentified``). The queue shows internal ids and masked identifiers only
(``identity.masked``), never a whole name, birth date, phone or ID number. The officers'
console (``web.linkage_console``) shows the same queue through these functions.

An officer undoes a wrong link (``undo``) with an ``undone`` judgement and a reason; the record
it applied is withdrawn in the same transaction (``ingest.unidentified.withdraw``) and the row
waits in quarantine again. A clerk may then match the pair again (a relink), or linkage weighs
the row afresh; a subject the row was judged not to be is never linked by itself again.
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
from credence.resolve.links import applies, judgement_of, judgements, newest
from credence.store.orm import Link, LinkJudgement, Quarantine

MAX_CLERK = 64
MAX_REASON = 500


class Judgement(StrEnum):
    MATCH = "match"
    NO_MATCH = "no_match"
    UNDONE = "undone"  # an officer undid an applied link (``undo``); a clerk may match it again


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
    note: str | None = None


@dataclass(frozen=True, slots=True)
class Undone:
    """An applied link an officer undid: what it had applied, for the withdrawal that follows."""

    link: int
    quarantine_id: int
    source: str
    source_record_id: str
    subject: uuid.UUID
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


def _who(by: str, *, role: str) -> str:
    by = by.strip()
    if not by or len(by) > MAX_CLERK:
        raise CredenceError(f"--by: expected the {role}'s name, 1 to {MAX_CLERK} characters")
    return by


def decide(conn: Connection, link: int, judgement: Judgement, *, by: str, now: datetime) -> Decided:
    """Record a clerk's judgement of a pair in the caller's transaction (a ``link.judged`` event).

    A clerk judges a pair in the doubt band, or matches again a pair an officer undid (a relink).
    A match of a pair whose newest judgement is a match already changes nothing and returns that
    judgement. Refused: an unknown pair, one superseded by a newer proposal of its row, a sure or
    unlinked pair never undone, a no-match of a pair applied (undo it instead) and an undo
    (``undo`` is the officer's)."""
    by = _who(by, role="clerk")
    if judgement is Judgement.UNDONE:
        raise CredenceError("judgement: a clerk judges match or no_match; an officer undoes a link (`resolve undo`)")
    row = _current(conn, link)
    before = judgement_of(conn, link)
    if before == Judgement.MATCH and judgement is Judgement.NO_MATCH:
        raise CredenceError(
            f"pair {link}: already judged a match and applied; an officer undoes it with `credence resolve undo`"
        )
    if before == Judgement.MATCH:
        return history(conn, link)[-1]  # matched already: a second match is the same judgement
    if row.outcome != "review" and before != Judgement.UNDONE:
        raise CredenceError(
            f"pair {link}: its outcome is {row.outcome}, not review: a clerk judges doubtful pairs only"
            " (or matches again a link an officer undid)"
        )
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
    """Whether ``decide`` would take a judgement of the pair: its row's newest proposal, in the
    doubt band or undone by an officer, and not matched already (a no-match may be judged again)."""
    row = conn.execute(select(Link.outcome, Link.quarantine_id).where(Link.id == link)).one_or_none()
    if row is None or newest(conn, [row.quarantine_id])[row.quarantine_id].id != link:
        return False
    before = judgement_of(conn, link)
    return before != Judgement.MATCH and (row.outcome == "review" or before == Judgement.UNDONE)


def undoable(conn: Connection, link: int) -> bool:
    """Whether ``undo`` would take the pair: its row's newest proposal, linking its row now (an
    automatic link, or a clerk's match, not undone since)."""
    row = conn.execute(select(Link.outcome, Link.quarantine_id, Link.subject_id).where(Link.id == link)).one_or_none()
    if row is None or row.subject_id is None or newest(conn, [row.quarantine_id])[row.quarantine_id].id != link:
        return False
    return applies(row.outcome, judgement_of(conn, link))


def undo(conn: Connection, link: int, *, by: str, reason: str, now: datetime) -> Undone:
    """Record an officer's undoing of an applied link in the caller's transaction: an ``undone``
    judgement with the reason, and a ``link.undone`` event (ids only: the reason stays in the
    judgement, as it may name the person). The caller withdraws what the link applied
    (``ingest.unidentified.withdraw``) in the same transaction.

    Refused: an unknown pair, one superseded by a newer proposal of its row, and a pair that
    links nothing now (left in the doubt band, judged no match, unlinked, or undone already)."""
    by = _who(by, role="officer")
    reason = reason.strip()
    if not reason or len(reason) > MAX_REASON:
        raise CredenceError(f"--reason: expected why the link is wrong, 1 to {MAX_REASON} characters")
    row = _current(conn, link)
    before = judgement_of(conn, link)
    if row.subject_id is None or not applies(row.outcome, before):
        now_is = before or row.outcome
        raise CredenceError(f"pair {link}: it links nothing (it is {now_is}); only an applied link can be undone")
    values = {"link_id": link, "judgement": Judgement.UNDONE.value, "decided_by": by, "created_at": now, "note": reason}
    conn.execute(insert(LinkJudgement).values(**values))
    audit.record(
        conn,
        tag=EventTag.LINK_UNDONE,
        subject=row.subject_id,
        actor=f"officer:{by}",
        data={"link": link, "quarantine_id": row.quarantine_id, "before": before or row.outcome},
        now=now,
    )
    return Undone(link, row.quarantine_id, row.source_id, row.source_record_id, row.subject_id, by, now)


def _current(conn: Connection, link: int) -> Any:  # Any: a Link row
    """The proposal ``link``, if it is the newest of its row."""
    row = conn.execute(select(Link).where(Link.id == link)).one_or_none()
    if row is None:
        raise NotFoundError(f"pair {link}: no such proposal (see `credence resolve queue`)")
    if newest(conn, [row.quarantine_id])[row.quarantine_id].id != link:
        raise CredenceError(f"pair {link}: its row has a newer proposal; judge that one")
    return row


@dataclass(frozen=True, slots=True)
class Applied:
    """A link that applies a row to a subject now: what an officer may undo."""

    link: int
    source: str
    source_record_id: str
    weight: float | None
    how: str  # auto, or the clerk's match


def applied_to(conn: Connection, subject: uuid.UUID) -> list[Applied]:
    """The links that apply rows to ``subject`` now, oldest first."""
    rows = [link for link in newest(conn).values() if link.subject_id == subject]
    verdicts = judgements(conn, [link.id for link in rows])
    return [
        Applied(link.id, link.source_id, link.source_record_id, link.match_weight, verdicts.get(link.id, link.outcome))
        for link in sorted(rows, key=lambda link: link.id)
        if applies(link.outcome, verdicts.get(link.id))
    ]


def history(conn: Connection, link: int) -> list[Decided]:
    """Every judgement of a pair, oldest first."""
    query = (
        select(LinkJudgement.judgement, LinkJudgement.decided_by, LinkJudgement.created_at, LinkJudgement.note)
        .where(LinkJudgement.link_id == link)
        .order_by(LinkJudgement.id)
    )
    return [Decided(link, Judgement(j), by, at, note) for j, by, at, note in conn.execute(query)]


def source_of(conn: Connection, link: int) -> str:
    found: str | None = conn.execute(select(Link.source_id).where(Link.id == link)).scalar()
    if found is None:
        raise NotFoundError(f"pair {link}: no such proposal")
    return found
