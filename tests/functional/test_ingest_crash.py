"""A real ``credence ingest`` killed with SIGKILL at several points, then run again, leaves
exactly the state of one clean run: the same record versions, quarantine rows, derived rows and
events (internal ids and transaction times aside, see ``tests.common.state``). On both stores.

The test watches the registry from outside, as an operator would, and kills the process when it
sees the point it wants (the first batch committed, a big file half read, every file read and
the refresh of derived state under way), or after a fixed time.
"""

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import Connection, Engine, func, select

from credence.cli.context import today
from credence.store.orm import FeedLoad, Record
from credence.synth.feeds import generate
from tests.common.state import State, differences, snapshot

ROOT = Path(__file__).resolve().parents[2]
CREDENCE = Path(sys.executable).parent / "credence"
FEEDS = 8  # mapping files in connectors/, each with its feed
QUASHED = "PSB-QUASHED-1"
Condition = Callable[[Connection], bool]


@pytest.fixture(scope="module")
def feeds(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("feeds")
    generate(out, people=800, seed=7, today=today())
    police = out / "police.jsonl"
    lines = police.read_text("utf-8").splitlines(keepends=True)
    fine = json.loads(next(line for line in lines if '"traffic"' in line))
    fine["event_id"] = QUASHED
    # a fine early in the file, quashed on appeal at its end
    lines.insert(1, json.dumps(fine) + "\n")
    lines.append(json.dumps({**fine, "withdrawn": True}) + "\n")
    police.write_text("".join(lines), "utf-8")
    return out


def url_of(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def start(engine: Engine, feeds: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "CREDENCE_DATABASE_URL": url_of(engine), "CREDENCE_INGEST_BATCH": "300"}
    return subprocess.Popen(  # noqa: S603 - our own entry point, fixed arguments
        [str(CREDENCE), "ingest", "--feeds", str(feeds), "--connectors", str(ROOT / "connectors")],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def run(engine: Engine, feeds: Path) -> None:
    process = start(engine, feeds)
    out, err = process.communicate(timeout=300)
    assert process.returncode == 0, (out + err).decode()


def kill_when(engine: Engine, feeds: Path, condition: Condition) -> None:
    """Start an ingest and SIGKILL it as soon as ``condition`` holds in the registry."""
    process = start(engine, feeds)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        with engine.connect() as conn:
            if condition(conn):
                break
        assert process.poll() is None, "the ingest ended before the point to kill it at"
        time.sleep(0.005)
    process.send_signal(signal.SIGKILL)
    process.communicate(timeout=60)
    assert process.returncode == -signal.SIGKILL


def records(conn: Connection) -> int:
    return int(conn.execute(select(func.count()).select_from(Record)).scalar_one())


def finished(conn: Connection) -> int:
    return int(
        conn.execute(select(func.count()).select_from(FeedLoad).where(FeedLoad.finished_at.is_not(None))).scalar_one()
    )


def police_half_read(conn: Connection) -> bool:
    row = conn.execute(
        select(FeedLoad.rows).where(FeedLoad.source_id == "police", FeedLoad.finished_at.is_(None))
    ).first()
    return row is not None and row.rows >= 600


def elapsed(seconds: float) -> Condition:
    started = time.monotonic()
    return lambda _conn: time.monotonic() - started >= seconds


# each takes the seconds a clean run took on this store: a fixed delay was sometimes past the
# end of a quick run (nothing left to kill) and sometimes before the first batch of a slow one
KILL_POINTS: dict[str, Callable[[float], Condition]] = {
    "first batch committed": lambda _took: lambda conn: records(conn) > 0,
    "police feed half read": lambda _took: police_half_read,
    "every file read, derived state being refreshed": lambda _took: lambda conn: finished(conn) == FEEDS,
    "halfway through a clean run's time": lambda took: elapsed(took / 2),
}

_clean: dict[str, State] = {}
_took: dict[str, float] = {}


@pytest.fixture
def clean(new_engine: Callable[[], Engine], feeds: Path, request: pytest.FixtureRequest) -> State:
    """The state of one clean run on this store (made once per store and process)."""
    store = request.node.callspec.params["new_engine"]
    if store not in _clean:
        engine = new_engine()
        started = time.monotonic()
        run(engine, feeds)
        _took[store] = time.monotonic() - started
        _clean[store] = snapshot(engine)
    return _clean[store]


@pytest.mark.parametrize("point", list(KILL_POINTS))
def test_a_killed_ingest_run_again_converges_to_a_clean_run(
    new_engine: Callable[[], Engine], feeds: Path, clean: State, point: str, request: pytest.FixtureRequest
) -> None:
    engine = new_engine()
    kill_when(engine, feeds, KILL_POINTS[point](_took[request.node.callspec.params["new_engine"]]))
    assert differences(snapshot(engine), clean) != {}, "killed too late: nothing was left to do"
    run(engine, feeds)
    assert differences(snapshot(engine), clean) == {}


def test_killed_twice_then_run_again_converges_to_a_clean_run(
    new_engine: Callable[[], Engine], feeds: Path, clean: State
) -> None:
    engine = new_engine()
    kill_when(engine, feeds, lambda conn: records(conn) > 0)
    kill_when(engine, feeds, police_half_read)
    run(engine, feeds)
    assert differences(snapshot(engine), clean) == {}


def test_a_reingest_killed_midway_leaves_the_clean_state(
    new_engine: Callable[[], Engine], feeds: Path, clean: State
) -> None:
    """The case first seen: a fine quashed on appeal (assert, then retract) came back in force."""
    engine = new_engine()
    run(engine, feeds)
    assert differences(snapshot(engine), clean) == {}
    process = start(engine, feeds)
    time.sleep(1.2)
    process.send_signal(signal.SIGKILL)
    process.communicate(timeout=60)
    assert differences(snapshot(engine), clean) == {}
    run(engine, feeds)
    assert differences(snapshot(engine), clean) == {}
    with engine.connect() as conn:
        versions = conn.execute(
            select(Record.version, Record.op).where(Record.source_record_id == QUASHED).order_by(Record.version)
        ).all()
    assert [tuple(v) for v in versions] == [(1, "assert"), (2, "retract")]
