"""The mass-listing circuit breaker: a load of adverse records beyond a source's published
thresholds is held for review, not applied (DESIGN P7).

Counted, per source: adverse records, that is new versions asserting a record of an adverse kind
(``catalogue/record_kinds.yaml``; a listing decision is one), by transaction time, in the last
hour and the last day, and the distinct subjects they name in the last day against the residents
registered in the source's jurisdiction (subjects with a residence record there). The load at
hand is counted before anything of it is written: rows that would be unchanged are not. Counting
starts afresh when the source's last hold was closed, so released rows do not trip it again.

Invariants:
- One way to hold: a held row is a ``quarantine`` row with a ``hold_id``; plain replay never
  applies it, only ``release`` does (through the same checks and ``write_batch``, with a new
  transaction time and the row's own valid time).
- Once tripped the breaker stays open: while a source has an open hold, every assertion of an
  adverse kind it sends joins the hold, and so does any row about a source record id the hold
  already holds (a retraction or amendment never overtakes the row it withdraws or amends); its
  other rows apply as usual, a retraction of a record already applied included.
- A hold is opened, with its ``breaker.tripped`` event, in the transaction of the load's first
  batch, with that batch's held rows and the feed ledger's new position: a load killed before it
  leaves nothing, one killed after it resumes holding. Events carry counts, never personal data.
"""

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cached_property
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, func, insert, or_, select

from credence import audit
from credence.audit import EventTag
from credence.exc import CredenceError
from credence.ingest import readers
from credence.ingest.records import Candidate, Checker
from credence.logs import get_logger
from credence.model.catalogue import Catalogue, Polarity
from credence.model.thresholds import Thresholds
from credence.store import bulk
from credence.store.orm import Hold, Quarantine, Record, Subject

log = get_logger(__name__)

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
RESIDENCE = "residence"


def adverse_kinds(catalogue: Catalogue) -> frozenset[str]:
    return frozenset(name for name, kind in catalogue.kinds.items() if kind.polarity is Polarity.ADVERSE)


@dataclass(frozen=True, slots=True)
class Trip:
    """Which threshold a load crosses, and every count, as stored on the hold and its event."""

    threshold: str  # per_hour, per_day or share
    reason: str
    counts: dict[str, Any]


@dataclass
class Guard:
    """What a load does with its adverse rows: apply them (``holding`` false), join the source's
    open hold, or open a new one at its first batch (``trip``)."""

    source: str
    kinds: frozenset[str]
    hold_id: int | None = None
    trip: Trip | None = None
    why: str = ""  # the hold's reason, the counts that opened it
    held_ids: set[str] = field(default_factory=set)  # source record ids the hold holds

    @property
    def holding(self) -> bool:
        return self.hold_id is not None or self.trip is not None

    def holds(self, candidate: Candidate) -> bool:
        """Whether the row goes to the hold (and, if so, its record id is noted as held)."""
        if not self.holding:
            return False
        rid = candidate.source_record_id
        if rid in self.held_ids or (candidate.kind in self.kinds and candidate.op == "assert"):
            self.held_ids.add(rid)
            return True
        return False

    def write(self, conn: Connection, *, file: str, held: list[tuple[int, dict[str, Any]]], now: datetime) -> int:
        """Store ``held`` (line, raw row) under the hold, opening it first if this load trips it.
        Returns the number of rows held."""
        if not held:
            return 0
        if self.hold_id is None:
            assert self.trip is not None  # noqa: S101 - holding() says one of the two is set
            self.hold_id = _open(conn, self.source, file=file, trip=self.trip, now=now)
        reason = f"held by the circuit breaker of source {self.source}, hold {self.hold_id}: {self.why}"
        columns = ("source_id", "file", "line", "field", "reason", "raw", "received_at", "replayed_at", "hold_id")
        rows = [(self.source, file, line, None, reason, raw, now, None, self.hold_id) for line, raw in held]
        bulk.insert_rows(conn, Quarantine, columns, rows)
        data = {"hold": self.hold_id, "file": file, "rows": len(held), "lines": [held[0][0], held[-1][0]]}
        audit.record(conn, tag=EventTag.BREAKER_HELD, subject=None, actor=f"source:{self.source}", data=data, now=now)
        return len(held)


