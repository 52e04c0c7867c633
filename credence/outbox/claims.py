"""Claiming due notices and settling what became of them: several workers may deliver at once
and none sends a notice another holds.

A claim is a lease: the worker's name and an instant it holds the notice until, written in a
short transaction before anything is sent (a network send never runs inside a transaction that
holds the store). On PostgreSQL the claim's select also skips rows another worker's claim has
locked (``FOR UPDATE SKIP LOCKED``), so workers do not queue behind each other; on SQLite, whose
writers take turns, the update re-checks the lease and only what it changed is claimed (both in
``outbox.leases``, which provider calls share). A worker
that dies before settling leaves its lease to run out; the notice is then claimed again and
sent with the same id, which the receiver uses to drop the repeat.
"""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, exists, func, insert, select, update

from credence.outbox import leases
from credence.outbox.kinds import NoticeKind
from credence.store import bulk
from credence.store.db import stored_instant
from credence.store.orm import ActiveMeasure, Listing, Notice, NoticeAttempt, NoticeDelivery, PendingSubject, Record

PENDING, DELIVERED, UNREACHABLE, FAILED = "pending", "delivered", "unreachable", "failed"
CHANNELS = ("email", "sms")
LISTING_START = NoticeKind.LISTING_START.value


@dataclass(frozen=True, slots=True)
class Claimed:
    id: uuid.UUID
    subject: uuid.UUID
    kind: str
    facts: dict[str, Any]
    respond_by: date | None
    created_at: datetime
    attempts: int
    sent: frozenset[str]  # channels that took it on an earlier attempt
    about: uuid.UUID | None = None  # the listing a listing notice tells of


@dataclass(slots=True)
class Attempt:
    channel: str
    contact_record: uuid.UUID | None
    ok: bool
    error: str | None = None


@dataclass(slots=True)
class Outcome:
    notice: Claimed
    attempts: list[Attempt] = field(default_factory=list)
    unreachable: bool = False  # no contact to send to on any channel

    @property
    def done(self) -> bool:
        return bool(self.attempts) and all(a.ok for a in self.attempts)


@dataclass(frozen=True, slots=True)
class Retry:
    """Exponential backoff with a cap: ``first``, doubled per failed attempt, at most ``cap``;
    after ``limit`` attempts a notice is ``failed`` and listed with the unreachable."""

    first: timedelta = timedelta(seconds=5)
    cap: timedelta = timedelta(hours=1)
    limit: int = 20

    def delay(self, attempts: int) -> timedelta:
        wait: timedelta = self.first * 2 ** max(0, attempts - 1)
        return min(self.cap, wait)


def claim(conn: Connection, *, owner: str, now: datetime, lease: timedelta, limit: int) -> list[Claimed]:
    """Lease up to ``limit`` due notices to ``owner`` until ``now + lease``, oldest due first;
    the caller commits at once, then sends."""
    taken = leases.take(conn, NoticeDelivery, NoticeDelivery.notice_id, owner=owner, now=now, lease=lease, limit=limit)
    if not taken:
        return []
    rows = conn.execute(
        select(
            Notice.id,
            Notice.subject_id,
            Notice.kind,
            Notice.facts,
            Notice.respond_by,
            Notice.created_at,
            Notice.about,
            NoticeDelivery.attempts,
            NoticeDelivery.email_at,
            NoticeDelivery.sms_at,
        )
        .join(NoticeDelivery, NoticeDelivery.notice_id == Notice.id)
        .where(Notice.id.in_(list(taken)))
        .order_by(NoticeDelivery.next_at)
    )
    return [
        Claimed(
            id=r.id,
            subject=r.subject_id,
            kind=r.kind,
            facts=r.facts,
            respond_by=r.respond_by,
            created_at=stored_instant(r.created_at),
            attempts=r.attempts,
            sent=frozenset(c for c, at in (("email", r.email_at), ("sms", r.sms_at)) if at is not None),
            about=r.about,
        )
        for r in rows
    ]


def settle(conn: Connection, outcomes: Sequence[Outcome], *, owner: str, now: datetime, retry: Retry) -> None:
    """Record each outcome's attempts and move its delivery on: delivered once every channel it
    has took it, unreachable with no contact, else due again after the backoff (failed after the
    limit). A lease another worker has taken since (this one ran past it) still records the
    attempts, and leaves the state to the holder."""
    attempts = [
        {
            "notice_id": o.notice.id,
            "channel": a.channel,
            "contact_record_id": a.contact_record,
            "attempt": o.notice.attempts + 1,
            "worker": owner,
            "ok": a.ok,
            "error": a.error,
            "at": now,
        }
        for o in outcomes
        for a in o.attempts
    ]
    if attempts:
        conn.execute(insert(NoticeAttempt), attempts)
    for outcome in outcomes:
        values: dict[str, Any] = {"lease_owner": None, "lease_until": None}
        for a in outcome.attempts:
            if a.ok:
                values[f"{a.channel}_at"] = now
        failures = [a for a in outcome.attempts if not a.ok]
        if outcome.unreachable:
            values["state"] = UNREACHABLE
        elif outcome.done:
            values |= {"state": DELIVERED, "delivered_at": now, "error": None}
        else:
            tries = outcome.notice.attempts + 1
            values |= {
                "attempts": tries,
                "state": FAILED if tries >= retry.limit else PENDING,
                "next_at": now + retry.delay(tries),
                "error": failures[0].error if failures else None,
            }
        conn.execute(
            update(NoticeDelivery)
            .where(NoticeDelivery.notice_id == outcome.notice.id, NoticeDelivery.lease_owner == owner)
            .values(**values)
        )
    _date_effects(conn, outcomes, now=now)


