"""One pass over the webhook calls owed to providers: claim, POST each (signed), settle. As
with notices, the claim and the settlement are short transactions and the calls go between
them; a worker killed in between lets the lease run out, and the call goes again with the same
Idempotency-Key, which the provider uses to drop the repeat.

Each call is a JSON POST with ``Idempotency-Key`` (the call's id), ``X-Credence-Timestamp``
(seconds since the epoch) and ``X-Credence-Signature: sha256=<hex>``, the HMAC-SHA256 of
``timestamp.body`` under the provider's secret (``outbox.hooks.secret``): a receiver recomputes
it, and refuses an old timestamp, so a call can be neither forged nor replayed later.
"""

import json
from collections.abc import Callable
from datetime import datetime, timedelta

import httpx
from sqlalchemy import Engine

from credence import logs
from credence.outbox import hooks
from credence.outbox.claims import Retry
from credence.outbox.hooks import Answer, Call

log = logs.get_logger(__name__)
TIMEOUT = httpx.Timeout(10.0, connect=5.0)


class Caller:
    """Signs and sends calls over one kept HTTP client."""

    def __init__(self, key: bytes) -> None:
        self._key = key
        self._client = httpx.Client(timeout=TIMEOUT)

    def send(self, call: Call, *, now: datetime) -> Answer:
        body = json.dumps(call.payload, ensure_ascii=False, sort_keys=True).encode()
        stamp = str(int(now.timestamp()))
        headers = {
            "Content-Type": "application/json",
            "Idempotency-Key": str(call.id),
            "X-Credence-Timestamp": stamp,
            "X-Credence-Signature": hooks.signature(hooks.secret(self._key, call.name), stamp, body),
        }
        try:
            reply = self._client.post(call.url, content=body, headers=headers)
        except httpx.HTTPError as error:
            return Answer(call, None, error=f"http {type(error).__name__}")
        return Answer(call, reply.status_code, reply=reply.text)

    def close(self) -> None:
        self._client.close()


def deliver(
    engine: Engine,
    caller: Caller,
    *,
    owner: str,
    clock: Callable[[], datetime],
    lease: timedelta,
    limit: int,
    retry: Retry,
) -> int:
    """Make up to ``limit`` due calls; returns how many the providers acknowledged."""
    with engine.begin() as conn:
        claimed = hooks.claim(conn, owner=owner, now=clock(), lease=lease, limit=limit)
    if not claimed:
        return 0
    answers = [caller.send(call, now=clock()) for call in claimed]
    with engine.begin() as conn:
        hooks.settle(conn, answers, owner=owner, now=clock(), retry=retry)
    for answer in answers:
        if not answer.ok:
            log.info("provider_call.retry", call=str(answer.call.id), status=answer.status, error=answer.error)
    return sum(a.ok for a in answers)
