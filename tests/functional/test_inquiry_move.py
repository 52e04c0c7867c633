"""The inquiry log's two tables: flushes append to ``inquiries_staged``, a move takes the staged
rows into ``inquiries`` sorted by key. Nothing is lost or doubled by a crash on either side of
the move, the staging table gives a row up only once it is in ``inquiries``, and a reader sees
each inquiry exactly once at every moment, on SQLite and PostgreSQL."""

import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select, text, union_all

from credence.screening.check import Decision, Outcome
from credence.screening.inquiries import InquiryLog, about, digest
from credence.store.orm import Inquiry, Provider, StagedInquiry
from tests.common.feeds import person_id
from tests.common.gate import add_provider, url_of

PEOPLE = [person_id(date(1970, 1, 1 + day), seq=seq) for day in range(28) for seq in range(1, 8)]
# a gate worker's move, run in a process that is then killed before it can commit
CRASH_MID_MOVE = """
import os, signal, sys
from credence.screening.inquiry_move import move
from credence.store.db import make_engine

engine = make_engine(sys.argv[1])
conn = engine.connect()
conn.begin()
print(move(conn), flush=True)
os.kill(os.getpid(), signal.SIGKILL)
"""


def _record(log: InquiryLog, provider: uuid.UUID, subjects: list[str], tag: str) -> None:
    now = datetime.now(UTC)
    for i, subject in enumerate(subjects):
        decision = Decision(outcome=Outcome.ALLOWED, action="flight", reference=f"{tag}-{i}")
        log.record(provider, subject, "flight", {}, decision, at=now, asked_at=now)


def _provider(engine: Engine) -> uuid.UUID:
    add_provider(engine, "airline", "flight")
    with engine.connect() as conn:
        return conn.execute(select(Provider.id)).scalar_one()


def _ids(engine: Engine) -> tuple[list[int], list[int]]:
    """(ids in inquiries, ids staged), read in one statement: one snapshot of both tables."""
    both = union_all(
        select(Inquiry.id, text("'moved'")),
        select(StagedInquiry.id, text("'staged'")),
    )
    moved: list[int] = []
    staged: list[int] = []
    with engine.connect() as conn:
        for id_, where in conn.execute(both):
            (moved if where == "moved" else staged).append(id_)
    return moved, staged


def _count(engine: Engine, model: type[Inquiry | StagedInquiry]) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(model)).scalar_one()


def _shown(engine: Engine, subject: str) -> list[str | None]:
    with engine.connect() as conn:
        return sorted(str(row.reference) for row in about(conn, subject))


def test_a_move_takes_every_staged_row_once_in_key_order_with_its_id(engine: Engine) -> None:
    log = InquiryLog(engine)  # not started: the test flushes and moves by hand
    provider = _provider(engine)
    _record(log, provider, PEOPLE * 2, "a")
    assert log.flush_now()
    moved, staged = _ids(engine)
    assert not moved
    assert len(staged) == 2 * len(PEOPLE)
    before = {subject: _shown(engine, subject) for subject in PEOPLE[:5]}
    assert all(len(shown) == 2 for shown in before.values())  # shown the moment it is flushed

    assert log.move_now() == len(staged)
    moved_ids, still = _ids(engine)
    assert not still
    assert sorted(moved_ids) == sorted(staged)  # each row once, under the id it was staged with
    assert {subject: _shown(engine, subject) for subject in PEOPLE[:5]} == before
    with engine.connect() as conn:
        keys = conn.execute(select(Inquiry.number_sha256)).scalars().all()
    assert Counter(keys) == Counter(digest(p) for p in PEOPLE * 2)
    assert log.move_now() == 0  # nothing left to move

    # later flushes get ids above every moved row's, and move the same way
    _record(log, provider, PEOPLE[:3], "b")
    assert log.flush_now()
    _, staged_later = _ids(engine)
    assert min(staged_later) > max(moved_ids)
    assert log.move_now() == 3
    assert _count(engine, Inquiry) == 2 * len(PEOPLE) + 3


def test_the_staging_table_gives_a_row_up_only_to_the_move(engine: Engine) -> None:
    log = InquiryLog(engine)
    _record(log, _provider(engine), PEOPLE[:4], "a")
    assert log.flush_now()
    refused = ["UPDATE inquiries_staged SET decision = 'restricted'", "DELETE FROM inquiries_staged"]
    if engine.dialect.name == "postgresql":
        refused.append("TRUNCATE inquiries_staged")
    for statement in refused:
        with pytest.raises(Exception, match="append-only"), engine.begin() as conn:
            conn.execute(text(statement))
    assert _count(engine, StagedInquiry) == 4
    assert log.move_now() == 4
    for statement in ("UPDATE inquiries SET decision = 'restricted'", "DELETE FROM inquiries"):
        with pytest.raises(Exception, match="append-only"), engine.begin() as conn:
            conn.execute(text(statement))
    assert _count(engine, Inquiry) == 4