def _date_effects(conn: Connection, outcomes: Sequence[Outcome], *, now: datetime) -> None:
    """A listing notice that reached its subject (or found no way to) may let the listing's
    measures be dated (``lists.effect``): where the listing carries no measure yet, its listed
    subject waits for a refresh, noted in this transaction so that a worker killed after it
    loses nothing; ``credence worker`` refreshes. (A listing whose measures took effect on its
    decision day has its measures already, and waits for nothing.)"""
    told = [
        o.notice.about
        for o in outcomes
        if o.notice.kind == LISTING_START
        and o.notice.about is not None
        and (o.unreachable or any(a.ok for a in o.attempts))
    ]
    if not told:
        return
    # by subject first: active_measures is indexed by subject, not by listing
    undated = ~exists().where(ActiveMeasure.subject_id == Listing.subject_id, ActiveMeasure.listing_id == Listing.id)
    # a redlist entry carries rewards through its grade, never measures of its own: not waiting
    decided = exists().where(Record.id == Listing.decision_record_id)
    query = select(Listing.listed_subject_id).where(Listing.id.in_(told), decided, undated).distinct()
    listed = conn.scalars(query).all()
    bulk.insert_rows(conn, PendingSubject, ("subject_id", "since"), [(s, now) for s in listed], skip_existing=True)


@dataclass(frozen=True, slots=True)
class Waiting:
    id: uuid.UUID
    subject: uuid.UUID
    kind: str
    state: str
    attempts: int
    error: str | None
    created_at: datetime


def undeliverable(conn: Connection, *, limit: int = 100) -> list[Waiting]:
    """Notices that reached no one: no contact on record, or every attempt failed."""
    rows = conn.execute(
        select(
            Notice.id,
            Notice.subject_id,
            Notice.kind,
            NoticeDelivery.state,
            NoticeDelivery.attempts,
            NoticeDelivery.error,
            Notice.created_at,
        )
        .join(NoticeDelivery, NoticeDelivery.notice_id == Notice.id)
        .where(NoticeDelivery.state.in_([UNREACHABLE, FAILED]))
        .order_by(Notice.created_at, Notice.id)
        .limit(limit)
    )
    return [Waiting(*r[:6], created_at=stored_instant(r.created_at)) for r in rows]


def counts(conn: Connection) -> dict[str, int]:
    """How many notices stand in each state."""
    rows = conn.execute(select(NoticeDelivery.state, func.count()).group_by(NoticeDelivery.state))
    return {state: int(n) for state, n in rows}


@dataclass(frozen=True, slots=True)
class Told:
    id: uuid.UUID
    kind: str
    created_at: datetime
    respond_by: date | None
    state: str
    attempts: int
    delivered_at: datetime | None
    channels: tuple[str, ...]  # those that took it


def told(conn: Connection, subject: uuid.UUID, *, limit: int = 100) -> list[Told]:
    """The notices written to ``subject``, newest first, with where each one's delivery stands."""
    rows = conn.execute(
        select(
            Notice.id,
            Notice.kind,
            Notice.created_at,
            Notice.respond_by,
            NoticeDelivery.state,
            NoticeDelivery.attempts,
            NoticeDelivery.delivered_at,
            NoticeDelivery.email_at,
            NoticeDelivery.sms_at,
        )
        .join(NoticeDelivery, NoticeDelivery.notice_id == Notice.id)
        .where(Notice.subject_id == subject)
        .order_by(Notice.created_at.desc(), Notice.id)
        .limit(limit)
    )
    return [
        Told(
            id=r.id,
            kind=r.kind,
            created_at=stored_instant(r.created_at),
            respond_by=r.respond_by,
            state=r.state,
            attempts=r.attempts,
            delivered_at=stored_instant(r.delivered_at) if r.delivered_at else None,
            channels=tuple(c for c, at in (("email", r.email_at), ("sms", r.sms_at)) if at is not None),
        )
        for r in rows
    ]


@dataclass(frozen=True, slots=True)
class Reached:
    """How a notice about a row stands: when it first reached its subject on any channel (None
    while it has not), and whether no channel can reach them."""

    at: datetime | None
    unreachable: bool


def reached(conn: Connection, about: Sequence[uuid.UUID], *, kind: str) -> dict[uuid.UUID, Reached]:
    """For each row of ``about`` (a listing id) with a notice of ``kind``: the first time one
    reached its subject, or whether none can. A row with several (a listing told of again) counts
    from the earliest that reached."""
    found: dict[uuid.UUID, Reached] = {}
    columns = (Notice.about, NoticeDelivery.state, NoticeDelivery.email_at, NoticeDelivery.sms_at)
    for where in bulk.matching(Notice.about, about, conn):
        rows = conn.execute(
            select(*columns)
            .join(NoticeDelivery, NoticeDelivery.notice_id == Notice.id)
            .where(where, Notice.kind == kind)
        )
        for row in rows:
            times = [stored_instant(t) for t in (row.email_at, row.sms_at) if t is not None]
            now = Reached(at=min(times) if times else None, unreachable=row.state in (UNREACHABLE, FAILED))
            before = found.get(row.about)
            if before is None or (now.at is not None and (before.at is None or now.at < before.at)):
                found[row.about] = now
    return found
