"""The notices a refresh of listings and measures owes the subjects it changed: a listing
decided (its start), a listing's end appearing or moving, and the measures that apply or lift,
one notice per subject and direction for a refresh's measures. Written in the refresh's
transaction, from the rows as they are written."""

import uuid
from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from credence import outbox
from credence.lists.effect import RuleKey
from credence.lists.measures import Measure
from credence.outbox import Notice, NoticeKind
from credence.outbox import facts as common
from credence.rules.schema import TakesEffect
from credence.store.versioned import Change

Row = dict[str, Any]


def _day(value: Any) -> str | None:
    return None if value is None else str(value)


def listings(
    conn: Connection, changes: Sequence[Change], *, now: datetime, waits: Mapping[RuleKey, TakesEffect]
) -> int:
    """A notice per listing that started, and per listing whose end appeared or moved; a start
    notice of a list in ``waits`` says how long its measures wait."""
    owed: list[tuple[NoticeKind, Row]] = []
    for change in changes:
        row = change.new
        if row is None:
            continue
        if change.old is None:
            owed.append((NoticeKind.LISTING_START, row))
        before = change.old["end_date"] if change.old is not None else None
        if row["end_date"] is not None and before != row["end_date"]:
            owed.append((NoticeKind.LISTING_END, row))
    decisions = common.records(conn, [row["decision_record_id"] for _, row in owed])
    notices = []
    for kind, row in owed:
        decision = decisions.get(row["decision_record_id"], common.NO_RECORD)
        facts = {
            **decision,
            "listing_id": str(row["id"]),
            "list": row["list_id"],
            "rulebook": row["rulebook"],
            "rulebook_version": row["rulebook_version"],
            "legal_basis": row["legal_basis"],
            "role": row["role"],
            "ground": row["ground"],
            "case_number": row["case_number"],
            "court": row["court"],
            "start": _day(row["start_date"]),
            "end": _day(row["end_date"]),
            "reason": row["end_reason"],
        }
        rule = waits.get((row["rulebook"], row["rulebook_version"], row["list_id"]))
        if kind is NoticeKind.LISTING_START and rule is not None:
            facts["waits"] = _waits(rule)
        opens = kind is NoticeKind.LISTING_START and decision["record_id"] is not None
        notices.append(
            Notice(
                subject=row["subject_id"],
                kind=kind,
                facts=facts,
                respond_by=common.respond_by(now) if opens else None,
                about=row["id"],
            )
        )
    outbox.enqueue(conn, notices, now=now)
    return len(notices)


def _waits(rule: TakesEffect) -> Row:
    period = rule.period
    return {
        "after_notice": rule.after_notice,
        "unreachable": rule.unreachable,
        "days": period.days if period else 0,
        "months": period.months if period else 0,
        "working_days": period.working_days if period else 0,
    }


def measures(conn: Connection, changes: Sequence[Change], catalogue: Sequence[Measure], *, now: datetime) -> int:
    """One notice per subject for the measures that now apply to them, and one for those lifted
    (gone, or given an end)."""
    titles = {m.id: m.title for m in catalogue}
    applied: dict[uuid.UUID, list[Row]] = defaultdict(list)
    lifted: dict[uuid.UUID, list[Row]] = defaultdict(list)
    for change in changes:
        old, new = change.old, change.new
        if old is None and new is not None:
            applied[new["subject_id"]].append(_measure(new, titles))
        elif new is None and old is not None:
            lifted[old["subject_id"]].append({**_measure(old, titles), "to": None})
        elif old is not None and new is not None and new["valid_to"] is not None and new["valid_to"] != old["valid_to"]:
            lifted[new["subject_id"]].append(_measure(new, titles))
    notices = [
        Notice(subject=subject, kind=kind, facts={"measures": rows})
        for kind, owed in ((NoticeKind.MEASURE_APPLIED, applied), (NoticeKind.MEASURE_LIFTED, lifted))
        for subject, rows in owed.items()
    ]
    outbox.enqueue(conn, notices, now=now)
    return len(notices)


def _measure(row: Row, titles: dict[str, str]) -> Row:
    return {
        "measure_id": row["measure_id"],
        "title": titles.get(row["measure_id"], row["measure_id"]),
        "action": row["action"],
        "effect": row["effect"],
        "from": _day(row["valid_from"]),
        "to": _day(row["valid_to"]),
        "legal_basis": row["legal_basis"],
        "list": row["list_id"],
        "court": row["court"],
        "case_number": row["case_number"],
    }
