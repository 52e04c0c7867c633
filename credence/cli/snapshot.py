"""``credence snapshot export``: the store's records and subjects appended to the Parquet snapshot."""

import time
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from credence.cli.context import console, now, writing
from credence.pipeline import snapshot as job
from credence.settings import get_settings

snapshot = typer.Typer(help="The columnar snapshot the batch engines read (docs/scale.md).", no_args_is_help=True)


@snapshot.command("export")
def export(
    to: Annotated[
        Path | None,
        typer.Option(
            "--to", help="the snapshot's folder [default: $CREDENCE_SNAPSHOT_DIR or $CREDENCE_DATA_DIR/snapshot]"
        ),
    ] = None,
) -> None:
    """Append the records and subjects the store learned since the last export (all, the first time) as Parquet."""
    settings = get_settings()
    into = job.folder(settings, to)
    if into.exists() and not into.is_dir():
        raise typer.BadParameter(f"{into} is not a folder; expected the snapshot's folder", param_hint="--to")
    started = time.perf_counter()
    with writing("snapshot export") as made:
        # the total is not counted first: that would scan what the export is about to read
        bar = Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed:,} rows"),
                       TimeElapsedColumn(), console=console)  # fmt: skip
        with bar:
            task = bar.add_task("exporting", total=None)
            done = job.export(made, into, settings, now=now(), progress=lambda n: bar.advance(task, n))
    seconds = time.perf_counter() - started
    rows = done.records + done.subjects
    table = Table("export", "since", "up to", "records", "subjects", "files", "bytes", "rows/s", title=str(into))
    since = done.since.isoformat(timespec="seconds") if done.since else "the start (full)"
    rate = f"{rows / seconds:,.0f}" if seconds > 0 else ""
    table.add_row(
        str(done.seq),
        since,
        done.high_water.isoformat(timespec="seconds"),
        f"{done.records:,}",
        f"{done.subjects:,}",
        f"{done.files:,}",
        f"{done.bytes:,}",
        rate,
    )
    console.print(table)
