"""The gate's inquiry log: every check and every manifest entry, which provider asked about whom,
when, for what, and the answer and reference it was given (issue 8, DESIGN P8).

Written off the request path: a route hands its answers to ``InquiryLog.record`` or
``record_screening`` (an append under a lock, nothing more; a manifest is kept whole and turned
into rows later), and a thread flushes what has gathered at least every ``flush`` seconds, and
once more on ``close``. A flush is one transaction: the rows, in one bulk insert into the
unindexed staging table ``inquiries_staged``, and one ``inquiry.batch`` event naming the batch
with counts only (never a number). Every ``move`` seconds another thread takes the staged rows
into the indexed ``inquiries`` table (``screening.inquiry_move``); a subject's look-up (``about``)
reads both tables in one statement, so an inquiry is shown the moment it is flushed, once. The work of a flush
(canonical numbers, their SHA-256, the rows) is done in that thread, not the request's.

What a crash loses: a process killed outright (SIGKILL, power) loses what it answered since its
last flush, at most ``flush`` seconds of answers plus the flush under way; a process stopped
(SIGTERM, the server's shutdown) loses nothing, since ``close`` flushes. A flush that fails (the
store away, SQLite busy past its timeout) keeps its rows and is retried on the next tick; when
``backlog`` entries wait unwritten, the gate refuses to answer (503) rather than answer
unrecorded.

The log takes no writer lock: it touches no derived state, and a load holding the lock for
minutes must not stop the gate recording. On SQLite its inserts wait on the database's own write
lock, as any writer's do.
"""

import hashlib
import threading
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import repeat
from typing import Any, cast

from sqlalchemy import Connection, Engine, Select, case, distinct, func, select, union_all

from credence import audit, logs
from credence.audit.tags import EventTag
from credence.exc import FieldError, UnavailableError
from credence.model.identifiers import parse_subject
from credence.screening.check import Decision, Outcome
from credence.screening.inquiry_move import move
from credence.screening.numbers import person_keys
from credence.screening.screen import REFUSED, RESTRICTED, Manifest, Screened
from credence.screening.ticker import Ticker
from credence.store import bulk
from credence.store.db import stored_instant
from credence.store.orm import Inquiry, Provider, StagedInquiry

log = logs.get_logger(__name__)
ACTOR = "credence serve (inquiry log)"
COLUMNS = (
    "batch",
    "provider_id",
    "number_sha256",
    "action",
    "attributes",
    "decision",
    "reference",
    "at",
    "asked_at",
)
DECISIONS = {0: "allowed", RESTRICTED: "restricted", REFUSED: "refused"}


class InquiryLogFullError(UnavailableError):
    def __init__(self, waiting: int) -> None:
        super().__init__(f"the inquiry log cannot keep up ({waiting:,} answers wait to be recorded); try again")


@dataclass(frozen=True, slots=True)
class _Check:
    provider: uuid.UUID
    subject: str
    action: str
    attributes: dict[str, Any]
    decision: str
    reference: str
    at: datetime
    asked_at: datetime


@dataclass(frozen=True, slots=True)
class _Screening:
    provider: uuid.UUID
    manifest: Manifest
    screened: Screened
    at: datetime
    asked_at: datetime


def digest(number: str) -> str:
    """The look-up key of a canonical subject number."""
    return hashlib.sha256(number.encode("ascii")).hexdigest()


def _canonical(subject: str) -> str | None:
    """The canonical number of a subject as asked, or None when it cannot be read."""
    try:
        return parse_subject(subject, field="subject").number
    except FieldError:
        return None


def _digests(subjects: Sequence[str]) -> list[str | None]:
    """Each subject's look-up key; the canonical resident IDs of a manifest (nearly all of it)
    are recognised in one numpy pass, the rest parsed one by one."""
    _, decided = person_keys(subjects)
    found: list[str | None] = []
    for subject, canonical in zip(subjects, decided.tolist(), strict=True):
        number = subject if canonical else _canonical(subject)
        found.append(digest(number) if number is not None else None)
    return found


def _rows(pieces: Sequence[_Check | _Screening], batch: uuid.UUID) -> Iterator[tuple[Any, ...]]:
    """The rows of a flush, in the order the answers were given. The single checks' numbers are
    keyed together, as a manifest's are."""
    singles = iter(_digests([piece.subject for piece in pieces if isinstance(piece, _Check)]))
    for piece in pieces:
        if isinstance(piece, _Check):
            yield (
                batch,
                piece.provider,
                next(singles),
                piece.action,
                piece.attributes,
                piece.decision,
                piece.reference,
                piece.at,
                piece.asked_at,
            )
        else:
            yield from _manifest_rows(piece, batch)


