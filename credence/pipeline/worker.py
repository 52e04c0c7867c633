"""``credence worker``'s job: deliver the outbox (and mail the auditors their alerts), and keep the
registry's clock (what must happen when time passes: disputes' deadlines and the rest, as they
land). Several workers may run at once (``outbox.claims``); each stops cleanly when asked, after
its current pass.

The store may be busy with a writer (a long ingest on SQLite holds the file's write lock): a
pass that cannot get in is tried again at the next poll, and a settlement is retried before
its lease runs out, so a busy store delays notices and never loses one.
"""

import os
import socket
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TypeVar

from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError

from credence import logs
from credence.audit.checkpoints import Advanced
from credence.dueprocess import alerts
from credence.dueprocess import hooks as provider_hooks
from credence.dueprocess.delivery import Channels, Pass, busy, deliver
from credence.outbox.claims import Retry
from credence.pipeline import clock as registry_clock
from credence.rules.loader import Scheme

log = logs.get_logger(__name__)
T = TypeVar("T")


def owner_name() -> str:
    """This worker's name in the leases it holds: host, process and a random part (a restarted
    worker with a reused pid is another worker)."""
    return f"{socket.gethostname()[:30]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def wall_clock() -> datetime:
    return datetime.now(UTC)


@dataclass(slots=True)
class Totals:
    passes: int = 0
    delivered: int = 0
    retrying: int = 0
    unreachable: int = 0
    busy: int = 0  # passes the store turned away
    refreshed: int = 0  # clock ticks that refreshed waiting subjects
    called: int = 0  # webhook calls the providers acknowledged
    checkpoints: int = 0  # checkpoints signed
    alerted: int = 0  # alerts mailed to auditors
    sent: dict[str, int] = field(default_factory=dict)

    def add(self, done: Pass) -> None:
        self.passes += 1
        self.delivered += done.delivered
        self.retrying += done.retrying
        self.unreachable += done.unreachable
        for channel, n in done.sent.items():
            self.sent[channel] = self.sent.get(channel, 0) + n


@dataclass(frozen=True, slots=True)
class Plan:
    poll: float = 0.2
    lease: timedelta = timedelta(seconds=60)
    batch: int = 200
    retry: Retry = field(default_factory=Retry)
    # the rulebooks the clock refreshes with; None: deliver only, keep no clock
    schemes: dict[str, Scheme] | None = None
    # signs the webhook calls owed to providers (CREDENCE_WEBHOOK_KEY); None: make none
    caller: provider_hooks.Caller | None = None
    # signs the transparency log's checkpoints (CREDENCE_LOG_KEY); None: leave it to `credence audit checkpoint`
    checkpointing: registry_clock.Checkpointing | None = None


def run(
    engine: Engine,
    channels: Channels,
    *,
    stop: threading.Event,
    plan: Plan,
    owner: str | None = None,
    clock: Callable[[], datetime] = wall_clock,
    once: bool = False,
) -> Totals:
    """Deliver until ``stop`` is set (or, ``once``, until nothing is due); returns the totals."""
    me = owner or owner_name()
    totals = Totals()
    signed_at: datetime | None = None  # the last checkpoint this worker signed or found unchanged
    log.info("worker.start", owner=me)
    while not stop.is_set():
        try:
            done = deliver(
                engine, channels, owner=me, clock=clock, lease=plan.lease, limit=plan.batch, retry=plan.retry
            )
        except OperationalError as error:
            if not busy(error):
                raise
            totals.busy += 1
            log.info("worker.store_busy", owner=me)
            stop.wait(plan.poll)
            continue
        totals.add(done)
        totals.alerted += _unless_busy(lambda: alerts.send(engine, channels.email, now=clock()), 0)
        if plan.caller is not None:
            totals.called += _call(engine, plan.caller, plan, owner=me, clock=clock)
        if plan.checkpointing is not None and (signed_at is None or clock() - signed_at >= plan.checkpointing.every):
            signed = _checkpoint(engine, plan.checkpointing, now=clock())
            if signed is not None:
                signed_at = clock()
                totals.checkpoints += signed.note is not None
        if plan.schemes is not None and _tick(engine, plan.schemes, now=clock()):
            totals.refreshed += 1
            continue  # the refresh may have written notices (measures now dated): deliver them now
        if done.claimed:
            log.info(
                "worker.pass", owner=me, delivered=done.delivered, retrying=done.retrying, unreachable=done.unreachable
            )
        if done.claimed < plan.batch:
            if once:
                break
            stop.wait(plan.poll)
    log.info("worker.stop", owner=me, delivered=totals.delivered)
    return totals


def _unless_busy(step: Callable[[], T], otherwise: T) -> T:
    """``step``, or ``otherwise`` when the store turned it away (SQLite's file held by another
    writer): it is tried again at the next pass."""
    try:
        return step()
    except OperationalError as error:
        if not busy(error):
            raise
        return otherwise


def _call(
    engine: Engine, caller: provider_hooks.Caller, plan: Plan, *, owner: str, clock: Callable[[], datetime]
) -> int:
    return _unless_busy(
        lambda: provider_hooks.deliver(
            engine, caller, owner=owner, clock=clock, lease=plan.lease, limit=plan.batch, retry=plan.retry
        ),
        0,
    )


def _checkpoint(engine: Engine, plan: registry_clock.Checkpointing, *, now: datetime) -> Advanced | None:
    return _unless_busy(lambda: registry_clock.checkpoint(engine, plan, now=now), None)


def _tick(engine: Engine, schemes: dict[str, Scheme], *, now: datetime) -> bool:
    """Keep the clock; False when nothing waited or the store was busy (tried at the next pass)."""
    return _unless_busy(lambda: registry_clock.tick(engine, schemes, now=now) is not None, False)
