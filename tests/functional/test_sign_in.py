"""Subjects and officers sign in over HTTP: a one-time code to the registered contact (a real
SMTP server and SMS webhook on loopback), exchanged for a session; the same answers for an ID
number the registry does not hold; lock-out, expiry and reuse refused naming the field; one
subject never reads another's notices; an officer acts for their own agency only. A real HTTP
server (uvicorn in a thread, serving ``create_app`` with a test's clock), on SQLite and PostgreSQL.
"""

import re
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, MetaData, select

from credence import resolve
from credence.accounts import officers
from credence.outbox import claims
from credence.store.orm import Event
from tests.common.feeds import Registry, person_id
from tests.common.gate import credence, serve
from tests.common.mail import MailCatcher, SmsCatcher, mails, texts
from tests.common.signin import (
    ALICE,
    BOB,
    STRANGER,
    Clock,
    Site,
    add_officer,
    application,
    contact,
    officer_sign_in,
    serving,
)
from tests.conftest import fresh_engine


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


def events(engine: Engine, tag: str) -> list[Any]:
    with engine.connect() as conn:
        return list(conn.execute(select(Event.subject_id, Event.data).where(Event.tag == tag)).all())


def every_stored_text(engine: Engine) -> str:
    """Every row of every table, as text: what an insider with the database could read."""
    meta = MetaData()
    meta.reflect(engine)
    parts: list[str] = []
    with engine.connect() as conn:
        for table in meta.sorted_tables:
            parts.extend(repr(tuple(row)) for row in conn.execute(select(table)))
    return "\n".join(parts)


def test_a_code_goes_to_the_subjects_contact_and_opens_a_session(site: Site) -> None:
    asked = site.post("/v1/sign-in/code", {"id_number": ALICE})
    assert asked.status_code == 202, asked.text
    code = site.code_for("alice@example.com")
    mail = next(m for m in mails(site.mail.folder) if m.to == "alice@example.com")
    assert code in mail.body
    assert "10" in mail.body
    deadline = time.monotonic() + 10
    while not texts(site.sms.path) and time.monotonic() < deadline:
        time.sleep(0.05)
    sms = texts(site.sms.path)
    assert [t["to"] for t in sms] == ["+8613912345678"]
    assert code in sms[0]["text"]

    done = site.post("/v1/sign-in/session", {"id_number": ALICE, "code": code})
    assert done.status_code == 200, done.text
    body = done.json()
    assert set(body) == {"token", "expires_at", "idle_timeout"}
    assert re.fullmatch(r"cs_[A-Za-z0-9_-]{43}", body["token"])
    assert datetime.fromisoformat(body["expires_at"]) == site.clock.now + timedelta(hours=12)

    mine = site.get("/v1/me/notices", body["token"])
    assert mine.status_code == 200, mine.text
    with site.engine.connect() as conn:
        alice = resolve.find(conn, ALICE)
        assert alice is not None
        told = {str(n.id) for n in claims.told(conn, alice)}
    assert told
    assert {n["id"] for n in mine.json()["notices"]} == told

    # the code and the token are nowhere in the store; the events name internal ids only
    stored = every_stored_text(site.engine)
    assert code not in stored
    assert body["token"] not in stored
    issued = events(site.engine, "sign_in.code_issued")
    assert [e.subject_id for e in issued] == [alice]
    assert sorted(issued[0].data["channels"]) == ["email", "sms"]
    assert [e.subject_id for e in events(site.engine, "sign_in.succeeded")] == [alice]
    for event in issued + events(site.engine, "sign_in.succeeded"):
        text = repr(event.data)
        assert ALICE not in text
        assert "alice@" not in text
        assert code not in text


def test_a_used_code_is_refused_and_a_signed_out_token_is_refused(site: Site) -> None:
    site.post("/v1/sign-in/code", {"id_number": ALICE})
    code = site.code_for("alice@example.com")
    token = site.post("/v1/sign-in/session", {"id_number": ALICE, "code": code}).json()["token"]
    again = site.post("/v1/sign-in/session", {"id_number": ALICE, "code": code})
    assert again.status_code == 422
    assert again.json()["field"] == "code"
    assert "works once" in again.json()["detail"]

    bare = httpx.post(f"{site.base}/v1/sign-out", headers={"Authorization": f"Bearer {token}"}, timeout=30)
    assert bare.status_code == 204, bare.text  # no body, no content type, as curl -X POST sends it
    after = site.get("/v1/me/notices", token)
    assert after.status_code == 401
    assert after.headers["WWW-Authenticate"] == "Bearer"
    assert len(events(site.engine, "session.ended")) == 1


