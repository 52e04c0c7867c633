"""Issue 9's story, end to end over HTTP and the feeds, on SQLite and PostgreSQL: a court lists a
journalist for a fine he says he paid, with a month's grace after the notice; an airline is
allowed during the grace and refused after it; he signs in and disputes the listing, with a
receipt; the court's officer confirms the payment and withdraws the decision; the airline is told
by its webhook; the next check is allowed within a second; every step reached him as a notice."""

import base64
import threading
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from sqlalchemy import Engine, select

from credence import resolve
from credence.dueprocess.channels import Mail
from credence.dueprocess.delivery import Channels
from credence.dueprocess.hooks import Caller
from credence.outbox import claims, hooks
from credence.pipeline.worker import Plan, Totals, run
from credence.rules.loader import Scheme, group, load_text, shipped
from credence.store.orm import Record
from tests.common.feeds import Registry, person_id
from tests.common.gate import add_provider, credence
from tests.common.hooks import HookCatcher
from tests.common.mail import MailCatcher, SmsCatcher
from tests.common.signin import Clock, Site, add_officer, application, officer_sign_in, serving

JOURNALIST = person_id(date(1975, 10, 2), seq=318)
SHIPPED = Path(__file__).parents[2] / "credence/rules/rulebooks/national-defaulters/2017.yaml"
WEBHOOK_KEY = "a registry webhook key for tests, not for use"


def with_grace() -> dict[str, Scheme]:
    """The court's list with a month's grace before its measures bite, counted from the notice
    (SPC opinion on good-faith enforcement, 2019)."""
    spec = yaml.safe_load(SHIPPED.read_text("utf-8"))
    spec["lists"][0]["takes_effect"] = {"after_notice": True, "period": {"months": 1}}
    spec["version"] = "2017-grace"
    book = load_text(yaml.safe_dump(spec, allow_unicode=True), file="grace.yaml")
    return group([*[b for b in shipped() if b.book.scheme != spec["scheme"]], book])


GRACE = with_grace()


@pytest.fixture
def story(engine: Engine, tmp_path: Path) -> Iterator[tuple[Site, Registry, HookCatcher]]:
    reg = Registry(engine, tmp_path, now=datetime(2026, 3, 2, 1, 0, tzinfo=UTC), schemes=GRACE)
    clock = Clock(reg.now)
    with (
        MailCatcher(tmp_path / "mail") as mail,
        SmsCatcher(tmp_path / "sms.jsonl") as sms,
        HookCatcher() as airline_hook,
        serving(application(engine, clock, mail, sms)) as base,
    ):
        yield Site(base, clock, mail, sms, engine), reg, airline_hook


def work(site: Site, reg: Registry) -> Totals:
    """``credence worker`` once, at the story's time: notices, the clock, provider webhooks."""
    channels = Channels(email=Mail(site.mail.url, sender="notices@registry.test"))
    caller = Caller(WEBHOOK_KEY.encode())
    plan = Plan(poll=0.01, lease=timedelta(seconds=30), batch=50, schemes=reg.schemes, caller=caller)
    try:
        return run(site.engine, channels, stop=threading.Event(), plan=plan, clock=lambda: reg.now, once=True)
    finally:
        channels.close()
        caller.close()


def at(site: Site, reg: Registry, when: datetime) -> None:
    reg.now = when
    site.clock.now = when


def fly(site: Site, key: str, day: date) -> dict[str, Any]:
    body = {"subject": JOURNALIST, "action": "flight", "attributes": {}, "at": f"{day}T12:00+08:00"}
    # a key issued while the gate runs is live in every gate process within its key poll (0.5 s)
    deadline = time.monotonic() + 5
    while True:
        reply = httpx.post(f"{site.base}/v1/checks", json=body, headers={"Authorization": f"Bearer {key}"}, timeout=30)
        if reply.status_code != 401 or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert reply.status_code == 200, reply.text
    found: dict[str, Any] = reply.json()
    return found


