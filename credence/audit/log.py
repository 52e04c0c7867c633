"""Write event-log entries; the subject (an internal id, never an ID number) is always named."""

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Connection

from credence.store import bulk
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
    """Append entries in the caller's transaction, in their order; returns how many were written."""
    rows = [(e.tag.value, e.subject_id, e.actor, e.data, now) for e in entries]
    return bulk.insert_rows(conn, Event, ("tag", "subject_id", "actor", "data", "recorded_at"), rows)
