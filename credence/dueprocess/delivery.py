"""One delivery pass: claim due notices, send each on every channel its subject can be reached
on, and settle. The claim and the settlement are short transactions of their own; the sending
happens between them, holding nothing in the store (see ``outbox.claims``)."""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import tenacity
from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError

from credence import audit
from credence.audit import Entry, EventTag
from credence.dueprocess import contacts
from credence.dueprocess.channels import DeliveryError, Mail, Sms
from credence.dueprocess.render import render
from credence.outbox import claims
from credence.outbox.claims import Attempt, Claimed, Outcome, Retry


@dataclass(slots=True)
class Channels:
    """The configured channels; a channel left out reaches no one."""

    email: Mail | None = None
    sms: Sms | None = None

    def by_name(self) -> dict[str, Mail | Sms]:
        return {name: c for name, c in (("email", self.email), ("sms", self.sms)) if c is not None}

    def close(self) -> None:
        for channel in self.by_name().values():
            channel.close()


@dataclass(slots=True)
class Pass:
    claimed: int = 0
    delivered: int = 0
    retrying: int = 0
    unreachable: int = 0
    sent: dict[str, int] = field(default_factory=dict)  # messages by channel


def deliver(
    engine: Engine,
    channels: Channels,
    *,
    owner: str,
    clock: Callable[[], datetime],
    lease: timedelta,
    limit: int,
    retry: Retry,
) -> Pass:
    """Deliver up to ``limit`` due notices; ``clock`` gives the instants (a test's or the wall's)."""
    with engine.begin() as conn:
        claimed = claims.claim(conn, owner=owner, now=clock(), lease=lease, limit=limit)
    result = Pass(claimed=len(claimed))
    if not claimed:
        return result
    with engine.connect() as conn:
        reach = contacts.reach(conn, {n.subject for n in claimed}, known_at=clock())
    usable = channels.by_name()
    outcomes = [_send(notice, reach.get(notice.subject, contacts.Reach()), usable, result) for notice in claimed]
    _settle(engine, outcomes, owner=owner, clock=clock, retry=retry, within=lease / 2)
    for outcome in outcomes:
        if outcome.unreachable:
            result.unreachable += 1
        elif outcome.done:
            result.delivered += 1
        else:
            result.retrying += 1
    return result


def _settle(
    engine: Engine,
    outcomes: list[Outcome],
    *,
    owner: str,
    clock: Callable[[], datetime],
    retry: Retry,
    within: timedelta,
) -> None:
    """Record what was sent, trying again while the store is busy (another writer holds SQLite's
    file), for at most half the lease: past it, the lease runs out and the notices go again."""

    @tenacity.retry(
        retry=tenacity.retry_if_exception(busy),
        wait=tenacity.wait_exponential(multiplier=0.05, max=1.0),
        stop=tenacity.stop_after_delay(within.total_seconds()),
        reraise=True,
    )
    def once() -> None:
        now = clock()
        with engine.begin() as conn:
            claims.settle(conn, outcomes, owner=owner, now=now, retry=retry)
            audit.record_many(conn, [_event(o) for o in outcomes if o.done or o.unreachable], now=now)

    once()


def busy(error: BaseException) -> bool:
    """SQLite's "database is locked": another writer held the file past the busy timeout."""
    if not isinstance(error, OperationalError):
        return False
    text = str(error.orig).lower()
    return "locked" in text or "busy" in text


def _send(notice: Claimed, reach: contacts.Reach, usable: dict[str, Mail | Sms], result: Pass) -> Outcome:
    targets = {name: address for name, address in reach.channels().items() if name in usable}
    if not targets:
        return Outcome(notice, unreachable=True)
    rendered = render(
        id=notice.id, kind=notice.kind, facts=notice.facts, respond_by=notice.respond_by, created_at=notice.created_at
    )
    outcome = Outcome(notice)
    for name, address in targets.items():
        if name in notice.sent:
            continue  # took it on an earlier attempt
        try:
            usable[name].send(notice.id, address.value, rendered)
        except DeliveryError as error:
            outcome.attempts.append(Attempt(name, address.record, ok=False, error=str(error)[:200]))
            continue
        outcome.attempts.append(Attempt(name, address.record, ok=True))
        result.sent[name] = result.sent.get(name, 0) + 1
    return outcome


def _event(outcome: Outcome) -> Entry:
    notice = outcome.notice
    data: dict[str, object] = {"notice_id": str(notice.id), "kind": notice.kind}
    if outcome.unreachable:
        return Entry(tag=EventTag.NOTICE_UNREACHABLE, subject=notice.subject, actor="worker", data=data)
    data["channels"] = sorted(a.channel for a in outcome.attempts)
    return Entry(tag=EventTag.NOTICE_DELIVERED, subject=notice.subject, actor="worker", data=data)
