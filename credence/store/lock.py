"""One writer at a time: a registry-wide lock held for the whole of a writing command.

PostgreSQL: a session-level advisory lock on a connection of its own, so the server releases it
when the holder's process dies or its connection drops. SQLite file: an OS lock (flock, through
``filelock``) on ``<database>.lock`` beside the database, which the kernel releases when the
holder dies, even on SIGKILL; who holds it is written to ``<database>.writer`` for the refusal to
name. In-memory SQLite belongs to one process and needs no lock.

Readers take no lock: SQLite's WAL and PostgreSQL's MVCC let them read while a writer writes.
The holder is described by command, process id and start time only, never by personal data.
"""

import json
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

from filelock import FileLock, Timeout
from sqlalchemy import Connection, Engine, text

from credence.exc import WriterBusyError

# pg_try_advisory_lock(int4, int4): the first key names the application ("CRED" in ASCII), the
# second the lock, so another application's advisory locks in the same database never collide.
PG_KEYS = (0x43524544, 1)
POLL = 0.2  # seconds between attempts while waiting


@dataclass(frozen=True, slots=True)
class Holder:
    """Who holds the lock: what a refusal tells the user."""

    command: str
    pid: int | None
    since: datetime | None

    def describe(self) -> str:
        pid = f" (pid {self.pid})" if self.pid is not None else ""
        since = f" since {self.since:%Y-%m-%d %H:%M:%S} UTC" if self.since is not None else ""
        return f"{self.command}{pid}{since}"


class WriterLock(Protocol):
    def try_acquire(self) -> bool:
        """Take the lock if it is free; never blocks."""

    def release(self) -> None:
        """Give the lock back if this process holds it, and free what the attempts used."""

    def holder(self) -> Holder | None:
        """Who holds the lock now, as far as can be told."""


class _NoLock:
    """In-memory SQLite: no other process can reach the database."""

    def try_acquire(self) -> bool:
        return True

    def release(self) -> None:
        return None

    def holder(self) -> Holder | None:
        return None


class _FileWriterLock:
    def __init__(self, database: Path, *, command: str) -> None:
        self.command = command
        self.lock = FileLock(
            database.with_name(database.name + ".lock"),
            thread_local=False,
            fallback_to_soft=False,  # a soft lock would outlive a killed holder
        )
        self.about = database.with_name(database.name + ".writer")
        self.held = False

    def try_acquire(self) -> bool:
        try:
            self.lock.acquire(timeout=0)
        except Timeout:
            return False
        self.held = True
        mine = {"command": self.command, "pid": os.getpid(), "since": datetime.now(UTC).isoformat()}
        partial = self.about.with_name(f"{self.about.name}.{os.getpid()}")
        partial.write_text(json.dumps(mine), encoding="utf-8")
        os.replace(partial, self.about)  # a reader never sees half a file
        return True

    def release(self) -> None:
        if not self.held:
            return
        # Forget the holder first, so that the file never names a process that has let go.
        self.about.unlink(missing_ok=True)
        self.lock.release()
        self.held = False

    def holder(self) -> Holder | None:
        try:
            about = json.loads(self.about.read_text("utf-8"))
            return Holder(about["command"], int(about["pid"]), datetime.fromisoformat(about["since"]))
        except (OSError, ValueError, KeyError, TypeError):
            return None  # the holder has not written it yet


class _AdvisoryLock:
    def __init__(self, engine: Engine, *, command: str) -> None:
        self.engine = engine
        self.command = command
        self.conn: Connection | None = None
        self.held = False

    def _connection(self) -> Connection:
        if self.conn is None:
            conn = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
            conn.detach()  # closing it must end the session (and so the lock), not pool it
            self.conn = conn
        return self.conn

    def try_acquire(self) -> bool:
        conn = self._connection()
        got = conn.execute(text("SELECT pg_try_advisory_lock(:a, :b)"), dict(zip("ab", PG_KEYS, strict=True)))
        if not got.scalar_one():
            return False
        self.held = True
        # application_name keeps 63 bytes: the command comes last, so only it is cut.
        name = f"credence-writer {os.getpid()} {int(time.time())} {self.command}"[:63]
        conn.execute(text("SELECT set_config('application_name', :name, false)"), {"name": name})
        return True

    def release(self) -> None:
        if self.conn is None:
            return
        if self.held:
            with suppress(Exception):  # ending the session below releases the lock in any case
                self.conn.execute(text("SELECT pg_advisory_unlock(:a, :b)"), dict(zip("ab", PG_KEYS, strict=True)))
        self.conn.close()
        self.conn, self.held = None, False

    def holder(self) -> Holder | None:
        name = (
            self._connection()
            .execute(
                text(
                    "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid"
                    " WHERE l.locktype = 'advisory' AND l.granted AND l.classid = :a AND l.objid = :b"
                    " AND l.objsubid = 2"
                    " AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())"
                ),
                dict(zip("ab", PG_KEYS, strict=True)),
            )
            .scalar()
        )
        parts = (name or "").split(" ", 3)
        if len(parts) < 4 or parts[0] != "credence-writer" or not (parts[1] + parts[2]).isdigit():
            return None
        return Holder(parts[3], int(parts[1]), datetime.fromtimestamp(int(parts[2]), UTC))


def writer_lock(engine: Engine, *, command: str) -> WriterLock:
    """The writer lock of the registry behind ``engine``, not yet taken."""
    url = engine.url
    if engine.dialect.name == "postgresql":
        return _AdvisoryLock(engine, command=command)
    database = url.database or ""
    if database in ("", ":memory:") or url.query.get("mode") == "memory":
        return _NoLock()
    return _FileWriterLock(Path(database).absolute(), command=command)


def busy(lock: WriterLock) -> WriterBusyError:
    holder = lock.holder()
    return WriterBusyError(holder.describe() if holder is not None else None)


@contextmanager
def writer(engine: Engine, *, command: str, wait: float) -> Iterator[None]:
    """Hold the registry's writer lock for the block.

    Args:
        engine: the registry.
        command: who is writing, e.g. ``"credence ingest"``; shown to a writer that is refused.
        wait: seconds to wait for the lock; 0 refuses at once if another writer holds it.

    Raises:
        WriterBusyError: another writer held the lock for all of ``wait``.
    """
    lock = writer_lock(engine, command=command)
    deadline = time.monotonic() + wait
    try:
        while not lock.try_acquire():
            if time.monotonic() >= deadline:
                raise busy(lock)
            time.sleep(POLL)
        yield
    finally:
        lock.release()
