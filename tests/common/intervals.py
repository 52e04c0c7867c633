"""Run score intervals and point scores on the store and on the DuckDB snapshot, and check the
intervals against the point query day by day (the contract of ``credence.rules.intervals``)."""

import itertools
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import Connection, text

from credence.batch import duckdb as batch
from credence.model.catalogue import default_catalogue
from credence.model.ids import as_uuid
from credence.pipeline import scoring
from credence.rules.compile import facts_sql, score_query
from credence.rules.intervals import score_intervals_query
from credence.rules.loader import Scheme
from credence.rules.targets import Dialect, Target
from credence.store.db import dialect_of
from tests.common.calendar import add_years

Scores = dict[uuid.UUID, tuple[int, str | None]]


@dataclass(frozen=True, slots=True)
class Interval:
    subject_id: uuid.UUID
    valid_from: date
    valid_to: date | None
    score: int
    grade: str | None
    rulebook_version: str

    def holds(self, day: date) -> bool:
        return self.valid_from <= day and (self.valid_to is None or day < self.valid_to)


def _day(value: object) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value))


def _intervals(rows: Iterable[Sequence[object]], key: Callable[[object], uuid.UUID]) -> list[Interval]:
    return [
        Interval(
            key(s), _day(a), None if b is None else _day(b), int(str(score)), None if g is None else str(g), str(v)
        )
        for s, a, b, score, g, v in rows
    ]


def store_intervals(
    conn: Connection,
    scheme: Scheme,
    *,
    known_at: datetime,
    scope: Sequence[uuid.UUID] | None = None,
    exclude: Sequence[uuid.UUID] = (),
) -> list[Interval]:
    target = Target(Dialect(dialect_of(conn.engine)))
    query = score_intervals_query(scheme, target, scope=scope, exclude=exclude)
    if query is None:
        return []
    facts = facts_sql(target, default_catalogue(), known_at=known_at, scope=scope)
    return _intervals(conn.execute(text(query.sql(facts))).all(), as_uuid)


def store_points(
    conn: Connection,
    scheme: Scheme,
    *,
    known_at: datetime,
    scope: Sequence[uuid.UUID] | None = None,
    exclude: Sequence[uuid.UUID] = (),
) -> Callable[[date], Scores]:
    def point(day: date) -> Scores:
        return scoring.compute(conn, scheme, as_of=day, known_at=known_at, scope=scope, exclude=exclude)

    return point


def duck_intervals(snap: batch.Snapshot, scheme: Scheme) -> list[Interval]:
    query = score_intervals_query(scheme, Target(Dialect.DUCKDB))
    if query is None:
        return []
    ids = [as_uuid(uid) for uid in snap.subject_ids()]
    return _intervals(batch.run(snap, query.sql()), lambda k: ids[int(str(k)) - 1])


def duck_points(snap: batch.Snapshot, scheme: Scheme) -> Callable[[date], Scores]:
    ids = [as_uuid(uid) for uid in snap.subject_ids()]

    def point(day: date) -> Scores:
        query = score_query(scheme, Target(Dialect.DUCKDB), as_of=day)
        if query is None:
            return {}
        return {ids[key - 1]: (int(score), grade) for key, score, grade in batch.run(snap, query.sql())}

    return point


def check_shape(intervals: list[Interval]) -> None:
    """Per subject: each interval non-empty, none overlapping, the open one last, and two that
    touch never say the same thing (maximal)."""
    by_subject: dict[uuid.UUID, list[Interval]] = defaultdict(list)
    for row in intervals:
        by_subject[row.subject_id].append(row)
    for rows in by_subject.values():
        rows.sort(key=lambda r: r.valid_from)
        for row in rows:
            assert row.valid_to is None or row.valid_from < row.valid_to, row
        for before, after in itertools.pairwise(rows):
            assert before.valid_to is not None, f"an open interval is not the last: {before}"
            assert before.valid_to <= after.valid_from, f"overlap: {before} {after}"
            if before.valid_to == after.valid_from:
                same = (before.score, before.grade, before.rulebook_version)
                assert same != (after.score, after.grade, after.rulebook_version), f"not maximal: {before} {after}"


def days_that_matter(intervals: list[Interval], record_days: Iterable[date], scheme: Scheme) -> set[date]:
    """Each record's valid date and the days its expiry or a residence minimum can fall on, each
    interval bound and edition start, and the day before each of those."""
    spans = {0, *(e.book.coverage.residence_min_days for e in scheme.editions if e.book.coverage)}
    days: set[date] = set()
    for day in record_days:
        days |= {day + timedelta(days=n) for n in spans}
        days |= {add_years(day, years) for years in (1, 2, 3)}  # the shipped expiries
    days |= {row.valid_from for row in intervals} | {row.valid_to for row in intervals if row.valid_to}
    days |= {e.book.effective_from for e in scheme.editions}
    return days | {d - timedelta(days=1) for d in days}


def check_contract(
    intervals: list[Interval], point: Callable[[date], Scores], days: Iterable[date], scheme: Scheme
) -> int:
    """For each day, the intervals holding it are exactly the point query's rows, under the
    edition in force; returns the number of days checked."""
    checked = 0
    for day in sorted(days):
        holding = [row for row in intervals if row.holds(day)]
        got = {row.subject_id: (row.score, row.grade) for row in holding}
        assert len(got) == len(holding), f"two intervals of one subject hold {day}"
        assert got == point(day), f"on {day}"
        current = scheme.in_force(day)
        for row in holding:
            assert current is not None, f"no edition on {day}"
            assert row.rulebook_version == current.book.version, f"edition on {day}"
        checked += 1
    return checked
