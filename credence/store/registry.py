"""Open a registry by URL: check the URL, reach the store, migrate it once, sync the sources.

A registry already at the newest schema, with the shipped source catalogue in ``sources``, is
opened without a write and without the writer lock, so readers never write and never wait for
a load. Otherwise the schema is migrated and the catalogue written under the writer lock, so
processes that start together migrate once; the others wait for that and find it done.
"""

import time
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, insert, select, text, update
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError

from credence.exc import CredenceError
from credence.model import thresholds
from credence.store import lock
from credence.store.db import MIGRATIONS, make_engine, upgrade
from credence.store.orm import Quarantine, Record, Source

INSUFFICIENT_PRIVILEGE = "42501"  # PostgreSQL's SQLSTATE for a privilege refused
MIGRATION_WAIT = 60.0  # seconds: another process's migration takes seconds, a load much longer
EXAMPLES = "expected e.g. sqlite:///credence.db or postgresql://USER@HOST:5432/NAME"


@cache
def catalogue() -> dict[str, dict[str, Any]]:
    """The shipped source catalogue (catalogue/sources.yaml): id -> name, kinds, jurisdictions and
    circuit-breaker thresholds (checked: a malformed one is a CredenceError naming the source and
    the field). Shipped data: read once per process, though every command asks whether the store
    matches it."""
    text_ = resources.files("credence.catalogue").joinpath("sources.yaml").read_text("utf-8")
    return {sid: _entry(sid, spec) for sid, spec in yaml.safe_load(text_)["sources"].items()}


def _entry(sid: str, spec: dict[str, Any]) -> dict[str, Any]:
    breaker = thresholds.parse(sid, spec.get("breaker"))
    return {
        "name": spec["name"],
        "kinds": spec["kinds"],
        "jurisdictions": spec["jurisdictions"],
        "breaker": None if breaker is None else breaker.as_data(),
    }


@cache
def source_names() -> dict[str, tuple[str, str]]:
    """Each shipped source's name in Chinese and in English, as notices name the agency."""
    text_ = resources.files("credence.catalogue").joinpath("sources.yaml").read_text("utf-8")
    return {
        sid: (spec.get("name_zh", spec["name"]), spec["name"]) for sid, spec in yaml.safe_load(text_)["sources"].items()
    }


def sync_sources(conn: Connection) -> None:
    """Write the shipped source catalogue into ``sources``."""
    present = set(conn.execute(select(Source.id)).scalars())
    for sid, values in catalogue().items():
        if sid in present:
            conn.execute(update(Source).where(Source.id == sid).values(**values))
        else:
            conn.execute(insert(Source).values(id=sid, **values))


def holds_records(conn: Connection) -> bool:
    """Whether the registry holds anyone's data: a record or a quarantined row. A schema with the
    source catalogue alone holds none, so a registry without either may be started afresh."""
    return any(conn.execute(select(table.id).limit(1)).first() is not None for table in (Record, Quarantine))


