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

from sqlalchemy import Connection

from credence import audit
from credence.audit import Entry, EventTag
from credence.lists import effect, notices
from credence.lists.measures import Effect, Measure, default_measures
from credence.model.ids import derived_id
from credence.rules.schema import TakesEffect
from credence.store import versioned
from credence.store.orm import ActiveMeasure, ActiveMeasureHistory, Listing, ScoreInterval

Row = dict[str, Any]


def _row(measure: Measure, through: Row, *, subject: Any, listed: Any, listing: Row | None = None) -> Row:
    """One active measure: ``measure`` over the days of ``through`` (a listing, over the days its
    measures apply, or a score interval)."""
    starts, ends = ("effect_from", "effect_to") if listing is not None else ("valid_from", "valid_to")
    return {
        "id": derived_id("measure", measure.id, through["id"]),
        "subject_id": subject,
        "measure_id": measure.id,
        "action": measure.action,
        "effect": measure.effect.value,
        "valid_from": through[starts],
        "valid_to": through[ends],
        "listed_subject_id": listed,
        "listing_id": listing["id"] if listing else None,
        "list_id": listing["list_id"] if listing else None,
        "listing_start": listing["start_date"] if listing else None,
        "court": listing["court"] if listing else None,
        "case_number": listing["case_number"] if listing else None,
        "legal_basis": measure.legal_basis,
    }


def through_listings(listings: Iterable[Row], measures: Sequence[Measure]) -> list[Row]:
    """The active-measure rows ``listings`` (rows of ``listings`` with the days their measures
    apply, ``lists.effect.windows``) carry under ``measures``."""
    return [
        _row(measure, entry, subject=entry["subject_id"], listed=entry["listed_subject_id"], listing=entry)
        for entry in listings
        for measure in measures
        if measure.effect is not Effect.REWARD and entry["list_id"] in measure.lists
    ]


def through_grades(intervals: Iterable[Row], measures: Sequence[Measure]) -> list[Row]:
    """The reward rows ``intervals`` (rows of ``score_intervals``) earn under ``measures``: a
    reward holds over each interval whose grade the measure names for that scheme."""
    return [
        _row(measure, interval, subject=interval["subject_id"], listed=interval["subject_id"])
        for interval in intervals
        for measure in measures
        if measure.effect is Effect.REWARD and interval["grade"] in measure.grades.get(interval["scheme"], frozenset())
    ]


def _day(value: Any) -> str | None:
    return None if value is None else str(value)


def events(changes: Sequence[versioned.Change]) -> list[Entry]:
    """The log's entries for changed measure rows, in the order of their derived ids (which two
    registries fed the same records share): ``measure.applied`` for a row as it now holds (new,
    or its days moved; an end is its lifting), ``measure.lifted`` for one that no longer holds."""
    entries = []
    for change in sorted(changes, key=lambda c: str((c.new or c.old or {})["id"])):
        if change.new is not None:
            row = change.new
            data = {
                "measure_row": str(row["id"]),
                "measure": row["measure_id"],
                "action": row["action"],
                "effect": row["effect"],
                "from": _day(row["valid_from"]),
                "to": _day(row["valid_to"]),
                "listing_id": _day(row["listing_id"]),
            }
            entries.append(Entry(tag=EventTag.MEASURE_APPLIED, subject=row["subject_id"], actor="rules", data=data))
        elif change.old is not None:
            row = change.old
            data = {"measure_row": str(row["id"]), "measure": row["measure_id"], "action": row["action"]}
            entries.append(Entry(tag=EventTag.MEASURE_LIFTED, subject=row["subject_id"], actor="rules", data=data))
    return entries


def refresh(
    conn: Connection,
    *,
    now: datetime,
    scope: Sequence[uuid.UUID] | None,
    waits: dict[effect.RuleKey, TakesEffect] | None = None,
    measures: Sequence[Measure] | None = None,
) -> set[uuid.UUID]:
    """Re-derive the active measures of ``scope`` (by listed subject; everyone if None) from the
    current listings and score intervals, the measures of the lists in ``waits`` from the day
    their subject was told and a period ran (``lists.effect``); returns the subjects whose rows
    changed (a person bound by an organisation's listing is one of them when the organisation
    is in scope)."""
    where, graded = versioned.among("listed_subject_id", scope), versioned.among("subject_id", scope)
    catalogue = measures if measures is not None else default_measures()
    listed = effect.windows(conn, versioned.current(conn, Listing, where).values(), waits or {})
    rows = through_listings(listed, catalogue)
    if any(m.effect is Effect.REWARD for m in catalogue):
        rows += through_grades(versioned.current(conn, ScoreInterval, graded).values(), catalogue)
    changes = versioned.replace(conn, ActiveMeasure, ActiveMeasureHistory, rows, where=where, now=now)
    audit.record_many(conn, events(changes), now=now)
    notices.measures(conn, changes, catalogue, now=now)
    return {row["subject_id"] for change in changes for row in (change.old, change.new) if row is not None}
