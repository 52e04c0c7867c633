"""What the compiled rules say, evaluated on any backend: scores, score lines, list decisions.

The one place that compiles a rulebook for a backend's target and runs it there. Scoring,
listing derivation, explanations, the point of service and the full rebuild all call these;
none of them builds SQL or touches an engine itself.
"""

import uuid
from collections.abc import Sequence
from datetime import date, datetime

from credence.batch.backend import Backend, Row
from credence.rules.compile import exemptions_query, items_query, listing_query, score_query, without_each_query
from credence.rules.intervals import score_intervals_query
from credence.rules.loader import LoadedRulebook, Scheme

Scores = dict[uuid.UUID, tuple[int, str | None]]


def scores(backend: Backend, scheme: Scheme, *, as_of: date, exclude: Sequence[uuid.UUID] = ()) -> Scores:
    """Score and grade of each subject ``scheme`` covers on ``as_of``; ``exclude`` leaves records
    out (an explanation's counterfactual)."""
    query = score_query(scheme, backend.target, as_of=as_of, scope=backend.scope, exclude=exclude)
    if query is None:
        return {}
    return {row["subject_id"]: (int(row["score"]), row["grade"]) for row in backend.rows(query)}


def without_each(backend: Backend, scheme: Scheme, *, as_of: date) -> dict[uuid.UUID, int]:
    """For each record counting on ``as_of``, its subject's score without it (one statement)."""
    query = without_each_query(scheme, backend.target, as_of=as_of, scope=backend.scope)
    if query is None:
        return {}
    return {row["record_id"]: int(row["score"]) for row in backend.rows(query, records=("record_id",))}


def lines(backend: Backend, scheme: Scheme, *, as_of: date) -> list[Row]:
    """Each counting record's attributed points on ``as_of``, in the order they count."""
    query = items_query(scheme, backend.target, as_of=as_of, scope=backend.scope)
    if query is None:
        return []
    return backend.rows(query, records=("record_id",))


def decisions(backend: Backend, edition: LoadedRulebook, index: int, *, window: tuple[date, date | None]) -> list[Row]:
    """The listings list rule ``index`` of ``edition`` decides within ``window``: the decision
    record, the listed subject, start, end and the bound roles' ID numbers."""
    query = listing_query(edition, index, backend.target, window=window, scope=backend.scope)
    return _dated(backend.rows(query, records=("record_id",)), "start_date", "end_date")


def exemptions(backend: Backend) -> list[Row]:
    """The deciding courts' one-off exemptions: record, subject, case, action, day and reason."""
    return _dated(backend.rows(exemptions_query(), records=("record_id",)), "day")


def score_intervals(backend: Backend, scheme: Scheme, *, exclude: Sequence[uuid.UUID] = ()) -> list[Row]:
    """Each covered subject's score, grade and edition over intervals of valid time
    (``valid_from``, ``valid_to`` NULL for "until further notice"), as dates on every engine."""
    query = score_intervals_query(scheme, backend.target, scope=backend.scope, exclude=exclude)
    if query is None:
        return []
    return _dated(backend.rows(query), "valid_from", "valid_to")


def _dated(rows: list[Row], *columns: str) -> list[Row]:
    """``rows`` with ``columns`` as dates, however the engine handed them back."""
    for row in rows:
        for column in columns:
            row[column] = _day(row[column])
    return rows


def _day(value: object) -> date | None:
    """A date as every engine hands it back (SQLite: text; DuckDB may give a timestamp)."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value))
