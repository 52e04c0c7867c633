"""Redlists: subjects whose grade under a city scheme is one of its top grades, over valid time.

A redlist entry has no deciding authority: it follows the stored score intervals, as a blacklist
listing follows its decision records, and is a pure function of them. For each scheme with a
redlist, each maximal run of a subject's contiguous score intervals (one's ``valid_to`` is the
next one's ``valid_from``) whose grade is a redlist grade of the edition the interval was scored
under (its ``rulebook_version``) is one entry: it starts on the run's first day and ends on the
run's last ``valid_to``, the first day out of the grade (open while the last interval is). So the
entry starts on the day the records put the subject in the grade, not on the day a refresh saw
it; an end that is already known (a bonus that expires on a known day) is on the entry at once,
with no job running on that day; and a rebuild writes exactly the entries the incremental path
wrote. Where two editions name different redlists, a run ends where the list changes.

The run's first score interval stands where a blacklist entry names its decision record
(``decision_record_id``), so an explanation leads from the entry to the interval and through it
to the records behind the grade. The id is ``lists.rows.listing``'s, with the run's first day as
the occasion: a later record that changes the score inside the run, but not its start, keeps the
entry's id and writes a new version of it.
"""

import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from credence.lists import derive
from credence.lists.rows import ListingRow, listing
from credence.rules.loader import Scheme
from credence.rules.schema import Redlist
from credence.store import versioned

END_REASON = "grade_below_redlist"
Row = dict[str, Any]  # a stored score interval, as ``pipeline.state.interval_row`` makes it


def ids(schemes: dict[str, Scheme]) -> set[str]:
    """The redlists any edition of ``schemes`` keeps."""
    return {e.book.redlist.id for scheme in schemes.values() for e in scheme.editions if e.book.redlist}


def entries(schemes: dict[str, Scheme], intervals: dict[str, list[Row]]) -> list[ListingRow]:
    """The redlist entries ``intervals`` (stored score intervals by scheme) give, one per run."""
    found: list[ListingRow] = []
    for name, scheme in schemes.items():
        redlist_of = {e.book.version: e.book.redlist for e in scheme.editions}
        if not any(redlist_of.values()):
            continue
        by_subject: dict[uuid.UUID, list[Row]] = {}
        for row in intervals.get(name, []):
            by_subject.setdefault(row["subject_id"], []).append(row)
        for subject, held in by_subject.items():
            found.extend(_entry(name, subject, run, redlist) for run, redlist in _runs(held, redlist_of))
    return found


def _runs(held: Iterable[Row], redlist_of: dict[str, Redlist | None]) -> list[tuple[list[Row], Redlist]]:
    """The maximal runs of contiguous intervals in a grade of one redlist, oldest first."""
    runs: list[tuple[list[Row], Redlist]] = []
    last: Row | None = None  # the interval before, if it was in a run
    for row in sorted(held, key=lambda r: r["valid_from"]):
        redlist = redlist_of.get(row["rulebook_version"])
        if redlist is None or row["grade"] not in redlist.grades:
            last = None
            continue
        if last is not None and last["valid_to"] == row["valid_from"] and runs[-1][1].id == redlist.id:
            runs[-1][0].append(row)
        else:  # the first day in the grade, after a gap in coverage, or on another edition's list
            runs.append(([row], redlist))
        last = row
    return runs


def _entry(scheme: str, subject: uuid.UUID, run: list[Row], redlist: Redlist) -> ListingRow:
    first, last = run[0], run[-1]
    return listing(
        list_id=redlist.id,
        rulebook=scheme,
        rulebook_version=first["rulebook_version"],
        subject=subject,
        role="subject",
        listed=subject,
        decision=first["id"],
        occasion=first["valid_from"],  # not the interval: a change inside the run keeps the entry
        start_date=first["valid_from"],
        legal_basis=redlist.legal_basis,
        end_date=last["valid_to"],
        end_reason=None if last["valid_to"] is None else END_REASON,
    )


def refresh(
    conn: Connection,
    schemes: dict[str, Scheme],
    rows: Sequence[ListingRow],
    *,
    now: datetime,
    scope: Sequence[uuid.UUID] | None = None,
) -> tuple[int, int]:
    """Make ``rows`` (``entries``) the current redlist entries of ``scope`` (everyone if None), as
    versions derived at ``now``, logging starts and ends as blacklist listings do: an end that is
    known, even a future one, is logged when it first appears or moves. Returns (started, ended)."""
    redlists = ids(schemes)
    if not redlists:
        return 0, 0
    where = versioned.among("subject_id", scope, list_id=redlists)
    return derive.store(conn, rows, where=where, now=now)