def _open(conn: Connection, source: str, *, file: str, trip: Trip, now: datetime) -> int:
    statement = insert(Hold).values(
        source_id=source, opened_at=now, file=file, threshold=trip.threshold, reason=trip.reason, counts=trip.counts
    )
    hold_id = int(conn.execute(statement.returning(Hold.id)).scalar_one())
    data = {"hold": hold_id, "source": source, "file": file, "threshold": trip.threshold, **trip.counts}
    audit.record(conn, tag=EventTag.BREAKER_TRIPPED, subject=None, actor=f"source:{source}", data=data, now=now)
    log.warning("breaker.tripped", source=source, hold=hold_id, threshold=trip.threshold, **trip.counts)
    return hold_id


def open_hold(conn: Connection, source: str) -> tuple[int, str] | None:
    """The id and reason of the source's open hold, if its breaker is tripped."""
    query = select(Hold.id, Hold.reason).where(Hold.source_id == source, Hold.closed_at.is_(None))
    row = conn.execute(query.order_by(Hold.id).limit(1)).one_or_none()
    return None if row is None else (row.id, row.reason)


def guard(
    conn: Connection,
    path: Path,
    checker: Checker,
    *,
    start: readers.Position,
    now: datetime,
) -> Guard:
    """Decide, before anything of the file is written, what its adverse rows will do."""
    source = checker.authority.source
    kinds = adverse_kinds(checker.catalogue) & checker.authority.kinds
    found = Guard(source=source, kinds=kinds)
    limits = checker.authority.breaker
    if limits is None or not kinds:
        return found
    hold = open_hold(conn, source)
    if hold is not None:  # the same reason a load killed after opening it, then resumed, gives
        found.hold_id, found.why = hold
        found.held_ids = _held_ids(conn, hold[0], checker)
        return found
    counter = _Counter(conn, source, kinds, limits, jurisdictions=checker.authority.jurisdictions, now=now)
    lines = _lines_after(path, start.offset)
    if counter.cannot_trip(lines):  # the cheap bound: no need to read the file twice
        return found
    rows, subjects = _adverse_in(path, checker, start, conn)
    found.trip = counter.assess(rows, subjects)
    if found.trip is not None:
        found.why = found.trip.reason
    return found


def _held_ids(conn: Connection, hold: int, checker: Checker) -> set[str]:
    """The source record ids of a hold's rows not yet applied, as the mapping reads them."""
    rid = checker.mapping.getter(checker.mapping.fields.source_record_id)
    query = select(Quarantine.raw).where(Quarantine.hold_id == hold, Quarantine.replayed_at.is_(None))
    return {str(rid(raw) or "").strip() for raw in conn.execute(query).scalars()}


def _lines_after(path: Path, offset: int) -> int:
    count = 0
    with path.open("rb") as handle:
        handle.seek(offset)
        for block in iter(lambda: handle.read(1 << 20), b""):
            count += block.count(b"\n")
    return count + 1  # a last line without its newline


def _adverse_in(path: Path, checker: Checker, start: readers.Position, conn: Connection) -> tuple[int, set[str]]:
    """The adverse assertions the file holds from ``start`` on that would be new versions, and
    the ID numbers they name. A row the checks refuse is not counted: it will be quarantined."""
    kinds = adverse_kinds(checker.catalogue)
    found: list[tuple[str, str, str]] = []  # source record id, content hash, ID number
    reader = readers.FeedReader(path, checker.mapping.layout, start=start, required=checker.mapping.columns())
    kind_of = checker.mapping.kind_of
    for _line, row in reader.rows():
        if isinstance(row, readers.BadLineError):
            continue
        try:
            if kind_of(row) not in kinds:  # the cheap part of the check first: most rows are not adverse
                continue
            cand = checker.build(row)
        except CredenceError:  # a refusal: the load's own check quarantines it
            continue
        if cand.op == "assert":
            found.append((cand.source_record_id, cand.content_hash, cand.subject.id_number))
    known: dict[str, str] = {}
    for where in bulk.matching(Record.source_record_id, dict.fromkeys(f[0] for f in found), conn):
        query = select(Record.source_record_id, Record.version, Record.content_hash).where(
            Record.source_id == checker.authority.source, where
        )
        newest: dict[str, int] = {}
        for rid, version, digest in conn.execute(query):
            if version > newest.get(rid, 0):
                newest[rid], known[rid] = version, digest
    rows, subjects = 0, set()
    for rid, digest, number in found:
        if known.get(rid) == digest:
            continue  # unchanged: no new version, nothing applied
        known[rid] = digest
        rows += 1
        subjects.add(number)
    return rows, subjects


