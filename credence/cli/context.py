"""What every command needs: the engine, the schemes, the clock."""

from datetime import UTC, date, datetime
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from sqlalchemy import Engine

from credence.ingest.loader import open_registry
from credence.model.time import legal_date
from credence.rules.loader import Scheme, group, load_file, shipped
from credence.settings import get_settings

console = Console()


def engine() -> Engine:
    """The registry's engine, migrated to the newest schema and with the source catalogue."""
    return open_registry(get_settings().database_url)


def progress(on: Console = console) -> Progress:
    """The progress bar every long command shows."""
    return Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=on
    )


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
