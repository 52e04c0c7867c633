"""One delivery pass: claim due notices, send each on every channel its subject can be reached
on, and settle. The claim and the settlement are short transactions of their own; the sending
happens between them, holding nothing in the store (see ``outbox.claims``)."""

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import tenacity
from jinja2 import TemplateError
from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError

from credence import audit, logs
from credence.audit import Entry, EventTag
from credence.dueprocess import contacts
from credence.dueprocess.channels import Channel, DeliveryError, Mail, Outgoing, Sms
from credence.dueprocess.render import render
from credence.outbox import claims
from credence.outbox.claims import Attempt, Claimed, Outcome, Retry

log = logs.get_logger(__name__)


@dataclass(slots=True)
class Channels:
    """The configured channels; a channel left out reaches no one."""

    email: Mail | None = None
    sms: Sms | None = None

    def by_name(self) -> dict[str, Channel]:
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
    with ThreadPoolExecutor(1, thread_name_prefix="compose") as composer:  # the next composed while one is sent
        prepared = composer.map(lambda n: _prepare(n, reach.get(n.subject, contacts.Reach()), usable), claimed)
        outcomes = [_send(ready, usable, result) for ready in prepared]
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


@dataclass(frozen=True, slots=True)
class Prepared:
    notice: Claimed
    outgoing: dict[str, tuple[Outgoing, contacts.Address]]  # by channel, those still owed
    unreachable: bool
    broken: str | None = None  # the notice cannot be rendered: a template's fault, retried and then failed


def _prepare(notice: Claimed, reach: contacts.Reach, usable: dict[str, Channel]) -> Prepared:
    targets = {name: address for name, address in reach.channels().items() if name in usable}
    if not targets:
        return Prepared(notice, {}, unreachable=True)
    try:
        rendered = render(
            id=notice.id,
            kind=notice.kind,
            facts=notice.facts,
            respond_by=notice.respond_by,
            created_at=notice.created_at,
        )
    except TemplateError as error:
        log.error("notice.unrenderable", notice=str(notice.id), kind=notice.kind, error=type(error).__name__)
        fault = f"template {notice.kind}: {type(error).__name__}"
        return Prepared(notice, {}, unreachable=False, broken=fault)
    owed = {
        name: (usable[name].compose(notice.id, address.value, rendered), address)
        for name, address in targets.items()
        if name not in notice.sent  # took it on an earlier attempt
    }
    return Prepared(notice, owed, unreachable=False)


def _send(ready: Prepared, usable: dict[str, Channel], result: Pass) -> Outcome:
    if ready.unreachable:
        return Outcome(ready.notice, unreachable=True)
    outcome = Outcome(ready.notice)
    if ready.broken is not None:
        outcome.attempts.append(Attempt("email", None, ok=False, error=ready.broken[:200]))
        return outcome
    for name, (outgoing, address) in ready.outgoing.items():
        try:
            usable[name].transmit(outgoing)
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