@cache
def shipped_heads() -> frozenset[str]:
    """The newest migrations shipped (read from the migration files once per process)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return frozenset(ScriptDirectory.from_config(config).get_heads())


def is_current(engine: Engine) -> bool:
    """Whether the schema is at the newest migration and ``sources`` holds the shipped catalogue
    (read only)."""
    with engine.connect() as conn:
        if set(MigrationContext.configure(conn).get_current_heads()) != shipped_heads():
            return False
        stored = {
            row.id: {"name": row.name, "kinds": row.kinds, "jurisdictions": row.jurisdictions, "breaker": row.breaker}
            for row in conn.execute(select(Source.id, Source.name, Source.kinds, Source.jurisdictions, Source.breaker))
        }
    # Sources in the table but no longer shipped are kept (records refer to them), as sync does.
    return all(stored.get(sid) == values for sid, values in catalogue().items())


def bring_current(engine: Engine, *, migrate_with: str | None = None) -> None:
    """Migrate to the newest schema and write the source catalogue, if either is needed. The
    caller holds the writer lock. ``migrate_with`` is the URL migrations run through
    (CREDENCE_MIGRATION_URL: a member of the owner role, where ``engine`` is the service role's,
    which may not migrate); None: ``engine`` itself."""
    if is_current(engine):
        return
    migrator = connect(migrate_with) if migrate_with else engine
    try:
        upgrade(migrator)
        with migrator.begin() as conn:
            sync_sources(conn)
    except DBAPIError as err:
        if getattr(err.orig, "sqlstate", None) != INSUFFICIENT_PRIVILEGE:
            raise
        who = migrator.url.username or "this user"
        raise CredenceError(
            f"the registry's schema or source catalogue is due for an update and {who} may not make it"
            " (the service role never may): set CREDENCE_MIGRATION_URL to a login that is a member of the owner role,"
            " or run `credence db upgrade` with it"
        ) from None
    finally:
        if migrator is not engine:
            migrator.dispose()


def connect(url: str) -> Engine:
    """An engine for ``url``, with the store reached once; a bad or unreachable URL is a
    CredenceError of one line naming the URL (password hidden) and what was expected."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise CredenceError(f"database URL {url!r} is not a URL; {EXAMPLES}") from None
    shown = parsed.render_as_string(hide_password=True)
    backend = parsed.get_backend_name()
    if backend not in ("sqlite", "postgresql"):
        raise CredenceError(f"database URL {shown}: unknown store {backend!r}; {EXAMPLES}")
    if backend == "sqlite" and parsed.database not in (None, "", ":memory:"):
        folder = Path(parsed.database).absolute().parent
        if not folder.is_dir():
            raise CredenceError(f"database URL {shown}: folder {folder} does not exist; create it or fix the URL")
    try:
        engine = make_engine(url)
    except (ArgumentError, NoSuchModuleError, ImportError) as err:
        raise CredenceError(f"database URL {shown}: {err}; {EXAMPLES}") from None
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except DBAPIError as err:
        engine.dispose()
        raise CredenceError(f"database URL {shown}: {_why(err, parsed.database)}") from None
    return engine


def _why(err: DBAPIError, database: str | None) -> str:
    """What went wrong reaching the store, in one line (the driver's text can run to many)."""
    message = " ".join(str(err.orig).split())
    if "does not exist" in message and "database" in message:
        return f"database {database!r} does not exist on the server; create it (createdb {database}) or fix the URL"
    if "password authentication failed" in message or "no password supplied" in message:
        return "the server refused the user or password"
    if "unable to open database file" in message:
        return "cannot open the file (is it a folder, or not writable?)"
    if "connection" in message or "timeout" in message:
        return "the server is unreachable (is it running, and are host and port right?)"
    return message


def open_registry(url: str, *, wait: float = MIGRATION_WAIT, migrate_with: str | None = None) -> Engine:
    """The registry at ``url``, at the newest schema and with the source catalogue.

    Writes (under the writer lock) only when a migration or the catalogue is due, through
    ``migrate_with`` if given (``bring_current``); waits up to ``wait`` seconds for another
    process that is migrating, and returns as soon as the registry is current, whether this
    process or another made it so.

    Raises:
        CredenceError: the URL is bad or the store unreachable.
        WriterBusyError: another writer held the lock for ``wait`` seconds and the registry is
            still not current.
    """
    engine = connect(url)
    if is_current(engine):
        return engine
    held = lock.writer_lock(engine, command="credence (migrating the schema)")
    deadline = time.monotonic() + wait
    try:
        while not held.try_acquire():
            if is_current(engine):  # another process migrated meanwhile
                return engine
            if time.monotonic() >= deadline:
                raise lock.busy(held)
            time.sleep(lock.POLL)
        bring_current(engine, migrate_with=migrate_with)
    except BaseException:
        engine.dispose()
        raise
    finally:
        held.release()
    return engine
