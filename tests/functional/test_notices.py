"""Notices: written in the transaction of the change they tell of, delivered by the worker to a
real SMTP server and a real SMS webhook on loopback, retried with backoff, never lost, and
listed when no one can be reached. On SQLite and PostgreSQL."""

import threading
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from credence import resolve
from credence.dueprocess.channels import Mail, Sms
from credence.dueprocess.delivery import Channels
from credence.outbox import claims
from credence.outbox.claims import Retry
from credence.pipeline.worker import Plan, Totals, run
from credence.store.orm import Event, Notice, NoticeAttempt, NoticeDelivery
from tests.common.feeds import Registry, person_id
from tests.common.mail import MailCatcher, Moody, SmsCatcher, mails, texts
from tests.conftest import STORES, fresh_engine

DEBTOR = person_id(date(1981, 3, 9), seq=411)
SILENT = person_id(date(1975, 5, 5), seq=77)  # no contact on record
CASE = "(2025)苏05执321号"
COURT = "Suzhou Intermediate People's Court"
SENDER = "notices@registry.test"


@pytest.fixture(params=STORES)
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    yield from fresh_engine(request.param, request, tmp_path)


@pytest.fixture
def mail(tmp_path: Path) -> Iterator[MailCatcher]:
    with MailCatcher(tmp_path / "mail") as catcher:
        yield catcher


@pytest.fixture
def sms(tmp_path: Path) -> Iterator[SmsCatcher]:
    with SmsCatcher(tmp_path / "sms.jsonl") as catcher:
        yield catcher


def contact(id_number: str, *, phone: str | None = "13912345678", email: str | None = "wang.lei@example.com") -> dict:
    attrs = {k: v for k, v in (("phone", phone), ("email", email)) if v}
    return {"id_number": id_number, "kind": "contact", "date": "2024-01-10", "attrs": attrs}


def decision(id_number: str) -> dict:
    attrs = {"case_number": CASE, "court": COURT, "ground": 1}
    return {
        "id_number": id_number,
        "kind": "defaulter_listing_decision",
        "date": "2025-06-01",
        "attrs": attrs,
        "region": "",
    }


def deletion(id_number: str) -> dict:
    attrs = {"case_number": CASE, "reason": "performed"}
    return {"id_number": id_number, "kind": "defaulter_deletion", "date": "2025-07-01", "attrs": attrs, "region": ""}


def channels_for(mail: MailCatcher | None, sms: SmsCatcher | None) -> Channels:
    return Channels(
        email=Mail(mail.url, sender=SENDER) if mail else None,
        sms=Sms(sms.url) if sms else None,
    )


def deliver(engine: Engine, reg: Registry, channels: Channels, *, retry: Retry | None = None) -> Totals:
    plan = Plan(poll=0.01, lease=timedelta(seconds=30), batch=50, retry=retry or Retry())
    return run(engine, channels, stop=threading.Event(), plan=plan, clock=lambda: reg.now, once=True)


def kinds_of(engine: Engine, subject_number: str) -> Counter[str]:
    with engine.connect() as conn:
        subject = resolve.find(conn, subject_number)
        return Counter(n.kind for n in claims.told(conn, subject)) if subject else Counter()


