"""What every command needs: the engine, the schemes, the clock."""

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, date, datetime
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.rule import Rule
from sqlalchemy import Connection, Engine

from credence.exc import CredenceError, WriterBusyError
from credence.ingest.mapping import Mapping, load_mappings
from credence.model.time import legal_date, legal_instant
from credence.rules.loader import Scheme, group, load_file, shipped
from credence.settings import get_settings
from credence.store.lock import writer
from credence.store.registry import bring_current, connect, open_registry

# Piped or redirected, Rich would assume 80 columns and wrap or cut ("…") every wider table cell;
# a file has no width, so lay lines out as wide as they are (COLUMNS still wins when set).
PIPED_WIDTH = 10_000
RULE_WIDTH = 100  # a rule across PIPED_WIDTH columns would be one very long line of dashes
console = Console(width=None if sys.stdout.isatty() or os.environ.get("COLUMNS") else PIPED_WIDTH)
_held: ContextVar[Engine | None] = ContextVar("credence_writer", default=None)  # the lock this process holds


def engine() -> Engine:
    """The registry's engine, migrated to the newest schema and with the source catalogue. A
    reader: writes (and waits) only if a migration is due."""
    settings = get_settings()
    return open_registry(settings.database_url, migrate_with=settings.migration_url or None)


@contextmanager
def reading() -> Iterator[Connection]:
    """A connection to the registry for a command that only reads. The engine goes with it, so a
    command run in-process (a test, the demo) leaves no connection open behind it."""
    made = engine()
    try:
        with made.connect() as conn:
            yield conn
    finally:
        made.dispose()


@contextmanager
def writing(command: str) -> Iterator[Engine]:
    """The registry's engine for a command that writes, with this process holding the writer
    lock for the block and the registry migrated under it. A command run inside another (ingest
    inside demo) shares its lock. When another writer holds the lock past CREDENCE_WRITER_WAIT,
    prints one line and exits 75."""
    held = _held.get()
    migrate_with = get_settings().migration_url or None
    if held is not None:
        bring_current(held, migrate_with=migrate_with)
        yield held
        return
    settings = get_settings()
    made = connect(settings.database_url)
    try:
        with writer(made, command=f"credence {command}", wait=settings.writer_wait):
            token = _held.set(made)
            try:
                bring_current(made, migrate_with=migrate_with)
                yield made
            finally:
                _held.reset(token)
    except WriterBusyError as err:
        Console(stderr=True).print(f"[red]{err.detail}[/]", soft_wrap=True, highlight=False)
        raise typer.Exit(err.exit_code) from None
    finally:
        made.dispose()


def progress(on: Console = console, *, in_bytes: bool = False) -> Progress:
    """The progress bar every long command shows; ``in_bytes`` counts a file's bytes (a feed is
    read by bytes, so the bar ends exactly at the end of the file, header and all)."""
    done = DownloadColumn() if in_bytes else MofNCompleteColumn()
    return Progress(TextColumn("{task.description}"), BarColumn(), done, TimeElapsedColumn(), console=on)


def rule(title: str) -> None:
    """A section heading across the terminal, or RULE_WIDTH columns of a file."""
    console.print(Rule(title), width=min(console.width, RULE_WIDTH) if not console.is_terminal else None)


def schemes(extra: list[Path] | None = None) -> dict[str, Scheme]:
    books = shipped() + [load_file(p) for p in extra or []]
    return group(books)


def now() -> datetime:
    return datetime.now(UTC)


def today() -> date:
    return legal_date(now())


# Every flag that takes an instant reads a time without a zone the same way: as legal time in
# Asia/Shanghai, never the machine's zone. The registry's days are Shanghai legal dates, so the
# date written is then the day asked about (``--at 2026-03-01T23:30`` checks 1 March, as
# ``--as-of 2026-03-01`` does); read as UTC it would be 2 March in Shanghai. Shanghai has had no
# daylight saving since 1991, so a wall-clock time there names exactly one instant.
INSTANT_HELP = "ISO 8601; without a zone, Asia/Shanghai legal time (2026-03-01T08:00 = 2026-03-01T00:00Z)"
DAY_HELP = "a calendar day, YYYY-MM-DD, the legal date in Asia/Shanghai"


def instant(option: str) -> Callable[[str], datetime]:
    """The parser of an option that takes an instant: ISO 8601 (a date alone is the start of that
    legal day); with a zone or offset (``Z``, ``+08:00``) it is that instant, without one it is
    Asia/Shanghai legal time. Returns a UTC-aware datetime; anything else is one line naming the option."""

    def parse(value: str) -> datetime:
        try:
            return legal_instant(datetime.fromisoformat(value.strip()))
        except ValueError:
            raise CredenceError(
                f"{option} {value!r}: expected an ISO 8601 time, e.g. 2026-03-01T08:00 "
                "(Asia/Shanghai legal time) or 2026-03-01T00:00Z"
            ) from None
        except OverflowError:
            raise CredenceError(f"{option} {value!r}: expected a time between 0001-01-02 and 9999-12-30") from None

    return parse


def calendar_day(option: str) -> Callable[[str], date]:
    """The parser of an option that takes a day: the calendar day as written, with no time and no
    zone to shift it; anything else is one line naming the option."""

    def parse(value: str) -> date:
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            raise CredenceError(f"{option} {value!r}: expected {DAY_HELP}, e.g. 2026-03-01") from None

    return parse


def feeds_dir(given: Path | None) -> Path:
    """The feed folder: the option if given, else <CREDENCE_DATA_DIR>/feeds."""
    return given if given is not None else Path(get_settings().data_dir) / "feeds"


def folder(path: Path, *, option: str, holds: str) -> Path:
    """``path`` if it is a folder, else a ``CredenceError`` naming the option."""
    if not path.is_dir():
        state = "is not a folder" if path.exists() else "no such folder"
        raise CredenceError(f"{option} {path}: {state}; expected the folder of {holds}")
    return path


def mappings(connectors: Path) -> dict[str, Mapping]:
    """The connector mappings in ``connectors``; a folder without any is refused, not read as 'nothing to load'."""
    found = load_mappings(folder(connectors, option="--connectors", holds="mapping files (<source>.yaml)"))
    if not found:
        raise CredenceError(f"--connectors {connectors}: no mapping files (*.yaml) in this folder")
    return found
