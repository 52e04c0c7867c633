"""open_registry: a bad or unreachable URL is one line naming it; a current registry opens without
a write or the writer lock; an outdated one is migrated under the lock, once."""

import hashlib
import socket
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from credence.exc import CredenceError, WriterBusyError
from credence.store.db import make_engine
from credence.store.lock import writer
from credence.store.registry import connect, is_current, open_registry
from tests.conftest import PG_ADMIN, _pg_admin, _pg_url


def closed_port() -> int:
    """A local port nothing listens on (bound and released, so no server has it)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def refusal(url: str) -> str:
    with pytest.raises(CredenceError) as err:
        open_registry(url)
    assert "\n" not in err.value.detail
    assert err.type is CredenceError
    return err.value.detail


def test_a_string_that_is_not_a_url() -> None:
    detail = refusal("credence.db")
    assert detail.startswith("database URL 'credence.db' is not a URL; expected e.g. sqlite:///")


def test_an_unknown_store() -> None:
    detail = refusal("mysql://user:secret@localhost/credence")
    assert detail.startswith("database URL mysql://user:***@localhost/credence: unknown store 'mysql'")
    assert "secret" not in detail


def test_a_sqlite_file_in_a_folder_that_does_not_exist(tmp_path: Path) -> None:
    missing = tmp_path / "nonexistent" / "dir"
    detail = refusal(f"sqlite:///{missing}/x.db")
    assert detail == f"database URL sqlite:///{missing}/x.db: folder {missing} does not exist; create it or fix the URL"
    assert not missing.exists()


def test_a_sqlite_path_that_is_a_folder(tmp_path: Path) -> None:
    assert "cannot open the file" in refusal(f"sqlite:///{tmp_path}")


def test_an_unreachable_server() -> None:
    detail = refusal(f"postgresql://credence:secret@127.0.0.1:{closed_port()}/registry")
    assert detail.startswith("database URL postgresql://credence:***@127.0.0.1:")
    assert "the server is unreachable" in detail
    assert "secret" not in detail


@pytest.mark.postgres
def test_a_postgresql_database_that_does_not_exist() -> None:
    _pg_admin().close()  # skips (or fails in CI) without a server
    url = _pg_url("credence_no_such_database").replace("postgres@", "postgres:secret@", 1)
    detail = refusal(url)
    assert "secret" not in detail
    assert detail == (
        f"database URL {url.replace(':secret', ':***')}: database 'credence_no_such_database' does not exist"
        " on the server; create it (createdb credence_no_such_database) or fix the URL"
    )
    assert PG_ADMIN  # the admin URL's server is the one asked


def test_a_current_registry_opens_without_the_lock_and_writes_nothing(engine: Engine) -> None:
    url = engine.url.render_as_string(hide_password=False)
    assert is_current(engine)
    database = engine.url.database or ""
    before = hashlib.sha256(Path(database).read_bytes()).hexdigest() if engine.dialect.name == "sqlite" else ""
    with writer(engine, command="credence ingest", wait=0):  # another writer is at work
        open_registry(url, wait=0).dispose()
    if engine.dialect.name == "sqlite":
        engine.dispose()
        assert hashlib.sha256(Path(database).read_bytes()).hexdigest() == before


def test_an_outdated_registry_waits_for_the_writer_lock(engine: Engine) -> None:
    url = engine.url.render_as_string(hide_password=False)
    with engine.begin() as conn:
        conn.execute(text("UPDATE sources SET name = 'renamed' WHERE id = 'court'"))
    assert not is_current(engine)
    with writer(engine, command="credence ingest", wait=0), pytest.raises(WriterBusyError) as busy:
        open_registry(url, wait=0.5)
    assert (busy.value.holder or "").startswith("credence ingest (pid ")
    assert not is_current(engine)
    open_registry(url, wait=0).dispose()  # the lock is free: it syncs the catalogue
    assert is_current(engine)


def test_connect_checks_without_migrating(tmp_path: Path) -> None:
    made = connect(f"sqlite:///{tmp_path / 'new.db'}")
    try:
        assert not is_current(made)
    finally:
        made.dispose()
    fresh = make_engine(f"sqlite:///{tmp_path / 'new.db'}")
    with fresh.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM sqlite_master WHERE type = 'table'")).scalar_one() == 0
    fresh.dispose()