@pytest.mark.parametrize("store", STORES)
def test_each_change_writes_its_notice_and_the_worker_delivers_it_by_mail_and_sms(
    store: str, request: pytest.FixtureRequest, tmp_path: Path, mail: MailCatcher, sms: SmsCatcher
) -> None:
    engine = next(fresh_engine(store, request, tmp_path))
    reg = Registry(engine, tmp_path, now=datetime(2025, 6, 1, 8, 0, tzinfo=UTC))
    reg.feed("police", [contact(DEBTOR)])
    reg.feed("court", [decision(DEBTOR)])
    told = kinds_of(engine, DEBTOR)
    assert told == {"record": 1, "listing_start": 1, "measure_applied": 1}

    channels = channels_for(mail, sms)
    totals = deliver(engine, reg, channels)
    channels.close()
    assert totals.delivered == 3
    assert totals.retrying == 0

    got = mails(mail.folder)
    assert len(got) == 3
    with engine.connect() as conn:
        ids = {str(i) for i in conn.scalars(select(Notice.id))}
        states = set(conn.scalars(select(NoticeDelivery.state)))
        attempts = conn.execute(select(NoticeAttempt.channel, NoticeAttempt.ok)).all()
    assert {m.notice for m in got} == ids
    assert all(m.message_id == f"<notice-{m.notice}@registry.test>" for m in got)
    assert {m.to for m in got} == {"wang.lei@example.com"}
    assert states == {"delivered"}
    assert sorted(attempts) == sorted([("email", True)] * 3 + [("sms", True)] * 3)

    listing = next(m for m in got if "列入名单" in m.subject)
    for fact in (CASE, COURT, "2025-06-01", "dishonest-judgment-defaulters", "Dear resident", "2025-07-01"):
        assert fact in listing.body, fact  # the dispute deadline is 30 days from the notice
    assert "SPC" in listing.body  # the legal basis
    assert listing.subject.endswith("Decision to list you: dishonest-judgment-defaulters")

    sent = texts(sms.path)
    assert len(sent) == 3
    assert {t["to"] for t in sent} == {"+8613912345678"}
    assert {t["idempotency_key"] for t in sent} == ids
    assert all(t["notice"] == t["idempotency_key"] for t in sent)
    assert all("【信用信息平台】" in t["text"] for t in sent)

    reg.feed("court", [deletion(DEBTOR)])  # the court records payment
    assert kinds_of(engine, DEBTOR) - told == {"listing_end": 1, "measure_lifted": 1}
    channels = channels_for(mail, sms)
    assert deliver(engine, reg, channels).delivered == 2
    channels.close()
    ended = next(m for m in mails(mail.folder) if "listing ends" in m.subject)
    assert "2025-07-01" in ended.body
    assert "performed" in ended.body
    engine.dispose()


def test_every_listing_start_and_end_event_has_its_notice(engine: Engine, tmp_path: Path) -> None:
    reg = Registry(engine, tmp_path, now=datetime(2025, 6, 1, 8, 0, tzinfo=UTC))
    people = [person_id(date(1970 + i, 1, 2), seq=100 + i) for i in range(6)]
    reg.feed("court", [decision(p) for p in people])
    reg.feed("court", [deletion(p) for p in people[:3]])
    with engine.connect() as conn:
        events = Counter(
            tag for (tag,) in conn.execute(select(Event.tag).where(Event.tag.in_(["listing.start", "listing.end"])))
        )
        notices = Counter(conn.scalars(select(Notice.kind).where(Notice.kind.like("listing%"))))
    assert events == {"listing.start": 6, "listing.end": 3}
    assert notices == {"listing_start": 6, "listing_end": 3}


def test_a_subject_with_no_contact_is_listed_until_a_contact_arrives(
    engine: Engine, tmp_path: Path, mail: MailCatcher
) -> None:
    reg = Registry(engine, tmp_path, now=datetime(2025, 6, 1, 8, 0, tzinfo=UTC))
    reg.feed("court", [decision(SILENT)])
    channels = channels_for(mail, None)
    totals = deliver(engine, reg, channels)
    assert totals.unreachable == 3
    assert totals.delivered == 0
    with engine.connect() as conn:
        waiting = claims.undeliverable(conn)
    assert len(waiting) == 3
    assert {w.state for w in waiting} == {"unreachable"}
    assert mails(mail.folder) == []

    reg.feed("police", [contact(SILENT, phone=None)])  # only an email: the mail channel can reach them
    assert deliver(engine, reg, channels).delivered == 3
    channels.close()
    with engine.connect() as conn:
        assert claims.undeliverable(conn) == []
        events = Counter(conn.scalars(select(Event.tag).where(Event.tag.like("notice.%"))))
    assert events == {"notice.unreachable": 3, "notice.delivered": 3}
    assert len(mails(mail.folder)) == 3


