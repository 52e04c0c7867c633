"""Storing record linkage's proposals: one append-only ``links`` row per row weighed.

Each proposal keeps the candidate subject, the match weight and probability, its margin over
the next candidate, the model version, the waterfall and what a clerk may see of both sides
(masked). A ``link.proposed`` event records the outcome, weight and model, never an identity.
Everything runs in the caller's transaction.
"""

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, insert, select

from credence import audit
from credence.audit import Entry, EventTag
from credence.resolve.identity import Identity, masked
from credence.resolve.linkage import Outcome, Proposal
from credence.store import bulk
from credence.store.orm import Link, LinkJudgement


@dataclass(frozen=True, slots=True)
class Row:
    """An unidentified row as linkage sees it: its quarantine id, source and record id, identity."""

    quarantine_id: int
    source: str
    source_record_id: str
    identity: Identity


def newest(conn: Connection, quarantine_ids: Iterable[int] | None = None) -> dict[int, Any]:  # Any: a Link row
    """The newest proposal of each quarantined row (of ``quarantine_ids`` only, if given)."""
    latest = select(func.max(Link.id)).group_by(Link.quarantine_id)
    if quarantine_ids is not None:
        latest = latest.where(Link.quarantine_id.in_(list(quarantine_ids)))
    rows = conn.execute(select(Link).where(Link.id.in_(latest.scalar_subquery()))).all()
    return {row.quarantine_id: row for row in rows}


def record(
    conn: Connection,
    rows: Sequence[Row],
    proposals: Sequence[Proposal],
    *,
    model: str,
    register: dict[uuid.UUID, Identity],
    now: datetime,
) -> dict[int, int]:
    """Store each row's proposal (``proposals[i]`` is ``rows[i]``'s); returns {quarantine id: link id}."""
    by_id = {row.quarantine_id: row for row in rows}
    made: dict[int, int] = {}
    entries = []
    for proposal in proposals:
        row = by_id[proposal.record]
        shown = {"record": masked(row.identity)}
        if proposal.subject is not None:
            shown["subject"] = masked(register[proposal.subject])
        values = {
            "quarantine_id": row.quarantine_id,
            "source_id": row.source,
            "source_record_id": row.source_record_id,
            "subject_id": proposal.subject,
            "match_weight": proposal.weight,
            "match_probability": proposal.probability,
            "margin": proposal.margin,
            "model": model,
            "contributions": proposal.contributions,
            "masked": shown,
            "outcome": proposal.outcome.value,
            "created_at": now,
        }
        link = conn.execute(insert(Link).values(**values).returning(Link.id)).scalar_one()
        made[row.quarantine_id] = link
        data = {
            "link": link,
            "quarantine_id": row.quarantine_id,
            "outcome": proposal.outcome.value,
            "weight": None if proposal.weight is None else round(proposal.weight, 4),
            "model": model,
        }
        linked = proposal.subject if proposal.outcome is not Outcome.UNLINKED else None
        entries.append(Entry(tag=EventTag.LINK_PROPOSED, subject=linked, actor="resolve", data=data))
    audit.record_many(conn, entries, now=now)
    return made


def linked(conn: Connection, source: str) -> list[tuple[int, uuid.UUID, int]]:
    """(quarantine id, subject, link id) of ``source``'s rows whose newest proposal links them:
    applied by itself (``auto``, never judged since), or judged a match in its newest judgement.
    A link an officer undid (``undone``) links nothing until a clerk judges it a match again."""
    found = []
    rows = [link for link in newest(conn).values() if link.source_id == source and link.subject_id is not None]
    verdicts = judgements(conn, [link.id for link in rows])
    for link in rows:
        if applies(link.outcome, verdicts.get(link.id)):
            found.append((link.quarantine_id, link.subject_id, link.id))
    return found


def applies(outcome: str, judgement: str | None) -> bool:
    """Whether a proposal of this outcome, with this newest judgement, links its row."""
    return judgement == "match" or (judgement is None and outcome == Outcome.AUTO)


def judgement_of(conn: Connection, link: int) -> str | None:
    """The newest judgement of a proposal (``match``, ``no_match`` or ``undone``), None while none."""
    return judgements(conn, [link]).get(link)


def judgements(conn: Connection, links: Sequence[int]) -> dict[int, str]:
    """The newest judgement of each of ``links`` that has one."""
    found: dict[int, str] = {}
    for where in bulk.matching(LinkJudgement.link_id, dict.fromkeys(links), conn):
        query = select(LinkJudgement.link_id, LinkJudgement.judgement).where(where).order_by(LinkJudgement.id)
        found.update((link, judgement) for link, judgement in conn.execute(query))  # in id order: the newest wins
    return found


def refused(conn: Connection, quarantine_ids: Sequence[int]) -> dict[int, set[uuid.UUID]]:
    """The subjects each row was judged not to be (a no-match, or a link an officer undid): a new
    proposal of one of them never applies by itself again."""
    found: dict[int, set[uuid.UUID]] = {}
    for where in bulk.matching(Link.quarantine_id, dict.fromkeys(quarantine_ids), conn):
        query = (
            select(Link.quarantine_id, Link.subject_id, LinkJudgement.judgement)
            .join(LinkJudgement, LinkJudgement.link_id == Link.id)
            .where(where)
            .order_by(LinkJudgement.id)
        )
        newest_of: dict[tuple[int, uuid.UUID | None], str] = {}
        for quarantine_id, subject, judgement in conn.execute(query):
            newest_of[(quarantine_id, subject)] = judgement
        for (quarantine_id, subject), judgement in newest_of.items():
            if subject is not None and judgement in {"no_match", "undone"}:
                found.setdefault(quarantine_id, set()).add(subject)
    return found
