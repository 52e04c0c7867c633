"""Facts every notice about a record states, shared by the rooms that write notices: the record,
its source agency (named in both languages) and the last day to dispute it."""

import uuid
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, select

from credence.store.orm import Record
from credence.store.registry import source_names

# the default time to dispute a record (issue 9; a rulebook may set its own, as the court's
# 15-day correction review does, once disputes read it)
DISPUTE_DAYS = 30


def respond_by(now: datetime) -> date:
    return now.date() + timedelta(days=DISPUTE_DAYS)


def source(source_id: str | None) -> dict[str, Any]:
    zh, en = source_names().get(source_id or "", (source_id, source_id))
    return {"source": source_id, "source_name": zh, "source_name_en": en}


def record(
    *, record_id: uuid.UUID | None, source_id: str | None, source_record_id: str | None, valid_date: date | None
) -> dict[str, Any]:
    return {
        "record_id": str(record_id) if record_id else None,
        "source_record_id": source_record_id,
        "valid_date": valid_date.isoformat() if valid_date else None,
        **source(source_id),
    }


def records(conn: Connection, ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, dict[str, Any]]:
    """``record`` facts for each id that is a stored record (a redlist entry's occasion is not)."""
    wanted = list(set(ids))
    if not wanted:
        return {}
    rows = conn.execute(
        select(Record.id, Record.source_id, Record.source_record_id, Record.valid_date).where(Record.id.in_(wanted))
    )
    return {
        r.id: record(
            record_id=r.id, source_id=r.source_id, source_record_id=r.source_record_id, valid_date=r.valid_date
        )
        for r in rows
    }


NO_RECORD = record(record_id=None, source_id=None, source_record_id=None, valid_date=None)
