"""What every command needs: the engine, the schemes, the clock."""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, date, datetime
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from sqlalchemy import Engine

from credence.exc import WriterBusyError
from credence.model.time import legal_date
from credence.rules.loader import Scheme, group, load_file, shipped
from credence.settings import get_settings
from credence.store.lock import writer
from credence.store.registry import bring_current, connect, open_registry

console = Console()
_held: ContextVar[Engine | None] = ContextVar("credence_writer", default=None)  # the lock this process holds


def engine() -> Engine:
    """The registry's engine, migrated to the newest schema and with the source catalogue. A
    reader: writes (and waits) only if a migration is due."""
    return open_registry(get_settings().database_url)


@contextmanager
def writing(command: str) -> Iterator[Engine]:
    """The registry's engine for a command that writes, with this process holding the writer
    lock for the block and the registry migrated under it. A command run inside another (ingest
    inside demo) shares its lock. When another writer holds the lock past CREDENCE_WRITER_WAIT,
    prints one line and exits 75."""
    held = _held.get()
    if held is not None:
        bring_current(held)
        yield held
        return
    settings = get_settings()
    made = connect(settings.database_url)
    try:
        with writer(made, command=f"credence {command}", wait=settings.writer_wait):
            token = _held.set(made)
            try:
                bring_current(made)
                yield made
            finally:
                _held.reset(token)
    except WriterBusyError as err:
        Console(stderr=True).print(f"[red]{err.detail}[/]", soft_wrap=True, highlight=False)
        raise typer.Exit(err.exit_code) from None
    finally:
        made.dispose()


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
