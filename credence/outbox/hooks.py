"""Webhook calls owed to service providers: written in the transaction of the correction they
tell of, claimed by lease and settled like notices (``outbox.claims``), signed with a secret the
registry derives per provider from ``CREDENCE_WEBHOOK_KEY`` (so no secret is stored).

A correction is owed to every provider the gate's inquiry log shows was told ``restricted``
about the subject for an action a measure of the corrected record's listings restricts. The call
carries the references of those answers and what to do (ask again), never a number or a name:
the provider holds the number it asked about.
"""

import hashlib
import hmac
import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, delete, insert, select, union_all, update

from credence.outbox import leases
from credence.outbox.claims import Retry
from credence.store.db import stored_instant
from credence.store.orm import Inquiry, Provider, ProviderCall, ProviderHook, StagedInquiry

PENDING, DELIVERED, FAILED = "pending", "delivered", "failed"
RECORD_CORRECTED = "record_corrected"


def secret(key: bytes, provider: str) -> bytes:
    """The signing secret of the provider named ``provider`` (all its keys, old and new), derived
    from the registry's key: shown to the provider when its webhook is registered, never stored."""
    return hmac.new(key, b"credence-webhook:" + provider.encode(), hashlib.sha256).digest()


def signature(secret: bytes, timestamp: str, body: bytes) -> str:
    """``sha256=<hex>`` over ``timestamp.body``: what the receiver recomputes to trust a call."""
    return "sha256=" + hmac.new(secret, timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def register(conn: Connection, providers: Sequence[uuid.UUID], url: str, *, now: datetime) -> None:
    """Point the webhook of each key of one provider at ``url``."""
    conn.execute(delete(ProviderHook).where(ProviderHook.provider_id.in_(list(providers))))
    conn.execute(insert(ProviderHook), [{"provider_id": p, "url": url, "created_at": now} for p in providers])


def owe_correction(
    conn: Connection,
    *,
    number: str,
    actions: Iterable[str],
    correction: uuid.UUID,
    now: datetime,
) -> int:
    """A call to each provider with a webhook that was told ``restricted`` about ``number`` for
    one of ``actions``; returns how many calls were written."""
    wanted = sorted(set(actions))
    if not wanted:
        return 0
    key = hashlib.sha256(number.encode("ascii")).hexdigest()
    asked = union_all(
        *(
            select(m.provider_id, m.reference, m.action, m.asked_at).where(
                m.number_sha256 == key, m.decision == "restricted", m.action.in_(wanted)
            )
            for m in (Inquiry, StagedInquiry)
        )
    ).subquery()
    rows = conn.execute(
        select(asked.c.provider_id, asked.c.reference, asked.c.action, asked.c.asked_at).join(
            ProviderHook, ProviderHook.provider_id == asked.c.provider_id
        )
    )
    told: dict[uuid.UUID, list[dict[str, Any]]] = defaultdict(list)
    for provider, reference, action, asked_at in rows:
        told[provider].append({"reference": reference, "action": action, "asked_at": stored_instant(asked_at)})
    calls = []
    for provider, answers in told.items():
        answers.sort(key=lambda a: a["asked_at"])
        payload = {
            "type": RECORD_CORRECTED,
            "corrected_at": now.isoformat(),
            "correction": str(correction),
            "answers": [{**a, "asked_at": a["asked_at"].isoformat()} for a in answers],
            "advice": "a record behind these restricted answers was corrected: check the person again",
        }
        calls.append(
            {
                "id": uuid.uuid4(),
                "provider_id": provider,
                "kind": RECORD_CORRECTED,
                "payload": payload,
                "created_at": now,
                "state": PENDING,
                "attempts": 0,
                "next_at": now,
            }
        )
    if calls:
        conn.execute(insert(ProviderCall), calls)
    return len(calls)


@dataclass(frozen=True, slots=True)
class Call:
    id: uuid.UUID
    provider: uuid.UUID
    name: str  # the provider's name: its secret is derived from it
    url: str
    kind: str
    payload: dict[str, Any]
    attempts: int


@dataclass(frozen=True, slots=True)
class Answer:
    call: Call
    status: int | None  # None: no reply (the connection failed)
    reply: str = ""
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


def claim(conn: Connection, *, owner: str, now: datetime, lease: timedelta, limit: int) -> list[Call]:
    """Lease up to ``limit`` due calls to ``owner``, as ``claims.claim`` does for notices."""
    taken = leases.take(conn, ProviderCall, ProviderCall.id, owner=owner, now=now, lease=lease, limit=limit)
    if not taken:
        return []
    rows = conn.execute(
        select(ProviderCall, ProviderHook.url, Provider.name)
        .join(ProviderHook, ProviderHook.provider_id == ProviderCall.provider_id)
        .join(Provider, Provider.id == ProviderCall.provider_id)
        .where(ProviderCall.id.in_(list(taken)))
    )
    return [Call(r.id, r.provider_id, r.name, r.url, r.kind, r.payload, r.attempts) for r in rows]


def settle(conn: Connection, answers: Sequence[Answer], *, owner: str, now: datetime, retry: Retry) -> None:
    """Record each provider's answer: delivered on a 2xx (its reply kept as the
    acknowledgement), else due again after the backoff, failed after the limit."""
    for answer in answers:
        tries = answer.call.attempts + 1
        values: dict[str, Any] = {
            "lease_owner": None,
            "lease_until": None,
            "attempts": tries,
            "status": answer.status,
            "ack": answer.reply[:500] or None,
        }
        if answer.ok:
            values |= {"state": DELIVERED, "delivered_at": now, "error": None}
        else:
            values |= {
                "state": FAILED if tries >= retry.limit else PENDING,
                "next_at": now + retry.delay(tries),
                "error": (answer.error or f"http {answer.status}")[:200],
            }
        conn.execute(
            update(ProviderCall)
            .where(ProviderCall.id == answer.call.id, ProviderCall.lease_owner == owner)
            .values(**values)
        )


@dataclass(frozen=True, slots=True)
class Made:
    id: uuid.UUID
    provider: uuid.UUID
    kind: str
    state: str
    attempts: int
    status: int | None
    ack: str | None
    delivered_at: datetime | None


def calls(conn: Connection, *, provider: uuid.UUID | None = None) -> list[Made]:
    """The calls owed or made, oldest first (to one provider, or to all)."""
    query = select(ProviderCall).order_by(ProviderCall.created_at, ProviderCall.id)
    if provider is not None:
        query = query.where(ProviderCall.provider_id == provider)
    return [
        Made(
            r.id,
            r.provider_id,
            r.kind,
            r.state,
            r.attempts,
            r.status,
            r.ack,
            stored_instant(r.delivered_at) if r.delivered_at else None,
        )
        for r in conn.execute(query)
    ]
