"""The gate as a user runs it: a registry built through the real ingest path, provider keys made
with ``credence providers add``, and ``credence serve`` as a subprocess on a free port."""

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine

from tests.common.feeds import Registry, listed_debtor, person_id

CREDENCE = Path(sys.executable).parent / "credence"
DEBTOR = person_id(date(1981, 3, 9), seq=411)
STRANGER = person_id(date(1990, 1, 1), seq=5)
KEY = re.compile(r"^cr_[0-9a-f]{10}_[A-Za-z0-9_-]{43}$", re.MULTILINE)
START_TIMEOUT = 180.0  # seconds: two workers importing FastAPI on a busy two-core machine, maybe twice over under xdist


def url_of(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def build(engine: Engine, tmp: Path) -> Registry:
    """A registry where DEBTOR is a listed defaulter from 2025-06-01 on and STRANGER is unknown."""
    return listed_debtor(engine, tmp, DEBTOR)


@dataclass(frozen=True)
class Ran:
    returncode: int
    stdout: str
    stderr: str


def credence(engine: Engine, *args: str, check: bool = True) -> Ran:
    """The ``credence`` command against ``engine``'s registry, in-process through Typer's
    CliRunner (the command group's error handling included): a subprocess costs seconds of
    imports per call on these machines."""
    from typer.testing import CliRunner

    from credence.cli import app
    from credence.cli.context import console
    from credence.settings import get_settings

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CREDENCE_DATABASE_URL", url_of(engine))
        patch.setattr(console, "width", 400)  # keep Rich from cutting table cells, whatever the terminal
        get_settings.cache_clear()
        try:
            result = CliRunner().invoke(app, list(args))
        finally:
            get_settings.cache_clear()
    ran = Ran(result.exit_code, result.stdout, result.stderr)
    if check:
        assert ran.returncode == 0, ran.stdout + ran.stderr + repr(result.exception)
    return ran


def add_provider(engine: Engine, name: str, actions: str, *, rate: str = "1000/s") -> str:
    """``credence providers add``; the key it prints once."""
    done = credence(engine, "providers", "add", name, "--actions", actions, "--rate", rate)
    found = KEY.search(done.stdout)
    assert found, done.stdout
    return found.group(0)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass(frozen=True)
class Served:
    base: str
    engine: Engine
    process: subprocess.Popen[str]
    log: Path

    def post(self, body: object, *, key: str | None, **kwargs: object) -> httpx.Response:
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        # a fresh connection each time, so that requests spread over the workers as a crowd's would
        return httpx.post(f"{self.base}/v1/checks", json=body, headers=headers, timeout=30, **kwargs)  # type: ignore[arg-type]


@contextmanager
def serve(engine: Engine, tmp: Path, *, workers: int = 1, env: dict[str, str] | None = None) -> Iterator[Served]:
    """``credence serve`` on a free port until the block ends (with ``env`` added to its
    environment); waits until /readyz answers."""
    port = free_port()
    env = {**os.environ, "CREDENCE_DATABASE_URL": url_of(engine), "CREDENCE_LOG_LEVEL": "WARNING", **(env or {})}
    log_path = tmp / f"serve-{port}.log"
    log = log_path.open("w")
    process = subprocess.Popen(  # noqa: S603 - our own entry point
        [str(CREDENCE), "serve", "--port", str(port), "--workers", str(workers)],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env,
        text=True,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            assert process.poll() is None, log_path.read_text()
            try:
                if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "credence serve did not become ready"
            time.sleep(0.2)
        yield Served(base, engine, process, log_path)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        log.close()


def now() -> datetime:
    return datetime.now(UTC)


@contextmanager
def registry_for_module(store: str, template: str | Path, tmp: Path) -> Iterator[Engine]:
    """A fresh registry that lives as long as a test module: a copy of the session's migrated
    SQLite template, or a PostgreSQL database made from its template (as conftest's fixtures do,
    but for a server shared by a module's tests)."""
    import shutil

    import psycopg

    from credence.store.db import make_engine
    from tests.common import databases

    if store == "sqlite":
        path = tmp / "gate.db"
        shutil.copy(template, path)
        engine = make_engine(f"sqlite:///{path}")
        try:
            yield engine
        finally:
            engine.dispose()
        return
    admin_url = os.environ.get("CREDENCE_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
    name = f"credence_gate_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}_{os.getpid()}_{tmp.name}"[:63]
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name} TEMPLATE {template}")
        databases.fast_commits(admin, name)
    engine = make_engine(admin_url.rsplit("/", 1)[0] + f"/{name}")
    try:
        yield engine
    finally:
        engine.dispose()
        databases.drop(name)