def test_a_refusing_server_is_retried_with_backoff_and_the_retry_carries_the_same_id(
    engine: Engine, tmp_path: Path
) -> None:
    reg = Registry(engine, tmp_path, now=datetime(2025, 6, 1, 8, 0, tzinfo=UTC))
    reg.feed("police", [contact(DEBTOR, phone=None)])
    reg.feed("court", [decision(DEBTOR)])
    handler = Moody(tmp_path / "moody")
    retry = Retry(first=timedelta(seconds=10), cap=timedelta(seconds=25), limit=5)
    with MailCatcher(tmp_path / "moody", handler=handler) as moody:
        handler.refusing.set()
        channels = channels_for(moody, None)
        assert deliver(engine, reg, channels, retry=retry).retrying == 3
        with engine.connect() as conn:
            rows = conn.execute(select(NoticeDelivery.attempts, NoticeDelivery.next_at, NoticeDelivery.error)).all()
        assert {(r.attempts, r.error) for r in rows} == {(1, "smtp 451")}
        reg.tick(5)
        assert deliver(engine, reg, channels, retry=retry).delivered == 0  # not due for 10 s
        delays = []
        for _ in range(3):
            reg.tick(30)
            deliver(engine, reg, channels, retry=retry)
            with engine.connect() as conn:
                delays.append(sorted(set(conn.scalars(select(NoticeDelivery.attempts)))))
        assert delays == [[2], [3], [4]]
        handler.refusing.clear()
        reg.tick(30)
        assert deliver(engine, reg, channels, retry=retry).delivered == 3
        channels.close()
    got = mails(tmp_path / "moody")
    assert len(got) == 3
    assert handler.refused == 12
    with engine.connect() as conn:
        tries = conn.execute(select(NoticeAttempt.notice_id, func.count()).group_by(NoticeAttempt.notice_id)).all()
    assert {n for _, n in tries} == {5}  # four refusals, one success, each recorded


def test_a_notice_that_fails_past_the_limit_is_listed_as_failed(engine: Engine, tmp_path: Path) -> None:
    reg = Registry(engine, tmp_path, now=datetime(2025, 6, 1, 8, 0, tzinfo=UTC))
    reg.feed("police", [contact(DEBTOR, phone=None)])
    reg.feed("court", [decision(DEBTOR)])
    handler = Moody(tmp_path / "moody")
    handler.refusing.set()
    retry = Retry(first=timedelta(seconds=1), cap=timedelta(seconds=2), limit=2)
    with MailCatcher(tmp_path / "moody", handler=handler) as moody:
        channels = channels_for(moody, None)
        for _ in range(3):
            deliver(engine, reg, channels, retry=retry)
            reg.tick(5)
        channels.close()
    with engine.connect() as conn:
        waiting = claims.undeliverable(conn)
    assert {(w.state, w.attempts, w.error) for w in waiting} == {("failed", 2, "smtp 451")}


def test_two_workers_at_once_send_each_notice_once(engine: Engine, tmp_path: Path, mail: MailCatcher) -> None:
    reg = Registry(engine, tmp_path, now=datetime(2025, 6, 1, 8, 0, tzinfo=UTC))
    people = [person_id(date(1960 + i % 40, 1 + i % 12, 1 + i % 28), seq=200 + i) for i in range(60)]
    reg.feed("police", [contact(p, phone=None, email=f"p{i}@example.com") for i, p in enumerate(people)])
    reg.feed("court", [decision(p) for p in people])  # 3 notices each
    plan = Plan(poll=0.01, lease=timedelta(seconds=60), batch=7, retry=Retry())
    results: list[Totals] = []

    def one() -> None:
        channels = channels_for(mail, None)
        results.append(run(engine, channels, stop=threading.Event(), plan=plan, clock=lambda: reg.now, once=True))
        channels.close()

    workers = [threading.Thread(target=one) for _ in range(2)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=120)
    got = Counter(m.notice for m in mails(mail.folder))
    assert len(got) == 180
    assert set(got.values()) == {1}
    assert sum(r.delivered for r in results) == 180


def test_a_contact_with_a_bad_phone_or_email_is_quarantined_naming_the_field(engine: Engine, tmp_path: Path) -> None:
    reg = Registry(engine, tmp_path)
    result = reg.feed(
        "police",
        [contact(DEBTOR, phone="12345", email=None), contact(SILENT, phone=None, email="not-an-address")],
    )
    assert result.quarantined == 2
    assert result.reasons == {"attributes.phone": 1, "attributes.email": 1}
