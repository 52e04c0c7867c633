"""Holds: what a tripped circuit breaker kept back, and an officer's release or rejection of it.

A release applies the held rows as replay does (the same checks against the current mapping and
catalogue, ``write_batch``, a new transaction time, each row's own valid date) in one transaction
with the hold's closing and its ``breaker.released`` event; a rejection closes the hold with the
officer's reason and applies nothing. Either closes the breaker: the source's next adverse rows
are counted afresh. What is read here never includes a row's raw content; ``release`` is its one
reader, to apply it.
"""

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, func, select, update

from credence import audit
from credence.audit import EventTag
from credence.exc import CredenceError, NotFoundError
from credence.ingest.loader import LoadResult, Rejected, apply_replayed, authority, check_row
from credence.ingest.mapping import Mapping
from credence.ingest.records import Candidate, Checker
from credence.model.catalogue import Catalogue, default_catalogue
from credence.store.orm import Hold, Quarantine

RELEASED = "released"
REJECTED = "rejected"


@dataclass(frozen=True)
class HoldView:
    """A hold as an officer sees it: counts, source, threshold and reason, never a row's content."""

    id: int
    source_id: str
    opened_at: datetime
    file: str
    threshold: str
    reason: str
    rows: int  # rows held
    waiting: int  # of them, not applied yet
    closed_at: datetime | None
    outcome: str | None
    closed_by: str | None
    note: str | None


def holds(conn: Connection, *, source: str | None = None, closed: bool = False) -> list[HoldView]:
    """The holds, oldest first: the open ones, or every one with ``closed``; of ``source`` only if given."""
    rows = func.count(Quarantine.id).label("rows")
    waiting = func.count(Quarantine.id).filter(Quarantine.replayed_at.is_(None)).label("waiting")
    query = (
        select(
            Hold.id,
            Hold.source_id,
            Hold.opened_at,
            Hold.file,
            Hold.threshold,
            Hold.reason,
            rows,
            waiting,
            Hold.closed_at,
            Hold.outcome,
            Hold.closed_by,
            Hold.note,
        )
        .outerjoin(Quarantine, Quarantine.hold_id == Hold.id)
        .group_by(Hold.id)
        .order_by(Hold.id)
    )
    if source:
        query = query.where(Hold.source_id == source)
    if not closed:
        query = query.where(Hold.closed_at.is_(None))
    return [HoldView(**row._mapping) for row in conn.execute(query)]


def chosen(conn: Connection, target: str) -> list[int]:
    """The open holds ``target`` names: a hold id, or a source (its open hold). A CredenceError
    names what was wrong (an unknown or closed hold, a source with none open)."""
    text = target.strip()
    if text.isdecimal():
        row = conn.execute(select(Hold.id, Hold.closed_at, Hold.outcome).where(Hold.id == int(text))).one_or_none()
        if row is None:
            raise NotFoundError(f"hold {text}: no such hold; `credence held` lists the open ones")
        if row.closed_at is not None:
            raise CredenceError(f"hold {text}: already {row.outcome} at {row.closed_at:%Y-%m-%d %H:%M}")
        return [row.id]
    found = list(conn.execute(select(Hold.id).where(Hold.source_id == text, Hold.closed_at.is_(None))).scalars())
    if not found:
        raise NotFoundError(f"source {text!r}: no open hold; expected a source or hold id that `credence held` lists")
    return found


@dataclass
class Released:
    holds: list[int]
    result: LoadResult
    still: list[Rejected] = field(default_factory=list)  # rows that no longer pass: refused, replayable


def _officer(by: str) -> str:
    name = by.strip()
    if not name or len(name) > 100:
        raise CredenceError(f"--by: expected the officer's name or id (1 to 100 characters), got {by!r}")
    return name


def release(
    engine: Engine,
    mappings: dict[str, Mapping],
    target: str,
    *,
    by: str,
    now: datetime,
    catalogue: Catalogue | None = None,
) -> Released:
    """Apply the rows of the open hold(s) ``target`` names, with transaction time ``now``, and
    close them. The caller holds the writer lock and rescores the subjects (``result.subjects``)."""
    officer = _officer(by)
    catalogue = catalogue or default_catalogue()
    result = LoadResult(file="held")
    with engine.begin() as conn:
        ids = chosen(conn, target)
        sources = set(conn.execute(select(Hold.source_id).where(Hold.id.in_(ids))).scalars())
        missing = sorted(s for s in sources if s not in mappings)
        if missing:
            raise CredenceError(f"source {missing[0]}: no mapping in the connectors folder; its held rows need one")
        rows = conn.execute(
            select(Quarantine.__table__)
            .where(Quarantine.hold_id.in_(ids), Quarantine.replayed_at.is_(None))
            .order_by(Quarantine.id)
        ).all()
        still: list[Rejected] = []
        applied: Counter[int] = Counter()  # rows applied, by hold
        for source in sorted(sources):
            checker = Checker(mappings[source], catalogue, authority(conn, source))
            good: list[tuple[int, Candidate]] = []
            done: list[int] = []
            for q in (r for r in rows if r.source_id == source):
                checked = check_row(q.raw, checker)
                if isinstance(checked, Rejected):
                    still.append(Rejected(q.line, checked.field, checked.reason, {}))
                    continue
                good.append((q.line, checked))
                done.append(q.id)
                applied[q.hold_id] += 1
            apply_replayed(
                conn,
                source=source,
                file="held",
                good=good,
                done=done,
                actor=f"officer:{officer}",
                now=now,
                result=result,
                catalogue=catalogue,
            )
        _close(conn, ids, outcome=RELEASED, by=officer, note=None, now=now, applied=applied)
    return Released(ids, result, still)


def reject(engine: Engine, target: str, *, by: str, reason: str, now: datetime) -> list[int]:
    """Close the open hold(s) ``target`` names, their rows kept unapplied for good, with the
    officer's ``reason``. Returns the holds closed."""
    officer = _officer(by)
    if not reason.strip():
        raise CredenceError("--reason: expected why the held rows are rejected, got nothing")
    with engine.begin() as conn:
        ids = chosen(conn, target)
        _close(conn, ids, outcome=REJECTED, by=officer, note=reason.strip(), now=now, applied=None)
    return ids


def _close(
    conn: Connection,
    ids: list[int],
    *,
    outcome: str,
    by: str,
    note: str | None,
    now: datetime,
    applied: Counter[int] | None,
) -> None:
    # the officer's note stays in the hold row: free text may name someone, and the log is permanent
    counted = select(Quarantine.hold_id, func.count()).where(Quarantine.hold_id.in_(ids)).group_by(Quarantine.hold_id)
    counts: dict[Any, int] = {row[0]: row[1] for row in conn.execute(counted)}
    conn.execute(update(Hold).where(Hold.id.in_(ids)).values(closed_at=now, outcome=outcome, closed_by=by, note=note))
    tag = EventTag.BREAKER_RELEASED if outcome == RELEASED else EventTag.BREAKER_REJECTED
    for hold in ids:
        data: dict[str, Any] = {"hold": hold, "rows": counts.get(hold, 0)}
        if applied is not None:
            data["applied"] = applied[hold]
        audit.record(conn, tag=tag, subject=None, actor=f"officer:{by}", data=data, now=now)