class _Counter:
    """A source's adverse records of the last hour and day, and its jurisdiction's residents."""

    def __init__(
        self,
        conn: Connection,
        source: str,
        kinds: frozenset[str],
        limits: Thresholds,
        *,
        jurisdictions: tuple[str, ...],
        now: datetime,
    ) -> None:
        self.conn, self.source, self.kinds, self.limits = conn, source, kinds, limits
        self.jurisdictions = jurisdictions
        closed = conn.execute(select(func.max(Hold.closed_at)).where(Hold.source_id == source)).scalar_one()
        since = _aware(closed) if closed is not None else None
        self.hour_from = max(now - HOUR, since) if since else now - HOUR
        self.day_from = max(now - DAY, since) if since else now - DAY
        self.hour = self._count(self.hour_from)
        self.day = self._count(self.day_from)

    @cached_property
    def population(self) -> int:
        # counted only when the share could trip: a count over every residence record, most of
        # a one-record load's time in a city of 100,000
        return population(self.conn, self.jurisdictions)

    def _recent(self, after: datetime) -> Any:
        return select(Record.subject_id).where(
            Record.source_id == self.source,
            Record.recorded_at > after,
            Record.kind.in_(sorted(self.kinds)),
            Record.op == "assert",
        )

    def _count(self, after: datetime) -> int:
        return int(self.conn.execute(select(func.count()).select_from(self._recent(after).subquery())).scalar_one())

    def share_counts(self) -> bool:
        return self.population >= self.limits.min_population

    def cannot_trip(self, lines: int) -> bool:
        limits = self.limits
        if self.hour + lines > limits.per_hour or self.day + lines > limits.per_day:
            return False
        # the day's adverse records name at most day + lines subjects: within the share of any
        # population the share counts for (min_population or more), the residents need no count
        if self.day + lines <= limits.share * limits.min_population:
            return True
        return not self.share_counts() or self.day + lines <= limits.share * self.population

    def assess(self, rows: int, subjects: set[str]) -> Trip | None:
        limits = self.limits
        hour, day = self.hour + rows, self.day + rows
        named = set(subjects)
        if self.share_counts():
            recent = self._recent(self.day_from).subquery()
            query = select(Subject.id_number).where(Subject.id.in_(select(recent.c.subject_id)))
            named.update(self.conn.execute(query).scalars())
        counts: dict[str, Any] = {
            "load": rows,
            "last_hour": hour,
            "per_hour": limits.per_hour,
            "last_day": day,
            "per_day": limits.per_day,
            "subjects_last_day": len(named),
            "population": self.population,
            "share": limits.share,
            "min_population": limits.min_population,
        }
        if hour > limits.per_hour:
            why = f"{hour:,} adverse records in the last hour, over its per_hour threshold of {limits.per_hour:,}"
            return Trip("per_hour", why, counts)
        if day > limits.per_day:
            why = f"{day:,} adverse records in the last day, over its per_day threshold of {limits.per_day:,}"
            return Trip("per_day", why, counts)
        if self.share_counts() and len(named) > limits.share * self.population:
            part = len(named) / self.population
            why = (
                f"adverse records about {len(named):,} subjects in the last day, {part:.1%} of the"
                f" {self.population:,} residents of its jurisdiction, over its share threshold of {limits.share:.1%}"
            )
            return Trip("share", why, counts)
        return None


def population(conn: Connection, jurisdictions: tuple[str, ...]) -> int:
    """Residents registered in the jurisdictions: subjects with a residence record there ("" is
    the whole country). A full count over residence records: fine for a city; a nation would
    keep a count per region as residence records arrive."""
    query = select(func.count(func.distinct(Record.subject_id))).where(Record.kind == RESIDENCE)
    if "" not in jurisdictions:
        query = query.where(or_(*(Record.jurisdiction.startswith(p, autoescape=True) for p in jurisdictions)))
    return int(conn.execute(query).scalar_one())


def _aware(value: datetime) -> datetime:
    """SQLite gives back the stored UTC instant without its zone; PostgreSQL gives it with one."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)
