"""The gate's in-memory index of active measures: what a check reads instead of the store.

A check at the point of service must not wait on a query, and a worker must hold millions of
restricted people without a dict entry (about 80 bytes) each. So the index keeps the
restrictions and notices of the active-measures table (rewards are the officers' business, and
the gate never says them) as columns of sorted arrays, one row per subject and listing:

- ``keys``: a resident ID's first 17 digits as an int64 (the 18th is their check character);
- ``starts``/``ends``: the listing's days as ordinals, half-open, so a term that ends at
  midnight is allowed from 00:00:00 with no job running (``ends`` is ``OPEN`` until further
  notice);
- ``sets``: which (measure, action) pairs the listing carries and its list, interned (a list
  carries the same measures for everyone on it);
- ``courts``, ``cases``, ``serials``: where to appeal, the court interned and the case number
  split into an interned pattern and its serial (``(2021)苏0505执`` + ``123`` + ``号``).

Organisations (few, and keyed by 18 letters and digits) and court exemptions (rare, one day
each) are plain dicts. A subject changed since the arrays were built is in ``overlay``, which a
lookup reads first; ``Follower`` keeps the overlay current from the ``measure_changes`` journal
and rebuilds the arrays when the overlay grows or the journal says "everyone".

A lookup answers through ``check.decide``, the library check's own decision, so the two agree
by construction; the tests check that they agree in fact.
"""

import re
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from functools import lru_cache
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import ColumnElement, Connection, Engine, Select, select
from sqlalchemy.sql.functions import aggregate_strings
from stdnum.cn import ric

from credence import logs
from credence.lists import changes
from credence.lists.measures import Effect, Measure
from credence.model.identifiers import parse_subject
from credence.model.time import legal_date
from credence.screening.check import Decision, applicable, decide
from credence.screening.ticker import Ticker
from credence.store import bulk
from credence.store.orm import ActiveMeasure, Exemption, Subject

log = logs.get_logger(__name__)

OPEN = np.iinfo(np.int32).max  # an ``ends`` value: until further notice
NO_SERIAL = np.iinfo(np.uint32).max  # a case number kept whole in its pattern
_SERIAL = re.compile(r"^(.*\D|)(0|[1-9]\d{0,8})(\D*)$")  # the last run of digits, without a leading zero
GATED = (Effect.RESTRICT.value, Effect.NOTICE.value)
UNIT, RECORD = "\x1f", "\x1e"  # ASCII unit and record separators: never in a catalogue identifier


@dataclass(frozen=True, slots=True)
class Listed:
    """One subject's active measures through one listing, as a lookup reads them."""

    starts: int  # ordinal of the first day
    ends: int  # ordinal of the first day without it; OPEN: until further notice
    measures: frozenset[tuple[str, str]]  # (measure id, action)
    list_id: str | None
    court: str | None
    case_number: str | None


@dataclass(frozen=True, slots=True)
class Held:
    """What the index holds of one subject: its listings (oldest first) and its exemptions
    (``(action, case number, day ordinal)`` -> the least reason, as the store's lookup takes)."""

    listed: tuple[Listed, ...] = ()
    exempted: Mapping[tuple[str, str | None, int], str | None] = field(default_factory=dict)


NOTHING = Held()


def person_key(number: str) -> int:
    """A canonical resident ID's key: its first 17 digits (the 18th is their check character)."""
    return int(number[:17])


def keyed(number: str) -> bool:
    """Whether a canonical number is held in the arrays: one whose 18th character is the resident
    ID check character of the first 17, so that the key alone gives back the number (a credit
    code may be all digits, and one sharing a person's first 17 digits must not share their key)."""
    return (
        len(number) == 18 and number[:17].isdigit() and number[17] == ric.calc_check_digit(number)
    )  # stdnum drops the last character


class Interner:
    """Values to small integers and back, for columns of a few distinct values."""

    def __init__(self) -> None:
        self.values: list[Any] = []
        self._codes: dict[Any, int] = {}

    def code(self, value: Any) -> int:
        found = self._codes.get(value)
        if found is None:
            found = self._codes[value] = len(self.values)
            self.values.append(value)
        return found


def split_case(case: str | None, patterns: Interner) -> tuple[int, int]:
    """A case number as (pattern code, serial): ``(2021)苏0505执123号`` is the pattern
    ``("(2021)苏0505执", "号")`` and 123; a number without a serial is kept whole."""
    found = _SERIAL.match(case) if case else None
    if found is None:
        return patterns.code((case, None)), int(NO_SERIAL)
    return patterns.code((found[1], found[3])), int(found[2])


def join_case(pattern: tuple[str | None, str | None], serial: int) -> str | None:
    head, tail = pattern
    return head if serial == NO_SERIAL else f"{head}{serial}{tail}"


