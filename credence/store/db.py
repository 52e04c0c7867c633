"""Engines and dialect helpers. SQLite gets WAL and foreign keys on every connection."""

import sqlite3
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url

MIGRATIONS = Path(__file__).parent / "migrations"


WAL_WAIT = 5.0  # seconds: as long as sqlite3's own busy timeout


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    _wal(cursor)
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _wal(cursor: Any) -> None:
    """Put the file in WAL mode (it stays so). Changing the mode takes the file's exclusive lock
    without SQLite's busy handler, so two processes opening a new file together can find it
    locked: the mode is read first (a file already in WAL needs no change), and a refusal is
    tried again until WAL_WAIT."""
    deadline = time.monotonic() + WAL_WAIT
    while True:
        try:
            if cursor.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or time.monotonic() > deadline:
                raise
            time.sleep(0.02)


def make_engine(url: str) -> Engine:
    """An engine for the registry; ``postgresql://`` URLs use psycopg 3."""
    parsed = make_url(url)
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    connect: dict[str, Any] = {}
    if parsed.get_backend_name() == "postgresql" and "connect_timeout" not in parsed.query:
        connect["connect_timeout"] = 10  # libpq waits for ever on a host that drops packets
    engine = create_engine(parsed, connect_args=connect)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def stored_instant(value: datetime) -> datetime:
    """An instant read back from the store, UTC-aware: SQLite hands it back without its zone
    (every instant here is written in UTC), PostgreSQL in the session's zone."""
    return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)


def dialect_of(engine: Engine) -> str:
    """'sqlite' or 'postgres' (SQLGlot's names), the engines the compiled rules target."""
    return "postgres" if engine.dialect.name == "postgresql" else engine.dialect.name


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine) -> None:
    """Bring the schema to the newest migration."""
    command.upgrade(alembic_config(engine), "head")
