"""What every command needs: the engine, the schemes, the clock."""

import os
import sys
from datetime import UTC, date, datetime
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.rule import Rule
from sqlalchemy import Engine

from credence.exc import CredenceError
from credence.ingest.loader import open_registry
from credence.ingest.mapping import Mapping, load_mappings
from credence.model.time import legal_date
from credence.rules.loader import Scheme, group, load_file, shipped
from credence.settings import get_settings

# Piped or redirected, Rich would assume 80 columns and wrap or cut ("…") every wider table cell;
# a file has no width, so lay lines out as wide as they are (COLUMNS still wins when set).
PIPED_WIDTH = 10_000
RULE_WIDTH = 100  # a rule across PIPED_WIDTH columns would be one very long line of dashes
console = Console(width=None if sys.stdout.isatty() or os.environ.get("COLUMNS") else PIPED_WIDTH)


def engine() -> Engine:
    """The registry's engine, migrated to the newest schema and with the source catalogue."""
    return open_registry(get_settings().database_url)


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
