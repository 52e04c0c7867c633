"""Write event-log entries; the subject (an internal id, never an ID number) is always named."""

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Connection, insert

from credence.store.orm import Event


class Tag(StrEnum):
    RECORD_ACCEPTED = "record.accepted"
    RECORD_QUARANTINED = "record.quarantined"
    RECORD_REPLAYED = "record.replayed"
    LISTING_START = "listing.start"
    LISTING_END = "listing.end"
    RULEBOOK_LOADED = "rulebook.loaded"


@dataclass(frozen=True, slots=True)
class Entry:
    tag: Tag
    subject_id: uuid.UUID | None
    actor: str
    data: dict[str, Any]


def record(conn: Connection, entries: Iterable[Entry], *, now: datetime) -> int:
    """Append entries in the caller's transaction; returns how many were written."""
    rows = [
        {
            "tag": e.tag.value,
            "subject_id": e.subject_id,
            "actor": e.actor,
            "data": e.data,
            "recorded_at": now,
        }
        for e in entries
    ]
    if rows:
        conn.execute(insert(Event), rows)
    return len(rows)
