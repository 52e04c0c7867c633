"""``credence held``: what the sources' circuit breakers held for review; release or reject it."""

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from credence.cli.context import console, mappings, now, reading, schemes, today, writing
from credence.ingest import holds as rows
from credence.pipeline.feeds import release_held

CONNECTORS = Path("connectors")
held = typer.Typer(
    help="Adverse rows a source's circuit breaker held for review, not applied.", invoke_without_command=True
)


@held.callback()
def listing(
    ctx: typer.Context,
    source: Annotated[str | None, typer.Option(help="only this source's holds")] = None,
    everything: Annotated[bool, typer.Option("--all", help="include holds already released or rejected")] = False,
) -> None:
    """Holds: source, when, the threshold crossed and the counts; never a row's content."""
    if ctx.invoked_subcommand is not None:
        return
    with reading() as conn:
        found = rows.holds(conn, source=source, closed=everything)
    if not found:
        console.print("no hold is open: every source's circuit breaker is closed")
        return
    table = Table("hold", "source", "opened (UTC)", "file", "threshold", "rows", "waiting", "state", "reason")
    for h in found:
        state = "open" if h.closed_at is None else f"{h.outcome} {h.closed_at:%Y-%m-%d %H:%M} by {h.closed_by}"
        table.add_row(
            str(h.id),
            h.source_id,
            f"{h.opened_at:%Y-%m-%d %H:%M}",
            h.file,
            h.threshold,
            f"{h.rows:,}",
            f"{h.waiting:,}",
            state,
            h.reason,
        )
    console.print(table)


Target = Annotated[str, typer.Argument(help="a source (its open hold) or a hold id, as `credence held` lists")]
Officer = Annotated[str, typer.Option("--by", help="the officer deciding, by name or staff id")]


@held.command("release")
def release(
    target: Target,
    by: Officer,
    connectors: Annotated[Path, typer.Option(help="folder with the mapping files")] = CONNECTORS,
) -> None:
    """Apply the held rows (their own valid time, a new transaction time), close the breaker, rescore."""
    mapped, books = mappings(connectors), schemes()
    with writing("held release") as made:
        released, written = release_held(made, mapped, books, target, by=by, now=now(), as_of=today())
    result = released.result
    applied = result.accepted + result.amended + result.retracted
    names = ", ".join(str(h) for h in released.holds)
    console.print(f"hold {names} released: {applied:,} rows applied, {result.unchanged:,} unchanged")
    console.print(f"{written.scores:,} scores written; listings started {written.started:,}, ended {written.ended:,}")
    if released.still:
        console.print(f"[yellow]{len(released.still):,} rows no longer pass; they wait in `credence quarantine`[/]")


@held.command("reject")
def reject(
    target: Target,
    by: Officer,
    reason: Annotated[str, typer.Option(help="why the held rows are not to be applied")],
) -> None:
    """Keep the held rows unapplied for good, with the reason; close the breaker."""
    with writing("held reject") as made:
        closed = rows.reject(made, target, by=by, reason=reason, now=now())
    console.print(f"hold {', '.join(str(h) for h in closed)} rejected: nothing of it applied")
