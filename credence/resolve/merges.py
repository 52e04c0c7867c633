"""Two subjects found to be one person, and found again not to be: merges and splits.

A person may reach the registry under two ID numbers: a number reissued (a corrected birth date,
a duplicate number withdrawn by the police) or a legacy number the registry could not upgrade
to its successor. An officer merges the two: the absorbed subject's standing records are moved
to the kept subject as their next versions (``ingest.restate``), so both are rescored and the
kept subject's score, listings and measures count everything. A split, later, moves back the
records the merge moved. Each is an append-only ``subject_merges`` row (who, when, the ground,
the reason, the records moved), the newest of a pair counts, on the model of nomenklatura's
resolver; and a ``subject.merged`` or ``subject.split`` event with internal ids only (the reason
stays in the row: it may name the person). Everything runs in the caller's transaction.
"""

import uuid
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Connection, insert, or_, select

from credence import audit
from credence.audit import EventTag
from credence.exc import CredenceError, FieldError, NotFoundError
from credence.store.orm import Subject, SubjectMerge

MAX_OFFICER = 64
MAX_REASON = 500


class Ground(StrEnum):
    REISSUED = "reissued"  # the person's number was reissued: the old and the new name one person
    LEGACY = "legacy"  # a legacy 15-digit number and its 18-digit successor
    DUPLICATE = "duplicate"  # one person registered twice by mistake


@dataclass(frozen=True, slots=True)
class Merge:
    id: int
    judgement: str  # merge | split
    kept: uuid.UUID
    absorbed: uuid.UUID
    ground: Ground
    moved: list[tuple[str, str]]  # (source, source record id)
    by: str
    at: datetime
    note: str


def _checked(by: str, reason: str) -> tuple[str, str]:
    by, reason = by.strip(), reason.strip()
    if not by or len(by) > MAX_OFFICER:
        raise CredenceError(f"--by: expected the officer's name, 1 to {MAX_OFFICER} characters")
    if not reason or len(reason) > MAX_REASON:
        raise CredenceError(f"--reason: expected why, 1 to {MAX_REASON} characters")
    return by, reason


def _merge(row: Any) -> Merge:  # Any: a subject_merges row
    return Merge(
        row.id,
        row.judgement,
        row.kept_id,
        row.absorbed_id,
        Ground(row.ground),
        [(source, record) for source, record in row.moved],
        row.decided_by,
        row.created_at,
        row.note,
    )


def standing(conn: Connection, subject: uuid.UUID) -> Merge | None:
    """The merge ``subject`` is in now (kept or absorbed), None if none: the newest row of each
    pair counts, and a split ends the merge before it."""
    rows = conn.execute(
        select(SubjectMerge)
        .where(or_(SubjectMerge.kept_id == subject, SubjectMerge.absorbed_id == subject))
        .order_by(SubjectMerge.id)
    ).all()
    newest: dict[tuple[uuid.UUID, uuid.UUID], Any] = {}  # Any: a subject_merges row
    for row in rows:
        newest[(row.kept_id, row.absorbed_id)] = row
    found = [row for row in newest.values() if row.judgement == "merge"]
    return _merge(found[-1]) if found else None


def check_merge(conn: Connection, kept: uuid.UUID, absorbed: uuid.UUID, *, by: str, reason: str) -> None:
    """Refuse a merge that cannot be: the same subject, subjects of different kinds, or one
    already in a merge (split it first: a merge joins two subjects, never a chain)."""
    _checked(by, reason)
    if kept == absorbed:
        raise FieldError("absorbed", "the same subject as the kept one: nothing to merge")
    kinds = dict(conn.execute(select(Subject.id, Subject.kind).where(Subject.id.in_([kept, absorbed]))).all())
    if len(kinds) != 2:
        raise NotFoundError("subject: the registry holds no subject of this number")
    if kinds[kept] != kinds[absorbed]:
        raise FieldError("absorbed", "a person and an organisation are never one subject")
    for subject in (kept, absorbed):
        found = standing(conn, subject)
        if found is not None:
            raise CredenceError(f"a subject is in merge {found.id} already; split it first")


def merged(
    conn: Connection,
    kept: uuid.UUID,
    absorbed: uuid.UUID,
    *,
    ground: Ground,
    moved: list[tuple[str, str]],
    by: str,
    reason: str,
    now: datetime,
) -> Merge:
    """Record a merge (``check_merge`` first; the caller moves the records) and its event."""
    by, reason = _checked(by, reason)
    return _write(conn, "merge", kept, absorbed, ground=ground, moved=moved, by=by, reason=reason, now=now)


def check_split(conn: Connection, merge: int, *, by: str, reason: str) -> Merge:
    """The merge to split: it must exist and still stand (the newest row of its pair)."""
    _checked(by, reason)
    row = conn.execute(select(SubjectMerge).where(SubjectMerge.id == merge)).one_or_none()
    if row is None or row.judgement != "merge":
        raise NotFoundError(f"merge {merge}: no such merge (see `credence resolve merges SUBJECT`)")
    found = standing(conn, row.kept_id)
    if found is None or found.id != merge:
        raise CredenceError(f"merge {merge}: split already")
    return _merge(row)


def split(
    conn: Connection, merge: Merge, *, moved: list[tuple[str, str]], by: str, reason: str, now: datetime
) -> Merge:
    """Record a split of ``merge`` (the caller moved ``moved`` back) and its event."""
    by, reason = _checked(by, reason)
    return _write(
        conn, "split", merge.kept, merge.absorbed, ground=merge.ground, moved=moved, by=by, reason=reason, now=now
    )


def _write(
    conn: Connection,
    judgement: str,
    kept: uuid.UUID,
    absorbed: uuid.UUID,
    *,
    ground: Ground,
    moved: list[tuple[str, str]],
    by: str,
    reason: str,
    now: datetime,
) -> Merge:
    values = {
        "judgement": judgement,
        "kept_id": kept,
        "absorbed_id": absorbed,
        "ground": ground.value,
        "moved": [list(key) for key in moved],
        "decided_by": by,
        "note": reason,
        "created_at": now,
    }
    made = conn.execute(insert(SubjectMerge).values(**values).returning(SubjectMerge.id)).scalar_one()
    tag = EventTag.SUBJECT_MERGED if judgement == "merge" else EventTag.SUBJECT_SPLIT
    data = {"merge": made, "kept": str(kept), "absorbed": str(absorbed), "ground": ground.value, "moved": len(moved)}
    for subject in (kept, absorbed):
        audit.record(conn, tag=tag, subject=subject, actor=f"officer:{by}", data=data, now=now)
    return Merge(made, judgement, kept, absorbed, ground, moved, by, now, reason)


def history(conn: Connection, subject: uuid.UUID) -> list[Merge]:
    """Every merge and split ``subject`` was in, oldest first."""
    rows = conn.execute(
        select(SubjectMerge)
        .where(or_(SubjectMerge.kept_id == subject, SubjectMerge.absorbed_id == subject))
        .order_by(SubjectMerge.id)
    ).all()
    return [_merge(row) for row in rows]
