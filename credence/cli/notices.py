"""``credence notices``: what the registry told a subject, and whom it could not reach."""

import json
from typing import Annotated

import typer
from rich.table import Table

from credence import resolve
from credence.cli.context import console, reading
from credence.outbox import claims

notices = typer.Typer(no_args_is_help=True, help="Notices to subjects: sent, waiting, undeliverable.")


@notices.command("list")
def list_(
    id_number: Annotated[str, typer.Argument(help="the exact ID number or credit code")],
    limit: Annotated[int, typer.Option(help="show at most this many, newest first", min=1)] = 100,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
) -> None:
    """Every notice written to this subject, newest first, and where its delivery stands."""
    with reading() as conn:
        subject = resolve.find(conn, id_number)
        found = claims.told(conn, subject, limit=limit) if subject is not None else []
    if as_json:
        rows = [
            {
                "notice": str(n.id),
                "kind": n.kind,
                "written_at": n.created_at.isoformat(),
                "respond_by": n.respond_by.isoformat() if n.respond_by else None,
                "state": n.state,
                "attempts": n.attempts,
                "delivered_at": n.delivered_at.isoformat() if n.delivered_at else None,
                "channels": list(n.channels),
            }
            for n in found
        ]
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    if not found:
        console.print("the registry has written no notice to this subject")
        return
    table = Table("written (UTC)", "kind", "state", "by", "dispute by", "notice", title="notices")
    for n in found:
        table.add_row(
            f"{n.created_at:%Y-%m-%d %H:%M:%S}",
            n.kind,
            n.state,
            ", ".join(n.channels),
            n.respond_by.isoformat() if n.respond_by else "",
            str(n.id),
        )
    console.print(table)


@notices.command("undeliverable")
def undeliverable(
    limit: Annotated[int, typer.Option(help="show at most this many, oldest first", min=1)] = 100,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
) -> None:
    """Notices that reached no one: no contact on record (they wait for one), or every try failed."""
    with reading() as conn:
        found = claims.undeliverable(conn, limit=limit)
        standing = claims.counts(conn)
    if as_json:
        rows = [
            {
                "notice": str(w.id),
                "subject": str(w.subject),
                "kind": w.kind,
                "state": w.state,
                "attempts": w.attempts,
                "error": w.error,
                "written_at": w.created_at.isoformat(),
            }
            for w in found
        ]
        print(json.dumps({"counts": standing, "notices": rows}, ensure_ascii=False, indent=2))
        return
    summary = ", ".join(f"{state} {n:,}" for state, n in sorted(standing.items())) or "none written"
    console.print(f"notices: {summary}")
    if not found:
        console.print("every notice has reached its subject or is on its way")
        return
    table = Table(
        "written (UTC)", "subject (internal id)", "kind", "state", "tries", "last failure", title="undeliverable"
    )
    for w in found:
        table.add_row(
            f"{w.created_at:%Y-%m-%d %H:%M:%S}", str(w.subject), w.kind, w.state, str(w.attempts), w.error or ""
        )
    console.print(table)
