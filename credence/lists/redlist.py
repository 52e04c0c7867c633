"""Redlists: subjects whose grade under a city scheme is one of its top grades.

A redlist entry has no deciding authority: it follows the score. It starts on the day a rescore
first finds the subject in a redlist grade and ends on the day one finds them out of it; both
are logged. The score interval that qualified the entry stands where a blacklist entry names its decision
record (``decision_record_id``), so an explanation leads from the entry to the records behind it.
Unlike a blacklist entry, its start is the day the registry saw the grade, not a date recomputed
from records: a rebuild keeps open entries as they are.
"""

import uuid
from collections.abc import Sequence
from datetime import date, datetime

from sqlalchemy import Connection, select

from credence import audit
from credence.audit import Entry, EventTag
from credence.lists.rows import ListingRow, listing
from credence.rules.loader import Scheme
from credence.store import versioned
from credence.store.orm import Listing, ListingHistory, ScoreInterval

END_REASON = "grade_below_redlist"


def refresh(
    conn: Connection,
    schemes: dict[str, Scheme],
    *,
    as_of: date,
    now: datetime,
    scope: Sequence[uuid.UUID] | None = None,
) -> tuple[int, int]:
    """Start and end redlist entries from the stored scores of ``scope``; returns (started, ended).

    Entries are versions like every listing (``store.versioned``): ending one writes its new
    version with the end date, and the open version is superseded."""
    entries: list[Entry] = []
    started = ended = 0
    for name, scheme in schemes.items():
        current = scheme.in_force(as_of)
        redlists = {e.book.redlist.id for e in scheme.editions if e.book.redlist}
        if not redlists:
            continue
        redlist = current.book.redlist if current else None
        qualified: dict[uuid.UUID, uuid.UUID] = {}
        if current is not None and redlist is not None:
            scores = select(ScoreInterval.subject_id, ScoreInterval.id).where(
                ScoreInterval.scheme == name, ScoreInterval.grade.in_(redlist.grades), ScoreInterval.holds(as_of)
            )
            if scope is not None:
                scores = scores.where(ScoreInterval.subject_id.in_(list(scope)))
            qualified = dict(conn.execute(scores).all())

        where = versioned.among("subject_id", scope, list_id=redlists)
        old = versioned.current(conn, Listing, where)
        rows = [dict(row) for row in old.values()]  # copies: ``old`` is what they are compared with
        holding = set()
        for row in rows:
            if row["end_date"] is not None:
                continue
            if redlist is not None and row["list_id"] == redlist.id and row["subject_id"] in qualified:
                holding.add(row["subject_id"])
                continue
            row.update(end_date=as_of, end_reason=END_REASON)
            data = {"listing_id": str(row["id"]), "list": row["list_id"], "end": str(as_of), "reason": END_REASON}
            entries.append(Entry(tag=EventTag.LISTING_END, subject=row["subject_id"], actor="rules", data=data))
            ended += 1
        new: list[ListingRow] = []
        if current is not None and redlist is not None:
            new = [
                listing(
                    list_id=redlist.id,
                    rulebook=name,
                    rulebook_version=current.book.version,
                    subject=subject,
                    role="subject",
                    listed=subject,
                    decision=score_id,
                    occasion=as_of,  # not the score: a later rescore in the same grade keeps the entry
                    start_date=as_of,
                    legal_basis=redlist.legal_basis,
                )
                for subject, score_id in qualified.items()
                if subject not in holding
            ]
        values = rows + [row.as_dict() for row in new]
        versioned.replace(conn, Listing, ListingHistory, values, where=where, now=now, old=old)
        entries.extend(
            Entry(
                tag=EventTag.LISTING_START,
                subject=row.subject_id,
                actor="rules",
                data={"listing_id": str(row.id), "list": redlist.id, "role": "subject", "start": str(as_of)},
            )
            for row in new
            if redlist is not None
        )
        started += len(new)
    audit.record_many(conn, entries, now=now)
    return started, ended
