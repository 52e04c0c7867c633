"""The worker's clock: besides notices, it signs the transparency log's checkpoint as the log
grows (at most every ``Checkpointing.every``), when no other writer holds the registry."""

import threading
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from credence.audit import checkpoints
from credence.dueprocess.delivery import Channels
from credence.pipeline.clock import Checkpointing
from credence.pipeline.worker import Plan, run
from credence.store.orm import Event
from tests.common.feeds import Registry, person_id
from tests.common.log import ORIGIN, log_key
from tests.conftest import fresh_engine

DEBTOR = person_id(date(1981, 3, 9), seq=411)
SILENT = person_id(date(1975, 5, 5), seq=77)


def decision(id_number: str) -> dict[str, object]:
    attrs = {"case_number": "(2026)苏05执12号", "court": "Suzhou Intermediate People's Court", "ground": 1}
    return {
        "id_number": id_number,
        "kind": "defaulter_listing_decision",
        "date": "2026-02-05",
        "attrs": attrs,
        "region": "",
    }


def shanghai(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 2, tzinfo=UTC)


def test_the_worker_signs_a_checkpoint_of_the_log_as_it_grows(request: pytest.FixtureRequest, tmp_path: Path) -> None:
    sqlite_engine = next(fresh_engine("sqlite", request, tmp_path))
    signer, _ = log_key(tmp_path)
    signing = Checkpointing(signer=signer, origin=ORIGIN, every=timedelta(seconds=60))
    reg = Registry(sqlite_engine, tmp_path, now=shanghai(date(2026, 2, 5)))
    reg.feed("court", [decision(DEBTOR)])
    plan = Plan(poll=0.01, lease=timedelta(seconds=30), batch=50, checkpointing=signing)
    stop = threading.Event()
    first = run(sqlite_engine, Channels(), stop=stop, plan=plan, clock=lambda: reg.now, once=True)
    assert first.checkpoints == 1
    with sqlite_engine.connect() as conn:
        signed = checkpoints.latest(conn)
        assert signed is not None
        assert signed.size == conn.execute(select(func.count()).select_from(Event)).scalar_one()
    reg.feed("court", [decision(SILENT)])
    reg.now += timedelta(seconds=61)
    assert run(sqlite_engine, Channels(), stop=stop, plan=plan, clock=lambda: reg.now, once=True).checkpoints == 1
    with sqlite_engine.connect() as conn:
        assert checkpoints.checkpoint_count(conn) == 2
