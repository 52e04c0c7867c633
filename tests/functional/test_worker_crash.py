"""``credence worker`` as an operator runs it: two at once send each notice once; one killed with
SIGKILL mid-delivery and started again loses nothing, and every repeat carries the same
Message-ID; SIGTERM stops it cleanly. Real processes, a real SMTP server, SQLite and PostgreSQL."""

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from aiosmtpd.handlers import Mailbox
from aiosmtpd.smtp import SMTP, Envelope, Session
from sqlalchemy import Engine, func, select

from credence.outbox import Notice, NoticeKind, enqueue
from credence.store.orm import NoticeDelivery
from tests.common.feeds import Registry, person_id
from tests.common.mail import MailCatcher, mails
from tests.conftest import STORES, fresh_engine

CREDENCE = Path(sys.executable).parent / "credence"
PEOPLE = 60
EACH = 5  # notices per person


class Slow(Mailbox):
    """A Maildir server taking 10 ms a mail, so that a kill lands while a batch is being sent."""

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802 - aiosmtpd names it
        await asyncio.sleep(0.01)
        return await super().handle_DATA(server, session, envelope)


@pytest.fixture(params=STORES)
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    yield from fresh_engine(request.param, request, tmp_path)


def outbox_of(engine: Engine, tmp_path: Path) -> set[str]:
    """PEOPLE residents with an email on record, EACH notices waiting for each; their ids."""
    reg = Registry(engine, tmp_path, now=datetime(2025, 6, 1, 8, 0, tzinfo=UTC))
    people = [person_id(date(1950 + i % 50, 1 + i % 12, 1 + i % 28), seq=300 + i) for i in range(PEOPLE)]
    rows = [
        {"id_number": p, "kind": "contact", "date": "2024-01-10", "attrs": {"email": f"p{i}@example.com"}}
        for i, p in enumerate(people)
    ]
    result = reg.feed("police", rows)
    facts = {"scheme": "test", "version": "1", "intervals": [], "more": 0}
    with engine.begin() as conn:
        ids = enqueue(
            conn,
            [
                Notice(subject=s, kind=NoticeKind.SCORE, facts=facts)
                for s in sorted(result.subjects)
                for _ in range(EACH)
            ],
            now=reg.now,
        )
    return {str(i) for i in ids}


def start_worker(engine: Engine, smtp: str, *, batch: int) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "CREDENCE_DATABASE_URL": engine.url.render_as_string(hide_password=False),
        "CREDENCE_SMTP_URL": smtp,
        "CREDENCE_MAIL_FROM": "notices@registry.test",
        "CREDENCE_WORKER_BATCH": str(batch),
        "CREDENCE_WORKER_POLL": "0.05",
        "CREDENCE_WORKER_LEASE": "2",
    }
    return subprocess.Popen([CREDENCE, "worker"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)  # noqa: S603


def delivered(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.scalar(select(func.count()).where(NoticeDelivery.state == "delivered")) or 0)


def wait_for(condition: object, *, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return
        time.sleep(0.05)
    raise AssertionError(f"not within {timeout} s")


def stop(worker: subprocess.Popen[bytes]) -> str:
    worker.send_signal(signal.SIGTERM)
    out, err = worker.communicate(timeout=60)
    assert worker.returncode == 0, err.decode()
    return out.decode()


def test_a_worker_killed_mid_delivery_loses_nothing_and_repeats_carry_the_same_id(
    engine: Engine, tmp_path: Path
) -> None:
    ids = outbox_of(engine, tmp_path)
    folder = tmp_path / "mail"
    with MailCatcher(folder, handler=Slow(folder)) as mail:
        first = start_worker(engine, mail.url, batch=50)
        wait_for(lambda: len(mails(folder)) >= 30, timeout=120)
        first.send_signal(signal.SIGKILL)
        first.communicate(timeout=30)
        before = delivered(engine)
        assert before < len(ids)  # killed part-way
        second = start_worker(engine, mail.url, batch=50)
        wait_for(lambda: delivered(engine) == len(ids), timeout=180)
        said = stop(second)
    got = mails(folder)
    seen = Counter(m.notice for m in got)
    assert set(seen) == ids  # none lost
    assert all(m.message_id == f"<notice-{m.notice}@registry.test>" for m in got)  # a repeat is the same message
    assert sum(seen.values()) > len(ids)  # the notices sent but not recorded when it died went again
    assert "worker stopped" in said


def test_two_worker_processes_send_each_notice_once_and_stop_on_sigterm(engine: Engine, tmp_path: Path) -> None:
    ids = outbox_of(engine, tmp_path)
    folder = tmp_path / "mail"
    with MailCatcher(folder) as mail:
        workers = [start_worker(engine, mail.url, batch=10) for _ in range(2)]
        wait_for(lambda: delivered(engine) == len(ids), timeout=180)
        said = [stop(w) for w in workers]
    seen = Counter(m.notice for m in mails(folder))
    assert set(seen) == ids
    assert set(seen.values()) == {1}
    assert all("worker stopped" in s for s in said)