@dataclass(frozen=True, slots=True)
class Arrays:
    """The people of the index as sorted columns, one row per subject and listing."""

    keys: npt.NDArray[np.int64]
    starts: npt.NDArray[np.int32]
    ends: npt.NDArray[np.int32]
    sets: npt.NDArray[np.unsignedinteger[Any]]
    courts: npt.NDArray[np.unsignedinteger[Any]]
    cases: npt.NDArray[np.unsignedinteger[Any]]
    serials: npt.NDArray[np.uint32]
    people: int  # distinct keys
    set_values: tuple[tuple[str | None, frozenset[tuple[str, str]]], ...]
    court_values: tuple[str | None, ...]
    case_values: tuple[tuple[str | None, str | None], ...]

    @property
    def nbytes(self) -> int:
        """The bytes of the columns (the interned values are a few thousand short strings)."""
        columns = (self.keys, self.starts, self.ends, self.sets, self.courts, self.cases, self.serials)
        return sum(int(c.nbytes) for c in columns)

    def rows(self, key: int) -> range:
        lo = int(np.searchsorted(self.keys, key, side="left"))
        hi = int(np.searchsorted(self.keys, key, side="right"))
        return range(lo, hi)

    def listed(self, key: int) -> tuple[Listed, ...]:
        found = []
        for i in self.rows(key):
            list_id, measures = self.set_values[self.sets[i]]
            found.append(
                Listed(
                    starts=int(self.starts[i]),
                    ends=int(self.ends[i]),
                    measures=measures,
                    list_id=list_id,
                    court=self.court_values[self.courts[i]],
                    case_number=join_case(self.case_values[self.cases[i]], int(self.serials[i])),
                )
            )
        return tuple(found)


def _narrow(values: list[int], count: int) -> npt.NDArray[np.unsignedinteger[Any]]:
    """Codes in the smallest unsigned type that holds ``count`` distinct values."""
    kind = np.uint8 if count <= 1 << 8 else np.uint16 if count <= 1 << 16 else np.uint32
    return np.asarray(values, dtype=kind)


def build_arrays(people: Iterable[tuple[int, Listed]]) -> Arrays:
    """The columns of ``people``: (key, listing) pairs in key order, each key's listings in order."""
    sets, courts, cases = Interner(), Interner(), Interner()
    keys: list[int] = []
    starts: list[int] = []
    ends: list[int] = []
    set_codes: list[int] = []
    court_codes: list[int] = []
    case_codes: list[int] = []
    serials: list[int] = []
    for key, listed in people:
        keys.append(key)
        starts.append(listed.starts)
        ends.append(listed.ends)
        set_codes.append(sets.code((listed.list_id, listed.measures)))
        court_codes.append(courts.code(listed.court))
        pattern, serial = split_case(listed.case_number, cases)
        case_codes.append(pattern)
        serials.append(serial)
    key_array = np.asarray(keys, dtype=np.int64)
    if key_array.size and np.any(np.diff(key_array) < 0):
        raise ValueError("the index's people must come in key order")
    return Arrays(
        keys=key_array,
        starts=np.asarray(starts, dtype=np.int32),
        ends=np.asarray(ends, dtype=np.int32),
        sets=_narrow(set_codes, len(sets.values)),
        courts=_narrow(court_codes, len(courts.values)),
        cases=_narrow(case_codes, len(cases.values)),
        serials=np.asarray(serials, dtype=np.uint32),
        people=int(np.count_nonzero(np.diff(key_array))) + 1 if key_array.size else 0,
        set_values=tuple(sets.values),
        court_values=tuple(courts.values),
        case_values=tuple(cases.values),
    )


@dataclass(frozen=True, slots=True)
class Snapshot:
    """One consistent state of the index: the arrays, the organisations, the exemptions of both,
    and the overlay of subjects changed since (read first). Replaced whole, never changed."""

    people: Arrays
    organisations: Mapping[str, tuple[Listed, ...]]
    exempted: Mapping[str, Mapping[tuple[str, str | None, int], str | None]]
    overlay: Mapping[str, Held]
    seq: int  # the newest journal entry applied
    built_at: float  # time.monotonic() of the arrays' load
    # the keys of the people in the overlay or with an exemption, sorted: what a manifest must
    # look at besides the arrays
    loose: npt.NDArray[np.int64] = field(init=False)

    def __post_init__(self) -> None:
        people = {person_key(n) for n in (*self.overlay, *self.exempted) if keyed(n)}
        object.__setattr__(self, "loose", np.asarray(sorted(people), dtype=np.int64))

    def held(self, number: str) -> Held:
        """What the index holds of the subject of ``number`` (canonical)."""
        found = self.overlay.get(number)
        if found is not None:
            return found
        listed = self.people.listed(person_key(number)) if keyed(number) else self.organisations.get(number, ())
        exempted = self.exempted.get(number)
        if not listed and exempted is None:
            return NOTHING
        return Held(listed, exempted or {})

    @property
    def subjects(self) -> int:
        """Restricted or noticed subjects held (the overlay counted as it stands)."""
        return self.people.people + len(self.organisations) + sum(1 for held in self.overlay.values() if held.listed)