def _manifest_rows(piece: _Screening, batch: uuid.UUID) -> Iterator[tuple[Any, ...]]:
    # column by column, zipped: a Python loop per entry cost more than the manifest's screening
    manifest, screened = piece.manifest, piece.screened
    requests = [manifest.requests[code] for code in manifest.codes.tolist()]
    outcomes = screened.outcomes.tolist()
    references = screened.references()
    yield from zip(
        repeat(batch),
        repeat(piece.provider),
        _digests(manifest.subjects),
        (action for action, _ in requests),
        (attributes for _, attributes in requests),
        map(DECISIONS.__getitem__, outcomes),
        (None if outcome == REFUSED else reference for outcome, reference in zip(outcomes, references, strict=True)),
        repeat(piece.at),
        repeat(piece.asked_at),
    )


def _size(piece: _Check | _Screening) -> int:
    return 1 if isinstance(piece, _Check) else len(piece.manifest)


@dataclass
class InquiryLog:
    """One gate process's inquiry log (``start`` it; ``close`` flushes what is left)."""

    engine: Engine
    flush: float = 0.1
    backlog: int = 1_000_000
    move: float = 5.0  # seconds between moves of the staged rows into the indexed table
    failures: int = 0  # flushes that failed and were retried
    # called after every flush with (entries written, entries waiting, whether it failed)
    on_flush: Callable[[int, int, bool], None] | None = None
    _pending: list[_Check | _Screening] = field(default_factory=list)
    _waiting: int = 0  # entries in _pending and in the flush under way
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _ticker: Ticker | None = None
    _mover: Ticker | None = None

    @property
    def waiting(self) -> int:
        """Answers given and not yet recorded."""
        return self._waiting

    def record(
        self,
        provider: uuid.UUID,
        subject: str,
        action: str,
        attributes: dict[str, Any],
        decision: Decision,
        *,
        at: datetime,
        asked_at: datetime,
    ) -> None:
        """Log one check's answer (the route's call; never blocks on the store)."""
        answer = "restricted" if decision.outcome is Outcome.RESTRICTED else "allowed"
        self._add(_Check(provider, subject, action, attributes, answer, decision.reference, at, asked_at))

    def record_screening(
        self, provider: uuid.UUID, manifest: Manifest, screened: Screened, *, at: datetime, asked_at: datetime
    ) -> None:
        """Log every entry of a screened manifest, the refused ones included."""
        self._add(_Screening(provider, manifest, screened, at, asked_at))

    def _add(self, piece: _Check | _Screening) -> None:
        size = _size(piece)
        with self._lock:
            if self._waiting + size > self.backlog:
                raise InquiryLogFullError(self._waiting)
            self._pending.append(piece)
            self._waiting += size

    def start(self) -> None:
        self._ticker = Ticker(self.flush_now, every=self.flush, name="inquiries")
        self._ticker.start()
        self._mover = Ticker(self.move_now, every=self.move, name="inquiries.move")
        self._mover.start()

    def close(self) -> None:
        """Stop the threads and write what is left (the server's shutdown). What is staged stays
        staged, durable and shown, for the next move (this worker's or another's)."""
        if self._mover is not None:
            self._mover.close(timeout=30)
        if self._ticker is not None:
            self._ticker.close(timeout=30)
        if not self.flush_now() and self._waiting:
            log.error("inquiries.lost_at_shutdown", entries=self._waiting)

    def flush_now(self) -> bool:
        """Write what has gathered in one transaction; False if the store refused (kept for
        the next try)."""
        with self._lock:
            pieces, self._pending = self._pending, []
        if not pieces:
            return True
        try:
            count = self._write(pieces)
        except Exception as error:  # the store away or busy: keep the rows, in order, for the next tick
            with self._lock:
                self._pending[:0] = pieces
            self.failures += 1
            log.warning("inquiries.flush_failed", error=type(error).__name__, waiting=self._waiting)
            self._flushed(0, failed=True)
            return False
        with self._lock:
            self._waiting -= count
        self._flushed(count, failed=False)
        return True

    def move_now(self) -> int:
        """Move the staged rows into the indexed table in one transaction; returns how many."""
        with self.engine.begin() as conn:
            moved = move(conn)
        log.debug("inquiries.moved", inquiries=moved)
        return moved

    def _flushed(self, count: int, *, failed: bool) -> None:
        if self.on_flush is not None:
            self.on_flush(count, self._waiting, failed)

    def _write(self, pieces: list[_Check | _Screening]) -> int:
        batch = uuid.uuid4()
        rows = list(_rows(pieces, batch))
        decisions = Counter(row[5] for row in rows)
        providers = Counter(str(row[1]) for row in rows)
        now = datetime.now(UTC)
        with self.engine.begin() as conn:
            bulk.insert_rows(conn, StagedInquiry, COLUMNS, rows)
            audit.record(
                conn,
                tag=EventTag.INQUIRY_BATCH,
                subject=None,
                actor=ACTOR,
                data={
                    "batch": str(batch),
                    "inquiries": len(rows),
                    "decisions": dict(sorted(decisions.items())),
                    "providers": dict(sorted(providers.items())),
                    "first_asked_at": min(piece.asked_at for piece in pieces).isoformat(),
                    "last_asked_at": max(piece.asked_at for piece in pieces).isoformat(),
                },
                now=now,
            )
        return len(rows)


