"""One writer at a time, through the real CLI: concurrent writers wait or stop with one line,
processes that start together migrate once, readers work while a writer holds the lock, and a
killed holder's lock is free again. On SQLite and PostgreSQL; each test has a registry of its own.

The installed entry point runs as real subprocesses (each spends seconds importing); the test
process holds the lock itself with ``credence.store.lock.writer`` where it plays the other writer.
"""

import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, func, inspect, select, text

from credence.cli.context import today
from credence.exc import WriterBusyError
from credence.store.db import alembic_config, make_engine
from credence.store.lock import writer
from credence.store.orm import Event, Listing, Quarantine, Record, ScoreInterval, Source, Subject
from credence.store.registry import catalogue
from tests.common import databases
from tests.conftest import STORES, WORKER, _pg_admin, _pg_url, fresh_engine

ROOT = Path(__file__).resolve().parents[2]
CREDENCE = Path(sys.executable).parent / "credence"
TIMEOUT = 180  # seconds for one command; a 300-person ingest takes a few
BUSY = "another writer is running"
_names = iter(range(10**6))


def credence(*args: str, url: str, wait: float | None = None) -> "subprocess.Popen[str]":
    env = {**os.environ, "CREDENCE_DATABASE_URL": url, "COLUMNS": "400"}
    env.pop("CREDENCE_WRITER_WAIT", None)
    if wait is not None:
        env["CREDENCE_WRITER_WAIT"] = str(wait)
    return subprocess.Popen(  # noqa: S603 - our own entry point, fixed arguments
        [str(CREDENCE), *args], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def outcome(process: "subprocess.Popen[str]") -> tuple[int, str, str]:
    stdout, stderr = process.communicate(timeout=TIMEOUT)
    assert "Traceback" not in stderr, stderr
    return process.returncode, stdout, stderr


def ok(process: "subprocess.Popen[str]") -> str:
    code, stdout, stderr = outcome(process)
    assert code == 0, stderr
    return stdout


def refused(process: "subprocess.Popen[str]", *, holder: str) -> None:
    """The one line of a writer that found another at work, and its exit status."""
    code, _, stderr = outcome(process)
    assert code == 75, stderr
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    assert lines[0].startswith(f"{BUSY}: {holder} (pid "), lines[0]
    assert " since 20" in lines[0]
    assert " UTC; " in lines[0]
    assert "CREDENCE_WRITER_WAIT" in lines[0]


def url_of(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def _blank(store: str, tmp_path: Path) -> Iterator[str]:
    """The URL of an empty database: no schema, nothing migrated."""
    if store == "sqlite":
        yield f"sqlite:///{tmp_path / f'blank-{next(_names)}.db'}"
        return
    name = f"credence_lock_{WORKER}_{os.getpid()}_{next(_names)}"
    with _pg_admin() as admin:
        admin.execute(f"CREATE DATABASE {name}")
    yield _pg_url(name)
    databases.drop(name)


@pytest.fixture(params=STORES)
def blank(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[list[str]]:
    """Two empty databases on one store: the one under test and one for a clean run."""
    made = [_blank(request.param, tmp_path), _blank(request.param, tmp_path)]
    yield [next(gen) for gen in made]
    for gen in made:
        next(gen, None)


@pytest.fixture(params=STORES)
def migrated(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """A registry at the newest schema, with the source catalogue and nothing loaded."""
    yield from fresh_engine(request.param, request, tmp_path)


@pytest.fixture(scope="module")
def feeds(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("feeds")
    ok(credence("generate", "--people", "300", "--out", str(out), url="sqlite://"))
    return out


def state(url: str) -> dict[str, object]:
    """What a load leaves: row counts, the tables and the migration the registry is at."""
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            counted = {
                table.__tablename__: conn.execute(select(func.count()).select_from(table)).scalar_one()
                for table in (Record, Subject, Quarantine, Event, Listing, ScoreInterval, Source)
            }
            versions = conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
        tables = sorted(inspect(engine).get_table_names())
    finally:
        engine.dispose()
    return {**counted, "tables": tables, "alembic_version": versions}


def head(url: str) -> list[str]:
    engine = make_engine(url)
    try:
        return list(ScriptDirectory.from_config(alembic_config(engine)).get_heads())
    finally:
        engine.dispose()


def test_two_ingests_started_together_on_a_fresh_registry(blank: list[str], feeds: Path) -> None:
    url, clean = blank
    ok(credence("ingest", "--feeds", str(feeds), url=clean))
    expected = state(clean)
    assert expected["records"], "the clean run loaded nothing"

    both = [credence("ingest", "--feeds", str(feeds), url=url) for _ in range(2)]
    results = [outcome(p) for p in both]
    codes = sorted(code for code, _, _ in results)
    found = state(url)

    assert found["alembic_version"] == head(url)  # migrated once: one row, at head
    assert found["tables"] == expected["tables"]
    assert found["sources"] == len(catalogue())
    if codes == [0, 75]:
        # The usual case: the second found the first at work and stopped with the one line.
        loser = next(p for p, (code, _, _) in zip(both, results, strict=True) if code == 75)
        _, _, stderr = results[both.index(loser)]
        assert stderr.strip().startswith(f"{BUSY}: credence ingest (pid "), stderr
        assert len(stderr.strip().splitlines()) == 1, stderr
        assert found == expected
    else:
        # The second started only after the first had finished (a slow start): it read the same
        # feeds again, which changes nothing.
        assert codes == [0, 0], results
        assert found == expected


def test_two_ingests_started_together_that_may_wait_both_end_cleanly(blank: list[str], feeds: Path) -> None:
    url, clean = blank
    ok(credence("ingest", "--feeds", str(feeds), url=clean))
    expected = state(clean)
    for process in [credence("ingest", "--feeds", str(feeds), url=url, wait=120) for _ in range(2)]:
        ok(process)
    found = state(url)
    assert found["alembic_version"] == head(url)
    assert found["tables"] == expected["tables"]
    # The second waited its turn, then read the same feeds again, which changes nothing.
    assert found == expected


def test_two_upgrades_started_together_migrate_once(blank: list[str]) -> None:
    url, _ = blank
    both = [credence("db", "upgrade", url=url) for _ in range(2)]
    for process in both:
        assert "schema is at the newest migration" in ok(process)
    found = state(url)
    assert found["alembic_version"] == head(url)
    assert found["sources"] == len(catalogue())
    assert found["records"] == found["subjects"] == found["events"] == 0


def test_readers_work_while_a_writer_holds_the_lock(migrated: Engine, feeds: Path) -> None:
    url = url_of(migrated)
    first = today()
    ok(credence("ingest", "--feeds", str(feeds), url=url))
    # scored on the legal date the ingest ran: held on the days it started and ended, whichever it was
    held = ScoreInterval.holds(first) & ScoreInterval.holds(today())
    with migrated.connect() as conn:
        number = conn.execute(
            select(Subject.id_number)
            .join(ScoreInterval, ScoreInterval.subject_id == Subject.id)
            .where(held)
            .order_by(Subject.id_number)
            .limit(1)
        ).scalar_one()
    before = state(url)
    with writer(migrated, command="credence ingest", wait=0):
        readers = [
            credence("explain", number, "--json", url=url),
            credence("check", number, "rail_ticket", "train_type=G", "seat_class=second", url=url),
            credence("report", url=url),
            credence("quarantine", url=url),
            credence("db", "upgrade", url=url),  # nothing to migrate: no lock needed
            credence("score", "--dry-run", url=url),
        ]
        # each ends with status 0 while the lock is still held: one that needed the lock would
        # have stopped with status 75 (or waited out a migration's 60 s and then stopped)
        outputs = [ok(p) for p in readers]
    assert number not in outputs[0]  # explain --json names the internal id only
    assert "allowed" in outputs[1] or "restricted" in outputs[1]
    assert "dry run: nothing written" in outputs[5]
    assert state(url) == before  # the readers wrote nothing


@pytest.mark.parametrize(
    "command",
    [
        ["ingest", "--feeds", "FEEDS"],
        ["ingest", "--replay"],
        ["score"],
        ["score", "--engine", "store"],
        ["demo", "--people", "300", "--feeds", "FEEDS"],
    ],
    ids=["ingest", "replay", "score", "score-store", "demo"],
)
def test_a_writer_stops_at_once_while_another_holds_the_lock(
    migrated: Engine, feeds: Path, tmp_path: Path, command: list[str]
) -> None:
    url = url_of(migrated)
    args = [str(tmp_path / "demo-feeds") if a == "FEEDS" and command[0] == "demo" else a for a in command]
    args = [str(feeds) if a == "FEEDS" else a for a in args]
    before = state(url)
    with writer(migrated, command="credence ingest", wait=0):
        started = time.monotonic()
        refused(credence(*args, url=url), holder="credence ingest")
        assert time.monotonic() - started < 55  # at once: start-up only, no waiting
    assert state(url) == before
    assert not (tmp_path / "demo-feeds").exists()  # the demo generated nothing either


def test_a_waiting_writer_proceeds_when_the_holder_releases(blank: list[str], feeds: Path) -> None:
    url, clean = blank
    ok(credence("ingest", "--feeds", str(feeds), url=clean))
    expected = state(clean)
    ok(credence("db", "upgrade", url=url))
    held = make_engine(url)
    try:
        with writer(held, command="credence score", wait=0):
            waiting = credence("ingest", "--feeds", str(feeds), url=url, wait=120)
            time.sleep(8)  # start-up takes seconds; by now it is waiting for the lock
            assert waiting.poll() is None, waiting.communicate()
            assert state(url)["records"] == 0
        ok(waiting)
    finally:
        held.dispose()
    assert state(url) == expected


HOLDER = textwrap.dedent(
    """
    import sys, time
    from credence.store.db import make_engine
    from credence.store.lock import writer
    with writer(make_engine(sys.argv[1]), command="credence ingest", wait=0):
        print("held", flush=True)
        time.sleep(600)
    """
)


def test_the_lock_is_free_again_when_its_holder_is_killed(migrated: Engine, feeds: Path) -> None:
    url = url_of(migrated)
    holder = subprocess.Popen(  # noqa: S603 - this interpreter, a fixed script
        [sys.executable, "-c", HOLDER, url], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(WriterBusyError) as busy, writer(migrated, command="credence score", wait=0):
            pass
        assert (busy.value.holder or "").startswith(f"credence ingest (pid {holder.pid}) since ")
        refused(credence("score", url=url), holder="credence ingest")
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.communicate(timeout=30)  # reaps it and closes its pipe
    assert holder.returncode == -signal.SIGKILL
    ok(credence("ingest", "--feeds", str(feeds), url=url))  # the next writer gets the lock
    assert state(url)["records"]
    with writer(migrated, command="credence score", wait=0):
        pass
