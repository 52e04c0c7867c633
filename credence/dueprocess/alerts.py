"""Alerts to the registry's auditors (DESIGN P7; issue 10, part 7): a circuit breaker that trips
(a source's adverse load held for review: a stolen key, a runaway export) and an officer's manual
action refused (an insider trying) are mailed to every live auditor, by ``credence worker``.

The events are the outbox: an alert is an event of an alerted tag recorded after the auditor's
account was made, and ``staff_alerts`` says which auditor was sent which. A mail is recorded
after it leaves, so an alert is sent at least once; its Message-ID is derived from the event and
the auditor, so a repeat (two workers, a crash between send and record) is the same message to
the receiver. A mail says what happened in counts and internal ids, never a subject's data.
"""

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, and_, select

from credence import logs
from credence.audit.tags import EventTag
from credence.dueprocess.channels import DeliveryError, Mail
from credence.dueprocess.render import Rendered
from credence.model.ids import derived_id
from credence.model.roles import Role
from credence.store import bulk
from credence.store.orm import Event, Officer, StaffAlert

log = logs.get_logger(__name__)

ALERTED = (EventTag.BREAKER_TRIPPED, EventTag.MANUAL_DENIED)  # as in the index ix_events_alerts
BATCH = 100


@dataclass(frozen=True, slots=True)
class Due:
    seq: int
    tag: str
    data: dict[str, Any]
    recorded_at: datetime
    officer: uuid.UUID
    email: str


def due(conn: Connection, *, limit: int = BATCH) -> list[Due]:
    """Alerts not yet sent: each alerted event since an auditor's account was made, for each live
    auditor who has not been sent it, oldest first."""
    query = (
        select(Event.seq, Event.tag, Event.data, Event.recorded_at, Officer.id, Officer.email)
        .join(
            Officer,
            and_(
                Officer.role == Role.AUDITOR.value,
                Officer.revoked_at.is_(None),
                Event.recorded_at >= Officer.created_at,
            ),
        )
        .outerjoin(StaffAlert, and_(StaffAlert.event_seq == Event.seq, StaffAlert.officer_id == Officer.id))
        .where(Event.tag.in_([t.value for t in ALERTED]), StaffAlert.event_seq.is_(None))
        .order_by(Event.seq, Officer.id)
        .limit(limit)
    )
    return [Due(r.seq, r.tag, dict(r.data), r.recorded_at, r.id, r.email) for r in conn.execute(query)]


@dataclass(frozen=True, slots=True)
class Alerted:
    seq: int
    tag: str
    recorded_at: datetime
    data: dict[str, Any]


def recent(conn: Connection, *, limit: int = BATCH) -> list[Alerted]:
    """The newest alerted events (what auditors are mailed), newest first: counts and internal
    ids only, as the log holds them."""
    query = (
        select(Event.seq, Event.tag, Event.recorded_at, Event.data)
        .where(Event.tag.in_([t.value for t in ALERTED]))
        .order_by(Event.seq.desc())
        .limit(limit)
    )
    return [Alerted(r.seq, r.tag, r.recorded_at, dict(r.data)) for r in conn.execute(query)]


def render(alert: Due) -> Rendered:
    """The mail: what happened and what to do, in Chinese and English; counts and ids only."""
    data = alert.data
    if alert.tag == EventTag.BREAKER_TRIPPED:
        source, hold, threshold = data.get("source"), data.get("hold"), data.get("threshold")
        subject = f"熔断：{source} 的不利记录已暂停处理 / Circuit breaker: {source}'s adverse records held"
        text = (
            f"来源 {source} 的不利记录超过已公布的阈值（{threshold}），已暂停处理，未生效（暂停单 {hold}）。\n"
            f"请核查后放行或拒绝：credence held list；credence held release|reject {source}。\n\n"
            f"Source {source} crossed its published {threshold} threshold: its adverse records are "
            f"held for review, not applied (hold {hold}).\n"
            f"Review them, then release or reject: credence held list; credence held release|reject {source}.\n\n"
            f"counts: {_counts(data)}\nevent seq {alert.seq}, {alert.recorded_at:%Y-%m-%d %H:%M:%S} UTC\n"
        )
    else:
        officer, agency, why = data.get("officer"), data.get("agency"), data.get("why")
        subject = f"拒绝：{agency} 官员的人工操作 / Refused: a manual action by an officer of {agency}"
        text = (
            f"{agency} 的官员（内部编号 {officer}）的人工操作被拒绝（{why}），未生效。\n\n"
            f"An officer of {agency} (internal id {officer}) was refused a manual action ({why}); "
            f"nothing was applied. Action: {data.get('action') or 'a new request'}.\n\n"
            f"event seq {alert.seq}, {alert.recorded_at:%Y-%m-%d %H:%M:%S} UTC\n"
        )
    return Rendered(subject=subject, text=text, sms="")


def _counts(data: dict[str, Any]) -> str:
    shown = {k: v for k, v in data.items() if k not in ("source", "hold", "threshold", "file") and isinstance(v, int)}
    return ", ".join(f"{k} {v:,}" for k, v in sorted(shown.items())) or "none"


def send(engine: Engine, mail: Mail | None, *, now: datetime, limit: int = BATCH) -> int:
    """Mail the alerts due (none without a mail channel); how many left."""
    if mail is None:
        return 0
    with engine.connect() as conn:
        found = due(conn, limit=limit)
    sent: list[tuple[Any, ...]] = []
    for alert in found:
        message = derived_id("staff-alert", alert.seq, alert.officer)
        try:
            mail.transmit(mail.compose(message, alert.email, render(alert)))
        except DeliveryError as error:  # tried again at the next pass
            log.warning("alert.failed", seq=alert.seq, officer=str(alert.officer), error=str(error))
            continue
        sent.append((alert.seq, alert.officer, now))
    if sent:
        with engine.begin() as conn:
            bulk.insert_rows(conn, StaffAlert, ("event_seq", "officer_id", "sent_at"), sent, skip_existing=True)
        log.info("alert.sent", alerts=len(sent))
    return len(sent)
