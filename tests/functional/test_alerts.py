"""Alerts to the auditors (issue 10, part 7): when a court's load trips its circuit breaker, or an
officer is refused a manual action, ``credence worker`` mails every live auditor once, in counts
and internal ids; a repeat pass sends nothing more, an auditor added later is not sent what came
before, and the mails hold no ID number. On SQLite and PostgreSQL."""

import threading
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from credence.accounts import manual, officers
from credence.accounts.officers import Officer
from credence.dueprocess.channels import Mail
from credence.dueprocess.delivery import Channels
from credence.exc import FieldError
from credence.model.roles import Role, RoleRefusedError
from credence.outbox.claims import Retry
from credence.pipeline.worker import Plan, run
from credence.store.orm import StaffAlert
from tests.common.feeds import Registry, person_id
from tests.common.mail import MailCatcher, mails

CITY = 1000


def resident(i: int) -> str:
    return person_id(date(1950 + i % 50, 1 + i % 12, 1 + i % 28), seq=i % 1000)


def add(engine: Engine, reg: Registry, name: str, agency: str, role: Role) -> Officer:
    with engine.begin() as conn:
        return officers.add(
            conn, name, agency=agency, email=f"{name}@example.org", actor="t", now=reg.tick(), role=role
        )


def worker_pass(engine: Engine, reg: Registry, catcher: MailCatcher) -> int:
    channels = Channels(email=Mail(catcher.url, sender="alerts@registry.test"), sms=None)
    plan = Plan(poll=0.01, lease=timedelta(seconds=30), batch=50, retry=Retry())
    try:
        return run(engine, channels, stop=threading.Event(), plan=plan, clock=reg.tick, once=True).alerted
    finally:
        channels.close()


def test_auditors_are_mailed_a_tripped_breaker_and_a_refused_insider_once(engine: Engine, tmp_path: Path) -> None:
    reg = Registry(engine, tmp_path)
    chen = add(engine, reg, "chen.audit", "registry", Role.AUDITOR)
    people = [resident(i) for i in range(CITY)]
    residence = {"kind": "residence", "date": "2015-01-01", "attrs": {"region": "320505", "status": "registered"}}
    reg.feed("police", [{"id": f"H-{i}", "id_number": p, **residence} for i, p in enumerate(people)])
    attrs = {"case_number": "(2026)苏05执1号", "court": "Suzhou Intermediate People's Court", "ground": 1}
    listing = {"kind": "defaulter_listing_decision", "date": "2026-11-20", "region": "", "attrs": attrs}
    everyone = reg.feed("court", [{"id": f"L-{i}", "id_number": p, **listing} for i, p in enumerate(people)])
    assert everyone.held == CITY
    second = add(engine, reg, "zhao.min", "police", Role.SECOND_OFFICER)
    with pytest.raises(RoleRefusedError):
        manual.request(
            engine,
            second,
            kind="traffic_offence",
            id_number=people[0],
            valid_date="2026-11-20",
            jurisdiction="320505",
            legal_basis="x",
            reason="y",
            now=reg.tick(),
        )

    with MailCatcher(tmp_path / "mail") as catcher:
        assert worker_pass(engine, reg, catcher) == 2
        assert worker_pass(engine, reg, catcher) == 0  # sent once
        late = add(engine, reg, "sun.audit", "registry", Role.AUDITOR)
        assert worker_pass(engine, reg, catcher) == 0  # not what came before their account
        found = mails(catcher.folder)
    assert sorted(m.to for m in found) == ["chen.audit@example.org"] * 2
    breaker, denied = sorted(found, key=lambda m: "Refused" in m.subject)
    assert "Circuit breaker: court's adverse records held" in breaker.subject
    assert "credence held release|reject court" in breaker.body
    assert "load 1,000" in breaker.body
    assert "Refused: a manual action by an officer of police" in denied.subject
    assert f"internal id {second.id}" in denied.body
    assert "RoleRefusedError" in denied.body
    assert not any(p in m.body or p in m.subject for m in found for p in people[:50])
    with engine.connect() as conn:
        sent = conn.execute(select(func.count()).select_from(StaffAlert).where(StaffAlert.officer_id == chen.id))
        assert sent.scalar_one() == 2
        assert conn.execute(select(func.count()).where(StaffAlert.officer_id == late.id)).scalar_one() == 0


def test_an_auditor_acts_for_the_registry_and_only_an_auditor_does(engine: Engine, tmp_path: Path) -> None:
    reg = Registry(engine, tmp_path)
    with pytest.raises(FieldError, match="an auditor acts for the registry"):
        add(engine, reg, "chen.audit", "court", Role.AUDITOR)
    with pytest.raises(FieldError, match="got 'registry' for a second_officer"):
        add(engine, reg, "zhao.min", "registry", Role.SECOND_OFFICER)