def until(site: Site, key: str, day: date, decision: str, *, within: float = 1.0) -> dict[str, Any]:
    """The answer once it is ``decision``: the gate follows a committed change within a second."""
    changed = time.monotonic()  # the change has committed
    while True:
        answer = fly(site, key, day)
        if answer["decision"] == decision:
            return answer
        assert time.monotonic() - changed < within, f"the gate did not answer {decision} within {within} s"
        time.sleep(0.05)


def test_the_journalists_story(story: tuple[Site, Registry, HookCatcher], monkeypatch: pytest.MonkeyPatch) -> None:
    site, reg, airline_hook = story
    email = "journalist@example.com"
    reg.feed("police", [{"id_number": JOURNALIST, "kind": "contact", "date": "2020-05-01", "attrs": {"email": email}}])
    fine = {"case_number": "(2026)苏05执900号", "court": "Suzhou Intermediate People's Court", "ground": 1}
    decision = {"id_number": JOURNALIST, "kind": "defaulter_listing_decision", "date": "2026-03-02", "attrs": fine}
    reg.feed("court", [{**decision, "region": ""}])
    airline = add_provider(site.engine, "airline", "flight")
    monkeypatch.setenv("CREDENCE_WEBHOOK_KEY", WEBHOOK_KEY)
    credence(site.engine, "providers", "webhook", "airline", airline_hook.url)

    # the notice reaches him on 2 March; the grace runs to 2 April; the ban bites on 3 April
    at(site, reg, datetime(2026, 3, 2, 2, 0, tzinfo=UTC))
    work(site, reg)
    assert fly(site, airline, date(2026, 3, 20))["decision"] == "allowed"
    refused = until(site, airline, date(2026, 4, 3), "restricted")  # the gate follows the worker's refresh

    # he signs in and disputes the decision, with the court's receipt of payment
    at(site, reg, datetime(2026, 4, 3, 2, 0, tzinfo=UTC))
    token = site.sign_in(JOURNALIST, email)
    with site.engine.connect() as conn:
        subject = resolve.find(conn, JOURNALIST)
        record = conn.execute(
            select(Record.id).where(Record.subject_id == subject, Record.kind == "defaulter_listing_decision")
        ).scalar_one()
    receipt = base64.b64encode(b"%PDF-1.4\npaid in full on 28 February\n%%EOF\n").decode()
    body = {"record_id": str(record), "statement": "I paid the fine on 28 February.", "evidence": [receipt]}
    filed = site.post("/v1/disputes", body, token)
    assert filed.status_code == 201, filed.text
    assert filed.json()["respond_by"] == "2026-04-18"  # the court's 15 days

    # the court's officer confirms the payment: the decision is withdrawn
    add_officer(site, "li.ming", "court", "li.ming@court.example.com")
    judge = officer_sign_in(site, "li.ming", "li.ming@court.example.com")
    answer = {"upheld": True, "note": "Paid on 28 February; listed in error.", "correction": {"retract": True}}
    decided = site.post(f"/v1/disputes/{filed.json()['id']}/decision", answer, judge)
    assert decided.status_code == 200, decided.text

    at(site, reg, datetime(2026, 4, 3, 3, 0, tzinfo=UTC))
    work(site, reg)  # refreshes him (the measure lifts), tells the airline, delivers his notices
    until(site, airline, date(2026, 4, 3), "allowed")

    assert len(airline_hook.received) == 1
    told = airline_hook.received[0].payload
    assert [a["reference"] for a in told["answers"]] == [refused["reference"]]
    with site.engine.connect() as conn:
        assert {c.state for c in hooks.calls(conn)} == {"delivered"}
        notices = claims.told(conn, subject)
    kinds = Counter(n.kind for n in notices)
    for kind in ("record", "listing_start", "measure_applied", "dispute_filed", "dispute_decided", "measure_lifted"):
        assert kinds[kind] >= 1, kinds
    assert {n.state for n in notices} == {"delivered"}