def test_five_wrong_codes_lock_out_even_the_right_code_until_the_lock_out_ends(site: Site) -> None:
    site.post("/v1/sign-in/code", {"id_number": ALICE})
    code = site.code_for("alice@example.com")
    for left in (4, 3, 2, 1):
        refused = site.post("/v1/sign-in/session", {"id_number": ALICE, "code": wrong(code)})
        assert refused.status_code == 422
        assert refused.json()["field"] == "code"
        assert f"{left} attempt" in refused.json()["detail"]
    fifth = site.post("/v1/sign-in/session", {"id_number": ALICE, "code": wrong(code)})
    assert fifth.status_code == 429
    assert fifth.json()["field"] == "code"
    assert "too many attempts, try again after" in fifth.json()["detail"]
    assert int(fifth.headers["Retry-After"]) == 900

    right = site.post("/v1/sign-in/session", {"id_number": ALICE, "code": code})
    assert right.status_code == 429, right.text
    assert right.json()["field"] == "code"
    # no code is sent while locked out (the answer is the same)
    sent = len(mails(site.mail.folder))
    assert site.post("/v1/sign-in/code", {"id_number": ALICE}).status_code == 202
    time.sleep(0.5)
    assert len(mails(site.mail.folder)) == sent
    assert len(events(site.engine, "sign_in.locked")) == 1
    assert len(events(site.engine, "sign_in.failed")) == 5  # four wrong, one during the lock-out

    site.clock.tick(seconds=901)
    assert site.post("/v1/sign-in/session", {"id_number": ALICE, "code": code}).status_code == 422  # the old code died
    assert site.sign_in(ALICE, "alice@example.com")


def test_wrong_codes_sent_at_once_are_each_counted_and_a_code_works_once(site: Site) -> None:
    site.post("/v1/sign-in/code", {"id_number": ALICE})
    code = site.code_for("alice@example.com")
    with ThreadPoolExecutor(4) as pool:
        answers = list(
            pool.map(lambda _: site.post("/v1/sign-in/session", {"id_number": ALICE, "code": wrong(code)}), range(4))
        )
    assert sorted(a.status_code for a in answers) == [422] * 4
    fifth = site.post("/v1/sign-in/session", {"id_number": ALICE, "code": wrong(code)})
    assert fifth.status_code == 429, fifth.text  # no failure was lost to a race

    site.clock.tick(seconds=901)
    before = site.codes_to("alice@example.com")
    site.post("/v1/sign-in/code", {"id_number": ALICE})
    code = site.code_for("alice@example.com", before)
    with ThreadPoolExecutor(4) as pool:
        answers = list(
            pool.map(lambda _: site.post("/v1/sign-in/session", {"id_number": ALICE, "code": code}), range(4))
        )
    assert sorted(a.status_code for a in answers) == [200, 422, 422, 422]


def test_a_code_expires_after_ten_minutes(site: Site) -> None:
    site.post("/v1/sign-in/code", {"id_number": ALICE})
    code = site.code_for("alice@example.com")
    site.clock.tick(minutes=10)
    late = site.post("/v1/sign-in/session", {"id_number": ALICE, "code": code})
    assert late.status_code == 422
    assert late.json() == {
        "detail": "code: the code has expired (a code lasts 10 minutes); ask for a new one",
        "field": "code",
    }


def test_a_code_just_inside_ten_minutes_still_works(site: Site) -> None:
    site.post("/v1/sign-in/code", {"id_number": ALICE})
    code = site.code_for("alice@example.com")
    site.clock.tick(minutes=9, seconds=59)
    assert site.post("/v1/sign-in/session", {"id_number": ALICE, "code": code}).status_code == 200


def _same(a: httpx.Response, b: httpx.Response) -> None:
    assert a.status_code == b.status_code
    assert a.content == b.content
    strip = {"date"}
    assert {k: v for k, v in a.headers.items() if k not in strip} == {
        k: v for k, v in b.headers.items() if k not in strip
    }


def test_an_unregistered_id_number_gets_the_same_answers_and_the_same_lock_out(site: Site) -> None:
    known = site.post("/v1/sign-in/code", {"id_number": ALICE})
    unknown = site.post("/v1/sign-in/code", {"id_number": STRANGER})
    _same(known, unknown)
    code = site.code_for("alice@example.com")
    for _ in range(4):
        _same(
            site.post("/v1/sign-in/session", {"id_number": ALICE, "code": wrong(code)}),
            site.post("/v1/sign-in/session", {"id_number": STRANGER, "code": wrong(code)}),
        )
    _same(
        site.post("/v1/sign-in/session", {"id_number": ALICE, "code": wrong(code)}),
        site.post("/v1/sign-in/session", {"id_number": STRANGER, "code": wrong(code)}),
    )
    _same(
        site.post("/v1/sign-in/session", {"id_number": ALICE, "code": code}),
        site.post("/v1/sign-in/session", {"id_number": STRANGER, "code": code}),
    )
    # one never asked for: the same answer for both
    never = person_id(date(1991, 2, 2), seq=6)
    _same(
        site.post("/v1/sign-in/session", {"id_number": BOB, "code": "123456"}),
        site.post("/v1/sign-in/session", {"id_number": never, "code": "123456"}),
    )
    # the stranger's code went nowhere, and the registry still does not hold the number
    assert {m.to for m in mails(site.mail.folder)} == {"alice@example.com"}
    with site.engine.connect() as conn:
        assert resolve.find(conn, STRANGER) is None
    assert STRANGER not in every_stored_text(site.engine)