def in_force(held: Held, measures: Sequence[Measure], action: str, day: int) -> list[dict[str, Any]]:
    """``held``'s active measures for ``action`` on the day (an ordinal), as ``check.decide``
    reads them: one per measure a listing in force carries."""
    wanted = {(m.id, action) for m in measures}
    found: list[dict[str, Any]] = []
    for listed in held.listed:
        if not (listed.starts <= day < listed.ends):
            continue
        for measure_id, _ in sorted(wanted & listed.measures):
            exemption = held.exempted.get((action, listed.case_number, day))
            found.append(
                {
                    "measure_id": measure_id,
                    "effect": Effect.RESTRICT.value,  # check.decide reads a measure's effect from the catalogue
                    "court": listed.court,
                    "case_number": listed.case_number,
                    "list_id": listed.list_id,
                    "listing_id": None,
                    "exemption": exemption,
                }
            )
    return found


class Index:
    """The lookups a gate process answers from, over the snapshot it holds."""

    def __init__(self, snapshot: Snapshot, *, measures: tuple[Measure, ...] | None = None) -> None:
        self.snapshot = snapshot
        self.measures = measures  # the catalogue a request falls under (default: the shipped one)

    def __call__(self, id_number: str, action: str, attributes: dict[str, Any], *, at: datetime) -> Decision:
        """The decision for ``id_number`` (exact) on the legal day of ``at``, from what the
        registry knows now (the library ``check(..., known_at=now)``)."""
        _, under = applicable(action, attributes, measures=self.measures)
        number = parse_subject(id_number, field="subject").number
        held = self.snapshot.held(number) if under else NOTHING
        found = in_force(held, under, action, legal_date(at).toordinal()) if held is not NOTHING else []
        return decide(action, under, found)


# loading ----------------------------------------------------------------------------------------


def _listed_rows(conn: Connection, subjects: Sequence[uuid.UUID] | None) -> Iterator[tuple[str, Listed]]:
    """(number, listing) for the restrictions and notices of ``subjects`` (everyone if
    None), in number order and each number's listings oldest first: one row per subject and
    listing, its measures gathered by the store (a listing carries a dozen measures, and
    fetching a row costs more than anything done with it)."""
    a, s = ActiveMeasure.__table__.c, Subject.__table__.c
    head = (s.id_number, a.list_id, a.valid_from, a.valid_to, a.court, a.case_number)
    query = (
        select(*head, aggregate_strings(a.measure_id + UNIT + a.action, RECORD).label("measures"))
        .join(Subject.__table__, s.id == a.subject_id)
        .where(a.effect.in_(GATED))
        .group_by(*head, a.listing_start, a.listing_id)
        .order_by(s.id_number, a.listing_start, a.list_id, a.listing_id)
    )
    for number, list_id, valid_from, valid_to, court, case, measures in _scoped(conn, query, a.subject_id, subjects):
        ends = OPEN if valid_to is None else _ordinal(valid_to)
        yield number, Listed(_ordinal(valid_from), ends, _pairs(measures), list_id, court, case)


def _scoped(
    conn: Connection, query: Select[Any], column: ColumnElement[Any], subjects: Sequence[uuid.UUID] | None
) -> Iterator[Any]:
    """The rows of ``query`` for everyone (``subjects`` None), or for ``subjects`` in chunks the
    store takes as bind parameters (``bulk.matching``)."""
    if subjects is None:
        yield from conn.execute(query)
        return
    for condition in bulk.matching(column, subjects, conn):
        yield from conn.execute(query.where(condition))


@lru_cache(maxsize=4096)
def _pairs(gathered: str) -> frozenset[tuple[str, str]]:
    """The (measure, action) pairs of one listing, from the store's aggregate (a few distinct)."""
    return frozenset(tuple(pair.split(UNIT, 1)) for pair in gathered.split(RECORD))  # type: ignore[misc]


def _ordinal(day: date | datetime) -> int:
    return day.toordinal()


