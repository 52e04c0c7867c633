"""What every command needs: the engine, the schemes, the clock."""

from datetime import UTC, date, datetime
from pathlib import Path

from rich.console import Console
from sqlalchemy import Engine

from credence.ingest.loader import sync_sources
from credence.model.time import legal_date
from credence.rules.loader import Scheme, group, load_file, shipped
from credence.settings import get_settings
from credence.store.db import make_engine, upgrade

console = Console()


def engine() -> Engine:
    """The registry's engine, migrated to the newest schema and with the source catalogue."""
    made = make_engine(get_settings().database_url)
    upgrade(made)
    with made.begin() as conn:
        sync_sources(conn)
    return made


def schemes(extra: list[Path] | None = None) -> dict[str, Scheme]:
    books = shipped() + [load_file(p) for p in extra or []]
    return group(books)


def now() -> datetime:
    return datetime.now(UTC)


def today() -> date:
    return legal_date(now())


def feeds_dir(given: Path | None) -> Path:
    """The feed folder: the option if given, else <CREDENCE_DATA_DIR>/feeds."""
    return given if given is not None else Path(get_settings().data_dir) / "feeds"