def test_a_malformed_id_number_or_code_is_refused_naming_the_field(site: Site) -> None:
    bad = site.post("/v1/sign-in/code", {"id_number": "1234"})
    assert bad.status_code == 422
    assert bad.json()["field"] == "id_number"
    for code in ("12345", "abcdef", "1234567"):
        refused = site.post("/v1/sign-in/session", {"id_number": ALICE, "code": code})
        assert refused.status_code == 422, code
        assert refused.json()["field"] == "code"
    assert site.post("/v1/sign-in/code", {}).json()["field"] == "id_number"


def test_one_subjects_token_reads_only_their_own_notices(site: Site) -> None:
    alice = site.sign_in(ALICE, "alice@example.com")
    bob = site.sign_in(BOB, "bob@example.com")
    with site.engine.connect() as conn:
        ids = {n: resolve.find(conn, n) for n in (ALICE, BOB)}
        told = {n: {str(t.id) for t in claims.told(conn, s)} for n, s in ids.items() if s}
    assert told[ALICE]
    assert told[BOB]
    assert not told[ALICE] & told[BOB]
    assert {n["id"] for n in site.get("/v1/me/notices", alice).json()["notices"]} == told[ALICE]
    assert {n["id"] for n in site.get("/v1/me/notices", bob).json()["notices"]} == told[BOB]
    for token in (None, "cs_" + "A" * 43, alice[:-1] + ("B" if alice[-1] != "B" else "C")):
        refused = site.get("/v1/me/notices", token)
        assert refused.status_code == 401
        assert refused.json()["field"] is None


def test_a_session_ends_after_thirty_idle_minutes(site: Site) -> None:
    token = site.sign_in(ALICE, "alice@example.com")
    site.clock.tick(minutes=29)
    assert site.get("/v1/me/notices", token).status_code == 200
    site.clock.tick(minutes=29)
    assert site.get("/v1/me/notices", token).status_code == 200  # the last request moved the idle limit
    site.clock.tick(minutes=31)
    assert site.get("/v1/me/notices", token).status_code == 401


def test_an_officer_signs_in_and_acts_for_their_own_agency_only(site: Site) -> None:
    add_officer(site, "li.ming", "court", "li.ming@court.example.com")
    token = officer_sign_in(site, "li.ming", "li.ming@court.example.com")
    assert site.get("/v1/officers/me", token).json() == {"name": "li.ming", "agency": "court", "role": "officer"}
    assert site.get("/test/acting-for/court", token).json() == {"agency": "court"}
    refused = site.get("/test/acting-for/tax", token)
    assert refused.status_code == 403
    assert refused.json() == {"detail": "agency: officer 'li.ming' acts for 'court', not 'tax'", "field": "agency"}

    # an officer's token is no subject's, nor a subject's an officer's
    assert site.get("/v1/me/notices", token).status_code == 401
    subject = site.sign_in(ALICE, "alice@example.com")
    assert site.get("/v1/officers/me", subject).status_code == 401

    listed = credence(site.engine, "officers", "list")
    assert "li.ming" in listed.stdout
    assert "active" in listed.stdout
    added = events(site.engine, "officer.added")
    assert len(added) == 1
    assert added[0].data["agency"] == "court"
    assert "email" not in added[0].data

    assert site.post("/v1/officers/sign-out", {}, token).status_code == 204
    assert site.get("/v1/officers/me", token).status_code == 401
    ended = events(site.engine, "session.ended")
    assert [e.data["kind"] for e in ended] == ["officer"]


def test_a_revoked_officer_is_refused(site: Site) -> None:
    add_officer(site, "wang.fang", "tax", "wang.fang@tax.example.com")
    token = officer_sign_in(site, "wang.fang", "wang.fang@tax.example.com")
    credence(site.engine, "officers", "revoke", "wang.fang")
    assert site.get("/v1/officers/me", token).status_code == 401
    sent = len(mails(site.mail.folder))
    unknown = site.post("/v1/officers/sign-in/code", {"name": "nobody.at.all"})
    revoked = site.post("/v1/officers/sign-in/code", {"name": "wang.fang"})
    _same(unknown, revoked)
    time.sleep(0.5)
    assert len(mails(site.mail.folder)) == sent  # a revoked officer is sent no code
    assert "revoked" in credence(site.engine, "officers", "list").stdout
    assert len(events(site.engine, "officer.revoked")) == 1
    again = credence(site.engine, "officers", "revoke", "wang.fang", check=False)
    assert again.returncode == 2
    assert "no live account" in again.stderr


