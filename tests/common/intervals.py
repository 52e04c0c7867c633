"""Run score intervals and point scores on the store and on the DuckDB snapshot, and check the
intervals against the point query day by day (the contract of ``credence.rules.intervals``)."""

import itertools
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection

from credence.batch import duckdb as batch
from credence.batch import evaluate
from credence.batch.store import StoreBackend
from credence.rules.loader import Scheme
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


def _intervals(rows: Iterable[dict[str, Any]]) -> list[Interval]:
    return [
        Interval(
            r["subject_id"], r["valid_from"], r["valid_to"], int(r["score"]), r["grade"], str(r["rulebook_version"])
        )
        for r in rows
    ]


def store_intervals(
    conn: Connection,
    scheme: Scheme,
    *,
    known_at: datetime,
    scope: Sequence[uuid.UUID] | None = None,
    exclude: Sequence[uuid.UUID] = (),
) -> list[Interval]:
    backend = StoreBackend(conn, known_at=known_at, scope=scope)
    return _intervals(evaluate.score_intervals(backend, scheme, exclude=exclude))


def store_points(
    conn: Connection,
    scheme: Scheme,
    *,
    known_at: datetime,
    scope: Sequence[uuid.UUID] | None = None,
    exclude: Sequence[uuid.UUID] = (),
) -> Callable[[date], Scores]:
    backend = StoreBackend(conn, known_at=known_at, scope=scope)

    def point(day: date) -> Scores:
        return evaluate.scores(backend, scheme, as_of=day, exclude=exclude)

    return point


def duck_intervals(snap: batch.Snapshot, scheme: Scheme) -> list[Interval]:
    return _intervals(evaluate.score_intervals(snap, scheme))


def duck_points(snap: batch.Snapshot, scheme: Scheme) -> Callable[[date], Scores]:
    def point(day: date) -> Scores:
        return evaluate.scores(snap, scheme, as_of=day)

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