def _exemptions(
    conn: Connection, subjects: Sequence[uuid.UUID] | None
) -> dict[str, dict[tuple[str, str | None, int], str | None]]:
    """number -> (action, case, day) -> the least reason, of the current exemptions."""
    e, s = Exemption.__table__.c, Subject.__table__.c
    query = select(s.id_number, e.action, e.case_number, e.day, e.reason).join(Subject.__table__, s.id == e.subject_id)
    found: dict[str, dict[tuple[str, str | None, int], str | None]] = defaultdict(dict)
    for number, action, case, day, reason in _scoped(conn, query, e.subject_id, subjects):
        key = (action, case, _ordinal(day))
        before = found[number].get(key)
        # the store's lookup takes MIN(reason), which passes over NULL
        found[number][key] = reason if before is None else before if reason is None else min(before, reason)
    return dict(found)


def load(conn: Connection) -> Snapshot:
    """The whole index from the store. The journal's number is read first: a change that lands
    while the rows are read is applied again by the first follow, which is harmless."""
    seq = changes.newest(conn)
    people: list[tuple[int, Listed]] = []
    organisations: dict[str, list[Listed]] = defaultdict(list)
    for number, listed in _listed_rows(conn, None):
        if keyed(number):
            people.append((person_key(number), listed))
        else:
            organisations[number].append(listed)
    people.sort(key=lambda pair: pair[0])  # stable: each person's listings keep their order
    return Snapshot(
        people=build_arrays(people),
        organisations={number: tuple(found) for number, found in organisations.items()},
        exempted=_exemptions(conn, None),
        overlay={},
        seq=seq,
        built_at=time.monotonic(),
    )


def changed(conn: Connection, subjects: frozenset[uuid.UUID]) -> dict[str, Held]:
    """What the index should hold now for each of ``subjects`` (by number)."""
    scope = sorted(subjects)
    s = Subject.__table__.c
    numbers = {row.id: row.id_number for row in _scoped(conn, select(s.id, s.id_number), s.id, scope)}
    listed: dict[str, list[Listed]] = defaultdict(list)
    for number, entry in _listed_rows(conn, scope):
        listed[number].append(entry)
    exempted = _exemptions(conn, scope)
    return {
        number: Held(tuple(listed.get(number, ())), exempted.get(number, {}))
        for number in numbers.values()
        if number is not None
    }


@dataclass
class Follower:
    """Keeps an ``Index`` current in a background thread: every ``poll`` seconds it reads the
    journal entries after the snapshot's, re-reads the subjects they name into the overlay, and
    reloads the whole index when an entry says everyone or the overlay outgrows ``rebuild_at``.

    Polling, not PostgreSQL's LISTEN/NOTIFY: the same journal and the same code on SQLite and
    PostgreSQL, and a notification lost while a connection was down would need the journal to
    recover from anyway. A poll is one primary-key range query."""

    engine: Engine
    index: Index
    poll: float = 0.2
    rebuild_at: int = 50_000
    polled_at: float = field(default_factory=time.monotonic)
    # called after every poll that left the index current (the gate publishes its metrics here)
    on_current: Callable[[Snapshot], None] | None = None
    _ticker: Ticker | None = None

    def start(self) -> None:
        self._ticker = Ticker(self.follow, every=self.poll, name="index")
        self._ticker.start()

    def close(self) -> None:
        if self._ticker is not None:
            self._ticker.close()

    def follow(self) -> int:
        """Apply the journal once; returns how many entries were applied."""
        applied = self._apply()
        self.polled_at = time.monotonic()
        if self.on_current is not None:
            self.on_current(self.index.snapshot)
        return applied

    def _apply(self) -> int:
        snapshot = self.index.snapshot
        with self.engine.connect() as conn:
            entries = changes.since(conn, snapshot.seq)
            if not entries:
                return 0
            subjects: set[uuid.UUID] = set()
            for entry in entries:
                if entry.subjects is None:
                    break
                subjects |= entry.subjects
            else:
                if len(snapshot.overlay) + len(subjects) <= self.rebuild_at:
                    overlay = {**snapshot.overlay, **changed(conn, frozenset(subjects))}
                    self.index.snapshot = replace(snapshot, overlay=overlay, seq=entries[-1].seq)
                    return len(entries)
            self.index.snapshot = load(conn)
            log.info("index.reloaded", seq=self.index.snapshot.seq, subjects=self.index.snapshot.subjects)
            return len(entries)

    @property
    def age(self) -> float:
        """Seconds since the index last knew it was current."""
        return time.monotonic() - self.polled_at


def open_index(
    engine: Engine, *, poll: float, on_current: Callable[[Snapshot], None] | None = None
) -> tuple[Index, Follower]:
    """Load the index from ``engine``'s store and start following the journal."""
    with engine.connect() as conn:
        index = Index(load(conn))
    follower = Follower(engine, index, poll=poll, on_current=on_current)
    if on_current is not None:
        on_current(index.snapshot)
    follower.start()
    return index, follower