def test_require_agency_names_both_agencies() -> None:
    import uuid

    officer = officers.Officer(uuid.uuid4(), "li.ming", "court")
    officers.require_agency(officer, "court")
    with pytest.raises(officers.AgencyRefusedError, match="acts for 'court', not 'rail'") as refused:
        officers.require_agency(officer, "rail")
    assert refused.value.field == "agency"
    assert refused.value.status == 403


def test_officers_add_refuses_bad_input_naming_the_field(engine: Engine) -> None:
    unknown = credence(
        engine, "officers", "add", "li.ming", "--agency", "nowhere", "--email", "a@b.example", check=False
    )
    assert unknown.returncode == 2
    assert "agency: unknown agency 'nowhere'" in unknown.stderr
    assert "court" in unknown.stderr
    bad = credence(engine, "officers", "add", "li.ming", "--agency", "court", "--email", "not-an-address", check=False)
    assert bad.returncode == 2
    assert "email: expected an email address" in bad.stderr
    credence(engine, "officers", "add", "li.ming", "--agency", "court", "--email", "li@court.example.com")
    twice = credence(
        engine, "officers", "add", "li.ming", "--agency", "court", "--email", "li@court.example.com", check=False
    )
    assert twice.returncode == 2
    assert "already has a live account" in twice.stderr


def test_credence_serve_gives_its_workers_one_sign_in_key(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without ``CREDENCE_SIGN_IN_KEY``, ``credence serve`` makes one key for all its workers:
    a code booked by one worker is counted and accepted by the other (each request on a fresh
    connection, so they spread over both)."""
    engine = next(fresh_engine("sqlite", request, tmp_path))
    reg = Registry(engine, tmp_path, now=datetime.now(UTC) - timedelta(days=1))
    reg.feed("police", [contact(ALICE, email="alice@example.com", phone="13912345678")])
    with MailCatcher(tmp_path / "mail") as mail:
        monkeypatch.setenv("CREDENCE_SMTP_URL", mail.url)
        monkeypatch.delenv("CREDENCE_SIGN_IN_KEY", raising=False)
        with serve(engine, tmp_path, workers=2) as gate:
            site = Site(gate.base, Clock(datetime.now(UTC)), mail, None, engine)  # type: ignore[arg-type]
            assert site.post("/v1/sign-in/code", {"id_number": ALICE}).status_code == 202
            code = site.code_for("alice@example.com")
            for left in (4, 3, 2):
                refused = site.post("/v1/sign-in/session", {"id_number": ALICE, "code": wrong(code)})
                assert f"{left} attempt" in refused.json()["detail"], refused.text
            done = site.post("/v1/sign-in/session", {"id_number": ALICE, "code": code})
            assert done.status_code == 200, done.text
            for _ in range(4):
                assert site.get("/v1/me/notices", done.json()["token"]).status_code == 200
    engine.dispose()


def test_one_client_asking_codes_for_many_accounts_is_slowed(engine: Engine, tmp_path: Path) -> None:
    """The lock-out guards one account; a client address asking codes for many ID numbers gets
    its allowance (here 3 a minute), then 429 with Retry-After, whichever ID it names."""
    clock = Clock(datetime(2026, 3, 1, 9, 0, tzinfo=UTC))
    with (
        MailCatcher(tmp_path / "mail") as mail,
        SmsCatcher(tmp_path / "sms.jsonl") as sms,
        serving(application(engine, clock, mail, sms, sign_in_per_minute=3)) as base,
    ):
        asked = [person_id(date(1980, 1, 1), seq=n) for n in range(1, 5)]
        answers = [httpx.post(f"{base}/v1/sign-in/code", json={"id_number": n}, timeout=30) for n in asked]
        assert [a.status_code for a in answers] == [202, 202, 202, 429]
        assert "too many sign-in requests from this address" in answers[-1].json()["detail"]
        assert int(answers[-1].headers["Retry-After"]) >= 1
        # the officers' sign-in draws on the same allowance, and so do the pages' sign-in forms
        officer = httpx.post(f"{base}/v1/officers/sign-in/code", json={"name": "li.ming"}, timeout=30)
        assert officer.status_code == 429
        with httpx.Client(base_url=base, timeout=30) as client:
            form = client.get("/sign-in?lang=en")
            token = re.search(r'name="csrf" value="([0-9a-f]+)"', form.text)
            assert token, form.text
            page = client.post("/sign-in", data={"csrf": token[1], "id_number": asked[0]})
        assert page.status_code == 429
        assert "Too many sign-in requests from this address" in page.text or "登录请求过多" in page.text
