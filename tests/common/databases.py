"""The tests' PostgreSQL databases: the admin connection, and dropping spent ones in batches.

PostgreSQL (15) forces an immediate checkpoint on every DROP DATABASE, so that the checkpointer
forgets the dropped files. While other tests write, each such checkpoint flushes their pages
too and takes up to seconds; and the dropping transaction's id holds back every test's log
horizon meanwhile (``pg_snapshot_xmin`` is cluster-wide; see tests/common/log.py). Dropped one at
a time after each test, that was most of a PostgreSQL test's time. A worker's spent databases
are dropped ``BATCH`` at a time instead: the first drop of a batch flushes, the others find
little to flush. A spent database is never used again, so when it goes changes no test.
"""

import itertools
import os

import psycopg
import pytest

ADMIN = os.environ.get("CREDENCE_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
BATCH = 25  # databases of a few MB each: a worker keeps at most this many spent ones
_spent: list[str] = []
# here, not in conftest: test modules import conftest again as ``tests.conftest``, with a counter
# of its own, and a name must not come round again while its database waits to be dropped
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
    """A database name no other test of this run uses (nor another worker's, nor a run's at once)."""
    return f"{prefix}_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}_{os.getpid()}_{next(_made)}"


def url(name: str) -> str:
    return ADMIN.rsplit("/", 1)[0] + f"/{name}"


def fast_commits(conn: psycopg.Connection, name: str) -> None:
    """Let commits in ``name`` return before their WAL reaches the disk. Tests commit often and
    never crash the server, the only case this changes: what other sessions see, and when,
    stays as it was (a database's settings are not copied from its template)."""
    conn.execute(f"ALTER DATABASE {name} SET synchronous_commit = off")


def drop_later(name: str) -> None:
    """Drop ``name`` with the next batch (its connections are ended then, if any are left)."""
    _spent.append(name)
    if len(_spent) >= BATCH:
        drop_spent()


def drop_spent() -> None:
    """Drop every spent database now (a session's end calls this)."""
    if not _spent:
        return
    with psycopg.connect(ADMIN, autocommit=True, connect_timeout=3) as conn:
        while _spent:
            conn.execute(f"DROP DATABASE IF EXISTS {_spent.pop()} WITH (FORCE)")
