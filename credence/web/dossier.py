"""A subject's whole file, as their portal shows it and their download gives it: each scheme's
score with its breakdown, listings and their measures, notices with their delivery, who checked
them at the gate, and their disputes with each step. Read through the rooms' own functions, the
ones ``credence explain``, ``notices list``, ``inquiries`` and ``disputes list`` use."""

import uuid
from dataclasses import asdict
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection

from credence import resolve
from credence.disputes import rows as disputes
from credence.disputes.rows import Filed
from credence.dueprocess.explanations import explain
from credence.model.time import legal_date
from credence.outbox import claims
from credence.rules.loader import shipped_schemes
from credence.screening import inquiries

NOTICES, INQUIRIES, DISPUTES = 500, 1000, 100


def gather(conn: Connection, subject: uuid.UUID, *, now: datetime) -> dict[str, Any]:  # Any: JSON
    """Everything the registry holds and derives about ``subject``, as known at ``now``."""
    today = legal_date(now)
    found = explain(conn, shipped_schemes(), subject, as_of=today, known_at=now)
    number = resolve.number_of(conn, subject)
    asked = inquiries.about(conn, number, limit=INQUIRIES) if number else []
    return {
        "as_of": today.isoformat(),
        "known_at": now.isoformat(),
        "schemes": [asdict(s) for s in found.schemes],
        "listings": [asdict(listing) for listing in found.listings],
        "notices": [
            {
                "id": str(n.id),
                "kind": n.kind,
                "created_at": n.created_at.isoformat(),
                "respond_by": n.respond_by.isoformat() if n.respond_by else None,
                "state": n.state,
                "attempts": n.attempts,
                "delivered_at": n.delivered_at.isoformat() if n.delivered_at else None,
                "channels": list(n.channels),
            }
            for n in claims.told(conn, subject, limit=NOTICES)
        ],
        "inquiries": [
            {
                "asked_at": a.asked_at.isoformat(),
                "provider": a.provider,
                "action": a.action,
                "attributes": a.attributes,
                "decision": a.decision,
                "reference": a.reference,
                "at": a.at.isoformat(),
            }
            for a in asked
        ],
        "disputes": [dispute(d, today) for d in disputes.listed(conn, subject=subject, limit=DISPUTES)],
    }


def dispute(d: Filed, today: date) -> dict[str, Any]:  # Any: JSON
    """A dispute and the steps it has been through, oldest first (each a step key and a day)."""
    lapsed = d.lapsed(today)
    steps: list[dict[str, str]] = [{"step": "filed", "at": d.filed_at.isoformat()}]
    if d.suspends:
        steps.append({"step": "suspended", "at": d.filed_at.date().isoformat()})
    if d.decided_at is not None:
        steps.append({"step": d.state, "at": d.decided_at.isoformat()})
    elif lapsed:
        steps.append({"step": "lapsed", "at": d.respond_by.isoformat()})
    else:
        steps.append({"step": "waiting", "at": d.respond_by.isoformat()})
    return {
        "id": str(d.id),
        "receipt": d.receipt,
        "record_id": str(d.record),
        "agency": d.source,
        "kind": d.kind,
        "filed_at": d.filed_at.isoformat(),
        "respond_by": d.respond_by.isoformat(),
        "suspends": d.suspends,
        "state": "lapsed" if lapsed else d.state,
        "note": d.note,
        "correction_record_id": str(d.correction) if d.correction else None,
        "steps": steps,
    }
