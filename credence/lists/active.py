"""Active measures: which measure applies to whom, for which action, over which days, and why.

Written in the transaction that refreshes listings, from the current listings, the score
intervals and the measure catalogue, so that the point of service reads one indexed table and
runs no rule. A restriction or a notice applies through a listing, from its start to its end
(NULL: until further notice), to the listed subject and to each person the decision binds; a
reward applies over each score interval in a grade the measure names.
"""

import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, Table

from credence.lists.measures import Effect, Measure, default_measures
from credence.model.ids import derived_id
from credence.store import versioned
from credence.store.orm import ActiveMeasure, ActiveMeasureHistory, Listing, ScoreInterval

Row = dict[str, Any]


def through_listings(listings: Iterable[Row], measures: Sequence[Measure]) -> list[Row]:
    """The active-measure rows ``listings`` (rows of ``listings``) carry under ``measures``."""
    rows = []
    for entry in listings:
        for measure in measures:
            if measure.effect is Effect.REWARD or entry["list_id"] not in measure.lists:
                continue
            rows.append(
                {
                    "id": derived_id("measure", measure.id, entry["id"]),
                    "subject_id": entry["subject_id"],
                    "measure_id": measure.id,
                    "action": measure.action,
                    "effect": measure.effect.value,
                    "valid_from": entry["start_date"],
                    "valid_to": entry["end_date"],
                    "listed_subject_id": entry["listed_subject_id"],
                    "listing_id": entry["id"],
                    "list_id": entry["list_id"],
                    "listing_start": entry["start_date"],
                    "court": entry["court"],
                    "case_number": entry["case_number"],
                    "legal_basis": measure.legal_basis,
                }
            )
    return rows


def through_grades(intervals: Iterable[Row], measures: Sequence[Measure]) -> list[Row]:
    """The reward rows ``intervals`` (rows of ``score_intervals``) earn under ``measures``: a
    reward holds over each interval whose grade the measure names for that scheme."""
    rows = []
    for interval in intervals:
        for measure in measures:
            if measure.effect is not Effect.REWARD or interval["grade"] not in measure.grades.get(
                interval["scheme"], ()
            ):
                continue
            rows.append(
                {
                    "id": derived_id("measure", measure.id, interval["id"]),
                    "subject_id": interval["subject_id"],
                    "measure_id": measure.id,
                    "action": measure.action,
                    "effect": measure.effect.value,
                    "valid_from": interval["valid_from"],
                    "valid_to": interval["valid_to"],
                    "listed_subject_id": interval["subject_id"],
                    "listing_id": None,
                    "list_id": None,
                    "listing_start": None,
                    "court": None,
                    "case_number": None,
                    "legal_basis": measure.legal_basis,
                }
            )
    return rows


def refresh(
    conn: Connection,
    *,
    now: datetime,
    scope: Sequence[uuid.UUID] | None,
    measures: Sequence[Measure] | None = None,
) -> int:
    """Re-derive the active measures of ``scope`` (by listed subject; everyone if None) from the
    current listings and score intervals; returns how many rows changed."""

    def where(table: Table) -> list[ColumnElement[bool]]:
        return [] if scope is None else [table.c.listed_subject_id.in_(list(scope))]

    def graded(table: Table) -> list[ColumnElement[bool]]:
        return [] if scope is None else [table.c.subject_id.in_(list(scope))]

    catalogue = measures if measures is not None else default_measures()
    rows = through_listings(versioned.current(conn, Listing, where).values(), catalogue)
    if any(m.effect is Effect.REWARD for m in catalogue):
        rows += through_grades(versioned.current(conn, ScoreInterval, graded).values(), catalogue)
    return len(versioned.replace(conn, ActiveMeasure, ActiveMeasureHistory, rows, where=where, now=now))
