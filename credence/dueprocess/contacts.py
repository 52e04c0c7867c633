"""Where a subject can be reached: the newest contact record that gives each channel.

Contact details are records like any other (kind ``contact``: household registration in the
police feed, later the subject's own portal), so every address a notice goes to has a source, a
date and a record id, which the delivery attempt keeps. A retracted contact record gives nothing.
"""

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, select

from credence.store.db import stored_instant
from credence.store.orm import Record

KIND = "contact"


@dataclass(frozen=True, slots=True)
class Address:
    value: str  # an E.164 phone number or a normalised email address: personal data, never logged
    record: uuid.UUID  # the contact record it comes from


@dataclass(frozen=True, slots=True)
class Reach:
    email: Address | None = None
    sms: Address | None = None

    def channels(self) -> dict[str, Address]:
        return {name: a for name, a in (("email", self.email), ("sms", self.sms)) if a is not None}


def reach(conn: Connection, subjects: Iterable[uuid.UUID], *, known_at: datetime) -> dict[uuid.UUID, Reach]:
    """Each subject's addresses as the registry knew them at ``known_at``: per channel, from the
    contact record with the latest valid date (then the latest recorded) that gives one."""
    wanted = list(set(subjects))
    if not wanted:
        return {}
    rows = conn.execute(
        select(
            Record.id,
            Record.subject_id,
            Record.source_id,
            Record.source_record_id,
            Record.version,
            Record.op,
            Record.valid_date,
            Record.recorded_at,
            Record.attributes,
        )
        .where(Record.kind == KIND, Record.subject_id.in_(wanted), Record.recorded_at <= known_at)
        .order_by(Record.version)
    )
    newest: dict[tuple[str, str], Any] = {}
    for row in rows:  # by version: the last one seen of each record is its newest
        newest[(row.source_id, row.source_record_id)] = row
    best: dict[uuid.UUID, dict[str, tuple[tuple[date, datetime], Address]]] = {}
    for row in newest.values():
        if row.op == "retract":
            continue
        rank = (row.valid_date, stored_instant(row.recorded_at))
        held = best.setdefault(row.subject_id, {})
        for channel, attribute in (("email", "email"), ("sms", "phone")):
            value = row.attributes.get(attribute)
            if value and (channel not in held or rank > held[channel][0]):
                held[channel] = (rank, Address(str(value), row.id))
    return {
        subject: Reach(
            email=held["email"][1] if "email" in held else None,
            sms=held["sms"][1] if "sms" in held else None,
        )
        for subject, held in best.items()
    }
