"""The gate's inquiry log: every check and manifest entry recorded off the request path, one
``inquiry.batch`` event per flush, shown to the subject by ``credence inquiries``; a stopped
server loses nothing, a killed one at most its last flush interval's answers."""

import json
import os
import signal
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, create_engine, func, select, text, union_all

from credence.audit.tags import EventTag
from credence.exc import FieldError
from credence.screening.check import Decision, Outcome
from credence.screening.inquiries import InquiryLog, InquiryLogFullError, about, digest
from credence.store.orm import Event, Inquiry, Provider, StagedInquiry
from tests.common.gate import DEBTOR, STRANGER, add_provider, build, credence, serve
from tests.conftest import fresh_engine

FLUSH = 0.1  # the shipped flush interval (CREDENCE_GATE_INQUIRY_FLUSH)
# what a killed server may lose: the answers of its last flush interval and the flush under way,
# with room for a loaded two-core machine's scheduling
KILL_WINDOW = 1.0
DEBTOR_15 = DEBTOR[:6] + DEBTOR[8:17]  # the same person's first-generation (15-digit) number


def flight(subject: str) -> dict[str, Any]:
    return {"subject": subject, "action": "flight", "attributes": {}}


def rows(engine: Engine) -> list[Any]:
    """Every inquiry logged, moved into ``inquiries`` or still staged, in the order logged."""
    with engine.connect() as conn:
        both = union_all(select(Inquiry.__table__), select(StagedInquiry.__table__)).subquery()
        return list(conn.execute(select(both).order_by(both.c.id)))


def batch_events(engine: Engine) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        found = conn.execute(select(Event.data).where(Event.tag == EventTag.INQUIRY_BATCH).order_by(Event.seq))
        return [dict(data) for data in found.scalars()]


def test_every_answer_is_recorded_and_shown_to_the_subject(engine: Engine, tmp_path: Path) -> None:
    build(engine, tmp_path)
    airline = add_provider(engine, "airline", "flight")
    railway = add_provider(engine, "railway", "rail_ticket")
    with serve(engine, tmp_path, workers=2) as served:
        listed = served.post(flight(DEBTOR), key=airline).json()
        unknown = served.post(flight(STRANGER), key=airline).json()
        old_form = served.post(flight(DEBTOR_15), key=airline).json()
        manifest = {
            "entries": [
                {"subject": DEBTOR, "action": "rail_ticket", "attributes": {"train_type": "G", "seat_class": "second"}},
                {"subject": "not a number", "action": "rail_ticket", "attributes": {}},
                {"subject": STRANGER, "action": "flight", "attributes": {}},  # outside the railway's scope
            ]
        }
        screened = httpx.post(
            f"{served.base}/v1/screenings", json=manifest, headers={"Authorization": f"Bearer {railway}"}, timeout=30
        ).json()["results"]
        refused = served.post({"subject": DEBTOR[:-1], "action": "flight"}, key=airline)  # 422: not an inquiry
        assert refused.status_code == 422
    # the server was stopped (SIGTERM): everything it answered is in the store
    found = rows(engine)
    # (two workers flush independently: the order across them is not fixed)
    assert sorted((r.action, r.decision) for r in found) == sorted(
        [
            ("flight", "restricted"),
            ("flight", "allowed"),
            ("flight", "restricted"),
            ("rail_ticket", "restricted"),
            ("rail_ticket", "refused"),
            ("flight", "refused"),
        ]
    )
    by_reference = {r.reference: r for r in found}
    assert by_reference[listed["reference"]].number_sha256 == digest(DEBTOR)
    assert by_reference[old_form["reference"]].number_sha256 == digest(DEBTOR)  # one person, one key
    assert by_reference[unknown["reference"]].number_sha256 == digest(STRANGER)  # asked about, though unknown
    assert by_reference[screened[0]["reference"]].attributes == {"train_type": "G", "seat_class": "second"}
    unreadable = [r for r in found if r.decision == "refused" and r.action == "rail_ticket"]
    assert unreadable[0].number_sha256 is None
    assert unreadable[0].reference is None
    # each flush is one event with counts only, and the counts add up to the rows
    events = batch_events(engine)
    assert sum(e["inquiries"] for e in events) == len(found)
    assert {str(r.batch) for r in found} == {e["batch"] for e in events}
    assert DEBTOR not in json.dumps(events)
    assert digest(DEBTOR) not in json.dumps(events)
    # the subject sees who asked: the CLI, newest first, by either form of the number
    shown = json.loads(credence(engine, "inquiries", DEBTOR, "--json").stdout)
    assert len(shown) == 3
    assert {s["provider"] for s in shown} == {"airline", "railway"}
    assert {s["reference"] for s in shown} == {listed["reference"], old_form["reference"], screened[0]["reference"]}
    assert [s["asked_at"] for s in shown] == sorted((s["asked_at"] for s in shown), reverse=True)
    assert json.loads(credence(engine, "inquiries", DEBTOR_15, "--json").stdout) == shown
    table = credence(engine, "inquiries", STRANGER).stdout
    assert "airline" in table
    assert "allowed" in table
    unseen = "11010519491231002" + "X"
    assert "no provider has asked" in credence(engine, "inquiries", unseen).stdout
    bad = credence(engine, "inquiries", "12345", check=False)
    assert bad.returncode != 0
    assert "id_number" in bad.stdout + bad.stderr