# reading ----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Asked:
    """One inquiry about a subject, as the subject is shown it."""

    asked_at: datetime
    provider: str
    action: str
    attributes: dict[str, Any]
    decision: str
    reference: str | None
    at: datetime


def about(conn: Connection, subject: str, *, limit: int | None = None) -> list[Asked]:
    """Who asked about ``subject`` (an exact ID number or credit code), newest first: from the
    indexed table and the staging table in one statement, so each inquiry once, moved or not.

    Raises:
        FieldError: ``subject`` is not a valid number.
    """
    number = parse_subject(subject, field="id_number").number
    key = digest(number)
    both = union_all(*(_about(model, key) for model in (Inquiry, StagedInquiry))).subquery()
    i, p = both.c, Provider.__table__.c
    query = (
        select(i.asked_at, p.name, i.action, i.attributes, i.decision, i.reference, i.at)
        .select_from(both.join(Provider.__table__, i.provider_id == p.id))
        .order_by(i.asked_at.desc(), i.id.desc())
        .limit(limit)
    )
    return [
        Asked(stored_instant(asked_at), provider, action, attributes, decision, reference, stored_instant(at))
        for asked_at, provider, action, attributes, decision, reference, at in conn.execute(query)
    ]


def _about(model: type[Inquiry | StagedInquiry], key: str) -> Select[Any]:
    m = model
    return select(m.id, m.provider_id, m.action, m.attributes, m.decision, m.reference, m.at, m.asked_at).where(
        m.number_sha256 == key
    )


# the auditors' reading ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Logged:
    """One inquiry as an auditor reads it: who asked, for what, and the answer; not about whom."""

    id: int
    asked_at: datetime
    provider: str
    action: str
    decision: str
    reference: str | None
    at: datetime


@dataclass(frozen=True, slots=True)
class Tally:
    """A provider's inquiries in the window read: how many, about how many subjects, how many
    answered restricted (a provider asking about far more people than it serves is probing)."""

    provider: str
    inquiries: int
    subjects: int
    restricted: int


@dataclass(frozen=True, slots=True)
class Audited:
    inquiries: list[Logged]  # newest first, at most the limit asked
    providers: list[Tally]  # over the whole window, by provider name


def audited(
    conn: Connection,
    *,
    provider: str | None = None,
    action: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 100,
) -> Audited:
    """The inquiry log as the registry's auditors read it (``Permission.READ_INQUIRY_LOG``): the
    newest inquiries asked in ``[since, until)`` (of ``provider`` and ``action``, if given), from
    the indexed and the staging table alike, and each provider's tally over the same window. The
    subject is never shown, not even as its digest: an ID number's digest is searchable."""
    both = union_all(*(_audited(model, action, since, until) for model in (Inquiry, StagedInquiry))).subquery()
    i, p = both.c, Provider.__table__.c
    joined = both.join(Provider.__table__, i.provider_id == p.id)
    named = [] if provider is None else [p.name == provider]
    rows = conn.execute(
        select(i.id, i.asked_at, p.name, i.action, i.decision, i.reference, i.at)
        .select_from(joined)
        .where(*named)
        .order_by(i.asked_at.desc(), i.id.desc())
        .limit(limit)
    )
    found = [
        Logged(int(id_), stored_instant(asked_at), name, act, decision, reference, stored_instant(at))
        for id_, asked_at, name, act, decision, reference, at in rows
    ]
    restricted = func.sum(case((i.decision == "restricted", 1), else_=0))
    tallies = conn.execute(
        select(p.name, func.count(), func.count(distinct(i.number_sha256)), restricted)
        .select_from(joined)
        .where(*named)
        .group_by(p.name)
        .order_by(p.name)
    )
    return Audited(found, [Tally(name, int(n), int(subjects), int(r or 0)) for name, n, subjects, r in tallies])


def _audited(
    model: type[Inquiry | StagedInquiry], action: str | None, since: datetime | None, until: datetime | None
) -> Select[Any]:
    m = model
    conditions = [] if action is None else [m.action == action]
    if since is not None:
        conditions.append(m.asked_at >= since)
    if until is not None:
        conditions.append(m.asked_at < until)
    columns = select(m.id, m.provider_id, m.number_sha256, m.action, m.decision, m.reference, m.at, m.asked_at)
    return cast(Select[Any], columns.where(*conditions))
