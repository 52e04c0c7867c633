"""A subject's whole file, as their portal shows it and their download gives it: each scheme's
score with its breakdown, listings and their measures, notices with their delivery, who checked
them at the gate, their disputes with each step, their credit-repair applications and the records
a rulebook lets them apply to repair (and from which day). Read through the rooms' own functions,
the ones ``credence explain``, ``notices list``, ``inquiries``, ``disputes list`` and ``repairs
list`` use."""

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection

from credence import resolve
from credence.disputes import repairs as applications
from credence.disputes import rows as disputes
from credence.disputes.repairs import Application
from credence.disputes.rows import Filed
from credence.dueprocess import repairs
from credence.dueprocess.explanations import Explanation, explain
from credence.model.time import legal_date
from credence.outbox import claims
from credence.rules.loader import shipped_schemes
from credence.screening import inquiries

NOTICES, INQUIRIES, DISPUTES, REPAIRS = 500, 1000, 100, 100


def gather(conn: Connection, subject: uuid.UUID, *, now: datetime) -> dict[str, Any]:  # Any: JSON
    """Everything the registry holds and derives about ``subject``, as known at ``now``."""
    today = legal_date(now)
    found = explain(conn, shipped_schemes(), subject, as_of=today, known_at=now)
    number = resolve.number_of(conn, subject)
    asked = inquiries.about(conn, number, limit=INQUIRIES) if number else []
    filed = applications.listed(conn, subject=subject, limit=REPAIRS)
    conditions = repairs.conditions(conn, filed)
    return {
        "as_of": today.isoformat(),
        "known_at": now.isoformat(),
        "schemes": [s.as_dict() for s in found.schemes],
        "listings": [listing.as_dict() for listing in found.listings],
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
        "repairs": [repair(a, conditions[a.id]) for a in filed],
        "repairable": repairable(found, filed, today),
    }


def repair(a: Application, conditions: list[str]) -> dict[str, Any]:  # Any: JSON
    """A credit-repair application and its steps, oldest first (each a step key and a day)."""
    steps = [{"step": "filed", "at": a.filed_at.isoformat()}]
    if a.decided_at is not None:
        steps.append({"step": a.state, "at": a.decided_at.isoformat()})
    else:
        steps.append({"step": "waiting", "at": a.respond_by.isoformat()})
    return {
        "id": str(a.id),
        "receipt": a.receipt,
        "record_id": str(a.record),
        "agency": a.source,
        "kind": a.kind,
        "scheme": a.scheme,
        "rule": a.rule,
        "conditions": conditions,
        "filed_at": a.filed_at.isoformat(),
        "respond_by": a.respond_by.isoformat(),
        "state": a.state,
        "decided_at": a.decided_at.isoformat() if a.decided_at else None,
        "note": a.note,
        "repair_record_id": str(a.repair_record) if a.repair_record else None,
        "steps": steps,
    }


def repairable(found: Explanation, filed: list[Application], today: date) -> list[dict[str, Any]]:  # Any: JSON
    """Each record counting today that a rulebook lets the subject apply to repair: under which
    rule and conditions, from which day, and the open application if there is one."""
    schemes = shipped_schemes()
    pending = {(a.source, a.source_record_id): a.receipt for a in filed if a.state == applications.OPEN}
    offers: dict[tuple[str, str], dict[str, Any]] = {}
    for scheme in found.schemes:
        for line in scheme.lines:
            key = (line.source, line.source_record_id)
            if key in offers:
                continue
            rule = repairs.offered(schemes, line.kind, date.fromisoformat(line.valid_date), today)
            if rule is None:
                continue
            offers[key] = {
                "record_id": line.record_id,
                "kind": line.kind,
                "valid_date": line.valid_date,
                "source": line.source,
                "scheme": rule.scheme,
                "rule": rule.rule.id,
                "rule_title": rule.rule.title,
                "conditions": rule.conditions,
                "from_day": rule.from_day.isoformat(),
                "open_now": rule.from_day <= today,
                "pending_receipt": pending.get(key),
            }
    return list(offers.values())


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