def _hammer(base: str, key: str, stop: threading.Event, answered: list[tuple[float, str]]) -> None:
    with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {key}"}, timeout=10) as client:
        while not stop.is_set():
            try:
                got = client.post("/v1/checks", json=flight(DEBTOR if len(answered) % 2 else STRANGER))
            except httpx.TransportError:
                return  # the server is gone
            if got.status_code == 200:
                answered.append((time.time(), got.json()["reference"]))


def test_a_killed_server_loses_at_most_its_last_flush(
    engine: Engine, tmp_path: Path, record_property: Callable[[str, object], None]
) -> None:
    """SIGKILL while four clients check: every answer given more than KILL_WINDOW before the kill
    is in the store, and what is missing was all answered in that window. How many the kill lost
    is the test's ``lost`` property (``--junitxml``)."""
    build(engine, tmp_path)
    key = add_provider(engine, "airline", "flight", rate="100000/s")
    answered: list[tuple[float, str]] = []
    stop = threading.Event()
    with serve(engine, tmp_path, workers=1) as served:
        clients = [threading.Thread(target=_hammer, args=(served.base, key, stop, answered)) for _ in range(4)]
        for client in clients:
            client.start()
        deadline = time.monotonic() + 60
        while len(answered) < 2_000 and time.monotonic() < deadline:
            time.sleep(0.05)
        killed_at = time.time()
        os.killpg(served.process.pid, signal.SIGKILL)
        served.process.wait()
        stop.set()
        for client in clients:
            client.join()
    assert len(answered) >= 500, "the gate answered too few checks to test a kill"
    stored = {r.reference for r in rows(engine)}
    before = [ref for at, ref in answered if at < killed_at - KILL_WINDOW]
    assert before
    assert all(ref in stored for ref in before)
    lost = [(at, ref) for at, ref in answered if ref not in stored]
    assert all(at >= killed_at - KILL_WINDOW for at, _ in lost)
    record_property("answered", len(answered))
    record_property("lost", len(lost))
    # what was written was written whole: each batch's event counts exactly its rows
    per_batch = Counter(str(r.batch) for r in rows(engine))
    assert {e["batch"]: e["inquiries"] for e in batch_events(engine)} == dict(per_batch)


def _decision(reference: str) -> Decision:
    return Decision(outcome=Outcome.ALLOWED, action="flight", reference=reference)


def _record(log: InquiryLog, provider: Any, n: int, start: int = 0) -> None:
    for i in range(start, start + n):
        log.record(
            provider, STRANGER, "flight", {}, _decision(f"ref-{i}"), at=datetime.now(UTC), asked_at=datetime.now(UTC)
        )


@pytest.fixture
def sqlite_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    yield from fresh_engine("sqlite", request, tmp_path)


def test_a_flush_the_store_refuses_is_kept_and_retried_in_order(sqlite_engine: Engine, tmp_path: Path) -> None:
    """SQLite busy (another writer holds the database): the flush fails, keeps its rows, and the
    next one writes them once, in the order they were answered."""
    engine = sqlite_engine
    build(engine, tmp_path)
    add_provider(engine, "airline", "flight")
    impatient = create_engine(engine.url, connect_args={"timeout": 0.05})
    log = InquiryLog(impatient)  # not started: the test flushes by hand
    provider = _provider_id(engine)
    _record(log, provider, 5)
    blocker = create_engine(engine.url).raw_connection()
    try:
        blocker.execute("BEGIN IMMEDIATE")
        assert log.flush_now() is False
        assert log.waiting == 5
        assert log.failures == 1
        _record(log, provider, 3, start=5)
    finally:
        blocker.rollback()
        blocker.close()
    assert log.flush_now() is True
    assert log.waiting == 0
    assert [r.reference for r in rows(engine)] == [f"ref-{i}" for i in range(8)]
    impatient.dispose()


def test_a_full_backlog_refuses_to_answer_rather_than_answer_unrecorded(engine: Engine) -> None:
    log = InquiryLog(engine, backlog=1_000)  # not started: nothing drains it
    provider = uuid.uuid4()
    _record(log, provider, 1_000)
    with pytest.raises(InquiryLogFullError) as refused:
        _record(log, provider, 1, start=1_000)
    assert refused.value.status == 503
    assert log.waiting == 1_000


def test_about_names_the_field_of_a_bad_number(engine: Engine) -> None:
    with engine.connect() as conn, pytest.raises(FieldError) as error:
        about(conn, "12345")
    assert error.value.field == "id_number"


def test_the_log_is_append_only(engine: Engine, tmp_path: Path) -> None:
    build(engine, tmp_path)
    add_provider(engine, "airline", "flight")
    log = InquiryLog(engine)
    _record(log, _provider_id(engine), 1)
    assert log.flush_now()
    assert log.move_now() == 1  # out of the staging table (tests/functional/test_inquiry_move.py)
    for statement in ("UPDATE inquiries SET decision = 'allowed'", "DELETE FROM inquiries"):
        with pytest.raises(Exception, match="append-only"), engine.begin() as conn:
            conn.execute(text(statement))
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(Inquiry)).scalar_one() == 1


def _provider_id(engine: Engine) -> uuid.UUID:
    with engine.connect() as conn:
        return conn.execute(select(Provider.id).limit(1)).scalar_one()
