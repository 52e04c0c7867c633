"""The tests' PostgreSQL databases: the admin connection, names, how a test database commits,
and dropping spent ones behind the tests' backs.

Every DROP DATABASE forces an immediate checkpoint on PostgreSQL 15 and waits for it: with other
tests writing, seconds each, and it was the biggest part of a PostgreSQL test's time (its
teardown). A spent database is never used again, so a thread of the worker drops it while the
next test runs; the session's end waits for the last drop. Each is still dropped as soon as it
is spent: its own dirty pages are then thrown away unwritten, whereas keeping spent databases
for a batch of drops later made every checkpoint write them too (measured: slower).
"""

import itertools
import os
import queue
import threading
import warnings

import psycopg
import pytest

ADMIN = os.environ.get("CREDENCE_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
# here, not in conftest: test modules import conftest a second time as ``tests.conftest``, with
# a counter of its own
_made = itertools.count()


def admin() -> psycopg.Connection:
    """An autocommit connection to the admin database; skips (fails in CI) without a server."""
    try:
        return psycopg.connect(ADMIN, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as err:
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL is unreachable in CI: {err}")
        pytest.skip(f"PostgreSQL unreachable: {err}")


def unique(prefix: str) -> str:
    """A database name that no other test of this run, nor another worker, uses."""
    return f"{prefix}_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}_{os.getpid()}_{next(_made)}"


def url(name: str) -> str:
    return ADMIN.rsplit("/", 1)[0] + f"/{name}"


def fast_commits(conn: psycopg.Connection, name: str) -> None:
    """Let commits in ``name`` return before their WAL reaches the disk (no fsync per commit).
    Tests commit often and never crash the server, the one case this changes: what other
    sessions see, and when, stays as it was. A database's settings are not copied from its
    template, so each test database is told."""
    conn.execute(f"ALTER DATABASE {name} SET synchronous_commit = off")


_spent: "queue.Queue[str | None]" = queue.Queue()
_dropper: list[threading.Thread] = []


def _drop_spent() -> None:
    with psycopg.connect(ADMIN, autocommit=True, connect_timeout=3) as conn:
        while (name := _spent.get()) is not None:
            try:
                conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            except psycopg.Error as err:  # a database left behind fails no test
                warnings.warn(f"could not drop {name}: {err}", stacklevel=1)


def drop(name: str) -> None:
    """Drop ``name`` soon, ending any connection still open to it; returns at once."""
    if not _dropper:
        _dropper.append(threading.Thread(target=_drop_spent, name="drop-databases", daemon=True))
        _dropper[0].start()
    _spent.put(name)


def dropped() -> None:
    """Wait until every database given to ``drop`` is gone (the session's end)."""
    if _dropper:
        _spent.put(None)
        _dropper.pop().join()
