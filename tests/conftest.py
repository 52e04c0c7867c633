"""Fixtures: a fresh registry per test on SQLite and on PostgreSQL (a database of its own, made
from a migrated template, never the shared ``test`` database)."""

import itertools
import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hypothesis import settings
from sqlalchemy import Engine

from credence.store.db import make_engine
from credence.store.registry import open_registry
from tests.common import databases

# the served gate with sign-in (its `site` fixture); Chromium for the browser tests (`chromium`, `contexts`);
# the session's one SparkSession (`spark`)
pytest_plugins = ["tests.common.signin", "tests.common.browser", "tests.common.spark"]

settings.register_profile("ci", max_examples=50, deadline=None, print_blob=True)
settings.register_profile("dev", max_examples=20, deadline=None)
settings.load_profile("ci" if os.environ.get("CI") else os.environ.get("HYPOTHESIS_PROFILE", "dev"))

PG_ADMIN = databases.ADMIN
_pg_admin = databases.admin
_pg_url = databases.url
WORKER = os.environ.get("PYTEST_XDIST_WORKER", "main")
_counter = itertools.count()


@pytest.fixture(scope="session")
def pg_template() -> Iterator[str]:
    name = f"credence_tpl_{WORKER}_{os.getpid()}"
    with _pg_admin() as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {name}")
        admin.execute(f"CREATE DATABASE {name}")
    open_registry(_pg_url(name)).dispose()
    yield name
    databases.drop(name)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("tpl") / "template.db"
    open_registry(f"sqlite:///{path}").dispose()
    return path


def fresh_engine(store: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    if store == "sqlite":
        path = tmp_path / f"registry-{next(_counter)}.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        engine = make_engine(f"sqlite:///{path}")
        yield engine
        engine.dispose()
        return
    template = request.getfixturevalue("pg_template")
    name = databases.unique("credence_t")
    with _pg_admin() as admin:  # a run killed earlier may have left one by this name (pids are reused)
        admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.execute(f"CREATE DATABASE {name} TEMPLATE {template}")
        databases.fast_commits(admin, name)
    engine = make_engine(_pg_url(name))
    yield engine
    engine.dispose()
    databases.drop(name)


STORES = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture(params=STORES)
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    yield from fresh_engine(request.param, request, tmp_path)


@pytest.fixture(params=STORES)
def new_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[[], Engine]]:
    """A factory of fresh registries, for hypothesis examples that each need their own."""
    made: list[Iterator[Engine]] = []

    def make() -> Engine:
        gen = fresh_engine(request.param, request, tmp_path)
        made.append(gen)
        return next(gen)

    yield make
    for gen in made:
        next(gen, None)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """In CI a skipped PostgreSQL test is a failure: the suite must prove both stores."""
    databases.dropped()
    if not os.environ.get("CI"):
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = reporter.stats.get("skipped", []) if reporter else []
    if any("postgres" in getattr(r, "keywords", {}) for r in skipped):
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
