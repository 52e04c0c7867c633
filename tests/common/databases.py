"""The tests' PostgreSQL databases: the admin connection, names, and how a test database commits.

Every DROP DATABASE forces an immediate checkpoint on PostgreSQL 15, which writes out the pages
every other test has dirtied since the last one. A database is still dropped as soon as its
test ends: its own dirty pages are then thrown away unwritten, whereas keeping spent databases
for a later batch of drops made every checkpoint write them too (measured: slower).
"""

import itertools
import os

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


def drop(name: str) -> None:
    """Drop ``name``, ending any connection still open to it."""
    with psycopg.connect(ADMIN, autocommit=True, connect_timeout=3) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
