"""The journalist's story, over HTTP where providers and the gate meet: an airline is refused a
listed man's ticket; he disputes the listing, the court upholds it and withdraws the decision;
the worker tells the airline by its webhook (HMAC-signed, retried, acknowledged) and the next
check is allowed. On SQLite and PostgreSQL."""

import hashlib
import hmac
import re
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from credence import resolve
from credence.dueprocess import disputes
from credence.dueprocess.delivery import Channels
from credence.dueprocess.disputes import Correction
from credence.dueprocess.hooks import Caller
from credence.outbox import hooks
from credence.outbox.claims import Retry
from credence.pipeline.worker import Plan, Totals, run
from credence.store.orm import Record
from tests.common.feeds import SCHEMES
from tests.common.gate import DEBTOR, add_provider, build, credence, serve
from tests.common.hooks import HookCatcher

KEY = "a registry webhook key for tests, not for use"
PDF = b"%PDF-1.4\n%%EOF\n"


def work(engine: Engine, *, at: datetime, retry: Retry | None = None) -> Totals:
    caller = Caller(KEY.encode())
    plan = Plan(
        poll=0.01, lease=timedelta(seconds=30), batch=50, schemes=SCHEMES, caller=caller, retry=retry or Retry()
    )
    try:
        return run(engine, Channels(), stop=threading.Event(), plan=plan, clock=lambda: at, once=True)
    finally:
        caller.close()


def webhook(engine: Engine, name: str, url: str, monkeypatch: pytest.MonkeyPatch) -> bytes:
    monkeypatch.setenv("CREDENCE_WEBHOOK_KEY", KEY)
    shown = credence(engine, "providers", "webhook", name, url).stdout
    found = re.search(r"signing secret, shown once: ([0-9a-f]{64})", shown)
    assert found, shown
    return bytes.fromhex(found.group(1))


def test_an_upheld_dispute_tells_the_airline_that_was_refused_and_the_next_check_is_allowed(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    build(engine, tmp_path)
    airline = add_provider(engine, "airline", "flight")
    railway = add_provider(engine, "railway", "rail_ticket")
    with HookCatcher(refuse=1) as told, HookCatcher() as rail_told:
        secret = webhook(engine, "airline", told.url, monkeypatch)
        webhook(engine, "railway", rail_told.url, monkeypatch)
        with serve(engine, tmp_path) as gate:
            refused = gate.post({"subject": DEBTOR, "action": "flight", "attributes": {}}, key=airline).json()
            ticket = {"train_type": "D", "seat_class": "second"}  # allowed even for a listed person
            gate.post({"subject": DEBTOR, "action": "rail_ticket", "attributes": ticket}, key=railway)
        assert refused["decision"] == "restricted"

        now = datetime.now(UTC)
        with engine.connect() as conn:
            subject = resolve.find(conn, DEBTOR)
            record = conn.execute(select(Record.id).where(Record.subject_id == subject)).scalar_one()
        assert subject is not None
        filed = disputes.file(
            engine, subject=subject, record=record, statement="I paid the fine.", evidence=[PDF], now=now
        )
        disputes.decide(
            engine,
            filed.id,
            agency="court",
            officer="judge.li",
            upheld=True,
            note="Paid; listed in error.",
            correction=Correction(retract=True),
            now=now + timedelta(seconds=1),
        )

        work(engine, at=now + timedelta(seconds=2))  # the airline's endpoint refuses the first call
        with engine.connect() as conn:
            (first,) = hooks.calls(conn)
        assert (first.state, first.attempts, first.status) == ("pending", 1, 503)
        assert work(engine, at=now + timedelta(seconds=30)).called == 1  # retried after the backoff

    assert rail_told.received == []  # told "allowed": nothing to correct
    assert len(told.received) == 2
    keys = {r.headers["Idempotency-Key"] for r in told.received}
    assert keys == {str(first.id)}  # the retry is the same call
    call = told.received[-1]
    stamp = call.headers["X-Credence-Timestamp"]
    expected = "sha256=" + hmac.new(secret, stamp.encode() + b"." + call.body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(call.headers["X-Credence-Signature"], expected)
    assert call.payload["type"] == "record_corrected"
    assert [a["reference"] for a in call.payload["answers"]] == [refused["reference"]]
    assert DEBTOR not in call.body.decode()
    with engine.connect() as conn:
        (made,) = hooks.calls(conn)
    assert (made.state, made.status) == ("delivered", 200)
    assert made.ack is not None
    assert str(made.id) in made.ack  # the provider's acknowledgement, kept

    with serve(engine, tmp_path) as gate:
        again = gate.post({"subject": DEBTOR, "action": "flight", "attributes": {}}, key=airline).json()
    assert again["decision"] == "allowed"


def test_a_webhook_needs_the_registry_key_and_a_url(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    build(engine, tmp_path)
    add_provider(engine, "airline", "flight")
    monkeypatch.delenv("CREDENCE_WEBHOOK_KEY", raising=False)
    refused = credence(engine, "providers", "webhook", "airline", "http://127.0.0.1:9/x", check=False)
    assert refused.returncode == 2
    assert "set CREDENCE_WEBHOOK_KEY first" in refused.stderr
    monkeypatch.setenv("CREDENCE_WEBHOOK_KEY", KEY)
    bad = credence(engine, "providers", "webhook", "airline", "ftp://example.com/x", check=False)
    assert bad.returncode == 2
    assert "url: expected http(s)://host[:port]/path" in bad.stderr
    unknown = credence(engine, "providers", "webhook", "nobody", "http://127.0.0.1:9/x", check=False)
    assert "name: no provider 'nobody'" in unknown.stderr