def test_a_crash_mid_move_loses_nothing_and_doubles_nothing(engine: Engine, tmp_path: Path) -> None:
    """A worker killed (SIGKILL) inside its move, the rows copied and deleted but not committed:
    every row is still staged, once, and shown once; the next move (any worker's) takes them."""
    log = InquiryLog(engine)
    _record(log, _provider(engine), PEOPLE, "a")
    assert log.flush_now()
    _, staged = _ids(engine)
    shown = _shown(engine, PEOPLE[0])
    crashed = subprocess.run(  # noqa: S603 (our own interpreter and script)
        [sys.executable, "-c", CRASH_MID_MOVE, url_of(engine)], capture_output=True, text=True, timeout=120, check=False
    )
    assert crashed.returncode == -9, crashed.stderr
    assert crashed.stdout.strip() == str(len(PEOPLE))  # it had moved them all, uncommitted
    moved, still = _ids(engine)
    assert not moved
    assert sorted(still) == sorted(staged)
    assert _shown(engine, PEOPLE[0]) == shown
    assert log.move_now() == len(PEOPLE)
    moved, still = _ids(engine)
    assert sorted(moved) == sorted(staged)
    assert not still


def test_a_worker_killed_before_its_move_leaves_its_rows_staged_for_another(engine: Engine) -> None:
    """The flushing worker dies after its flush and before any move: its rows stay staged and
    shown, and another worker's move takes them once."""
    dead = InquiryLog(engine)
    provider = _provider(engine)
    _record(dead, provider, PEOPLE[:10], "dead")
    assert dead.flush_now()
    del dead  # never moves, never closes
    other = InquiryLog(engine)
    _record(other, provider, PEOPLE[:10], "other")
    assert other.flush_now()
    assert len(_shown(engine, PEOPLE[0])) == 2
    assert other.move_now() == 20
    assert len(_shown(engine, PEOPLE[0])) == 2
    assert _count(engine, StagedInquiry) == 0


def test_readers_see_each_inquiry_exactly_once_while_flushes_and_moves_run(engine: Engine) -> None:
    """Two flushing logs and two movers (as with two gate workers) for a few seconds, and a
    reader reading both tables over and over: no id twice, no id once read ever missing, every
    flush committed before a read started in it."""
    provider = _provider(engine)
    logs = [InquiryLog(engine), InquiryLog(engine)]
    stop = threading.Event()
    flushed: list[int] = []  # total rows committed, appended after each flush returns
    lock = threading.Lock()
    errors: list[BaseException] = []

    def guarded(work: Any) -> Any:
        def run() -> None:
            try:
                work()
            except BaseException as error:  # the test's thread: report it to the test
                errors.append(error)
                stop.set()

        return run

    def flushing(log: InquiryLog, tag: str) -> None:
        n = 0
        while not stop.is_set():
            _record(log, provider, [PEOPLE[(n + k) % len(PEOPLE)] for k in range(20)], f"{tag}{n}")
            assert log.flush_now()
            with lock:
                flushed.append((flushed[-1] if flushed else 0) + 20)
            n += 1

    def moving(log: InquiryLog) -> None:
        while not stop.is_set():
            log.move_now()
            time.sleep(0.01)

    threads = [
        threading.Thread(target=guarded(lambda log=log, i=i: flushing(log, f"w{i}-"))) for i, log in enumerate(logs)
    ]
    threads += [threading.Thread(target=guarded(lambda log=log: moving(log))) for log in logs]
    for thread in threads:
        thread.start()
    seen: set[int] = set()
    reads = moves_seen = 0
    deadline = time.monotonic() + 4
    try:
        while time.monotonic() < deadline and not stop.is_set():
            with lock:
                committed = flushed[-1] if flushed else 0
            moved, staged = _ids(engine)
            ids = moved + staged
            assert len(ids) == len(set(ids)), "an inquiry read twice"
            assert seen <= set(ids), "an inquiry read before is missing"
            assert len(ids) >= committed, "a flushed inquiry is missing"
            seen = set(ids)
            reads += 1
            moves_seen += bool(moved and staged)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=60)
    assert not errors, errors
    assert reads > 10
    assert moves_seen, "no read caught rows in both tables: the test did not exercise the move"
    logs[0].move_now()
    moved, staged = _ids(engine)
    assert not staged
    assert len(moved) == flushed[-1]
