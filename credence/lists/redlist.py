"""Redlists: subjects whose grade under a city scheme is one of its top grades.

A redlist entry has no deciding authority: it follows the score. It starts on the day a rescore
first finds the subject in a redlist grade and ends on the day one finds them out of it; both
are logged. The score that qualified the entry stands where a blacklist entry names its decision
record (``decision_record_id``), so an explanation leads from the entry to the records behind it.
Unlike a blacklist entry, its start is the day the registry saw the grade, not a date recomputed
from records: a rebuild keeps open entries as they are.
"""

import uuid
from collections.abc import Sequence
from datetime import date, datetime

from sqlalchemy import Connection, select, update

from credence import audit
from credence.audit import Entry, EventTag
from credence.lists.rows import COLUMNS, ListingRow, listing
from credence.rules.loader import Scheme
from credence.store import bulk
from credence.store.orm import Listing, Score

END_REASON = "grade_below_redlist"


def refresh(
    conn: Connection,
    schemes: dict[str, Scheme],
    *,
    as_of: date,
    now: datetime,
    scope: Sequence[uuid.UUID] | None = None,
) -> tuple[int, int]:
    """Start and end redlist entries from the stored scores of ``scope``; returns (started, ended)."""
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
            scores = select(Score.subject_id, Score.id).where(
                Score.scheme == name, Score.grade.in_(redlist.grades), Score.as_of == as_of
            )
            if scope is not None:
                scores = scores.where(Score.subject_id.in_(list(scope)))
            qualified = dict(conn.execute(scores).all())
        open_entries = select(Listing.id, Listing.subject_id, Listing.list_id).where(
            Listing.list_id.in_(redlists), Listing.end_date.is_(None)
        )
        if scope is not None:
            open_entries = open_entries.where(Listing.subject_id.in_(list(scope)))
        holding = {}
        for row in conn.execute(open_entries):
            if redlist is not None and row.list_id == redlist.id and row.subject_id in qualified:
                holding[row.subject_id] = row.id
                continue
            conn.execute(update(Listing).where(Listing.id == row.id).values(end_date=as_of, end_reason=END_REASON))
            entries.append(
                Entry(
                    tag=EventTag.LISTING_END,
                    subject=row.subject_id,
                    actor="rules",
                    data={"listing_id": str(row.id), "list": row.list_id, "end": str(as_of), "reason": END_REASON},
                )
            )
            ended += 1
        if current is None or redlist is None:
            continue
        new: list[ListingRow] = [
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
        bulk.insert_rows(conn, Listing, COLUMNS, [row.as_values() for row in new])
        entries.extend(
            Entry(
                tag=EventTag.LISTING_START,
                subject=row.subject_id,
                actor="rules",
                data={"listing_id": str(row.id), "list": redlist.id, "role": "subject", "start": str(as_of)},
            )
            for row in new
        )
        started += len(new)
    audit.record_many(conn, entries, now=now)
    return started, ended
