"""A served gate with real mail for sign-in tests: the app under uvicorn in a thread with a test's
clock, an SMTP and an SMS catcher, two registered residents with contacts and listings, and the
helpers to sign a subject or an officer in. ``site`` is a fixture (tests/conftest.py loads this
module as a plugin)."""

import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from pydantic import SecretStr
from sqlalchemy import Engine

from credence.accounts import officers
from credence.api.app import create_app
from credence.api.deps import OfficerDep
from credence.settings import Settings
from tests.common.feeds import Registry, person_id
from tests.common.gate import credence, free_port, url_of
from tests.common.mail import MailCatcher, SmsCatcher, mails

ALICE = person_id(date(1981, 3, 9), seq=411)  # registered, with a contact
BOB = person_id(date(1975, 5, 5), seq=77)  # registered, with another contact
STRANGER = person_id(date(1990, 1, 1), seq=5)  # never seen by the registry
SENDER = "codes@registry.test"
CODE = re.compile(r"\b(\d{6})\b")


@dataclass
class Clock:
    now: datetime

    def __call__(self) -> datetime:
        return self.now

    def tick(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@dataclass
class Site:
    base: str
    clock: Clock
    mail: MailCatcher
    sms: SmsCatcher
    engine: Engine

    def post(self, path: str, body: object, token: str | None = None) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.post(f"{self.base}{path}", json=body, headers=headers, timeout=30)

    def get(self, path: str, token: str | None = None) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.get(f"{self.base}{path}", headers=headers, timeout=30)

    def codes_to(self, to: str) -> dict[str, str]:
        """Each sign-in mail to ``to`` (by Message-ID) and the code in its subject line; the
        notices the same address receives are not sign-in mails."""
        found = {}
        for m in mails(self.mail.folder):
            code = CODE.search(m.subject)
            if m.to == to and code:  # a notice's subject line holds no six-digit number
                found[m.message_id] = code.group(1)
        return found

    def code_for(self, to: str, before: dict[str, str] | None = None) -> str:
        """The code of the first mail to ``to`` not in ``before``, waiting for it (a code is sent
        after the answer)."""
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            new = [c for m, c in self.codes_to(to).items() if m not in (before or {})]
            if new:
                assert len(new) == 1, new
                return new[0]
            time.sleep(0.05)
        raise AssertionError(f"no code reached {to}")

    def sign_in(self, id_number: str, to: str) -> str:
        before = self.codes_to(to)
        assert self.post("/v1/sign-in/code", {"id_number": id_number}).status_code == 202
        code = self.code_for(to, before)
        done = self.post("/v1/sign-in/session", {"id_number": id_number, "code": code})
        assert done.status_code == 200, done.text
        token: str = done.json()["token"]
        return token


def contact(id_number: str, *, email: str, phone: str) -> dict[str, Any]:
    return {"id_number": id_number, "kind": "contact", "date": "2024-01-10", "attrs": {"email": email, "phone": phone}}


def decision(id_number: str, case: str) -> dict[str, Any]:
    attrs = {"case_number": case, "court": "Suzhou Intermediate People's Court", "ground": 1}
    return {
        "id_number": id_number,
        "kind": "defaulter_listing_decision",
        "date": "2026-02-01",
        "attrs": attrs,
        "region": "",
    }


@contextmanager
def serving(app: FastAPI) -> Iterator[str]:
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, name="gate", daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        assert thread.is_alive(), "the gate stopped while starting"
        assert time.monotonic() < deadline, "the gate did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(20)


def application(engine: Engine, clock: Clock, mail: MailCatcher, sms: SmsCatcher, **given: Any) -> FastAPI:
    settings = Settings(
        database_url=url_of(engine),
        smtp_url=mail.url,
        sms_url=sms.url,
        mail_from=SENDER,
        sign_in_key=SecretStr("test-key-" + "x" * 32),
        **given,
    )
    app = create_app(settings, clock=clock)

    @app.get("/test/acting-for/{agency}")
    def acting_for(agency: str, officer: OfficerDep) -> dict[str, str]:
        """What a later route acting for an agency does first."""
        officers.require_agency(officer, agency)
        return {"agency": agency}

    return app


@pytest.fixture
def site(engine: Engine, tmp_path: Path) -> Iterator[Site]:
    reg = Registry(engine, tmp_path, now=datetime(2026, 3, 1, 8, 0, tzinfo=UTC))
    reg.feed("police", [contact(ALICE, email="alice@example.com", phone="13912345678")])
    reg.feed("police", [contact(BOB, email="bob@example.com", phone="13987654321")])
    reg.feed("court", [decision(ALICE, "(2025)苏05执321号"), decision(BOB, "(2025)苏05执322号")])  # notices to both
    clock = Clock(reg.now + timedelta(hours=1))
    with (
        MailCatcher(tmp_path / "mail") as mail,
        SmsCatcher(tmp_path / "sms.jsonl") as sms,
        serving(application(engine, clock, mail, sms)) as base,
    ):
        yield Site(base, clock, mail, sms, engine)


def add_officer(site: Site, name: str, agency: str, email: str, *, role: str = "officer") -> None:
    done = credence(site.engine, "officers", "add", name, "--agency", agency, "--email", email, "--role", role)
    assert f"acts for {agency}" in done.stdout


def officer_sign_in(site: Site, name: str, email: str) -> str:
    before = site.codes_to(email)
    assert site.post("/v1/officers/sign-in/code", {"name": name}).status_code == 202
    code = site.code_for(email, before)
    done = site.post("/v1/officers/sign-in/session", {"name": name, "code": code})
    assert done.status_code == 200, done.text
    token: str = done.json()["token"]
    return token
