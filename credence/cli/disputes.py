"""``credence disputes``: the disputes routed to an agency, or filed by a subject, and where each
stands (open, lapsed, upheld, rejected). Officers answer over HTTP, signed in for their agency."""

import json
from datetime import date
from typing import Annotated

import typer
from rich.table import Table

from credence import resolve
from credence.cli.context import console, reading, today
from credence.disputes import rows
from credence.disputes.rows import Filed
from credence.exc import CredenceError

disputes = typer.Typer(no_args_is_help=True, help="Disputes of records: routed to agencies, with deadlines.")


def _state(d: Filed, on: date) -> str:
    return "lapsed" if d.lapsed(on) else d.state


@disputes.command("list")
def list_(
    agency: Annotated[str | None, typer.Option(help="those routed to this source agency (catalogue id)")] = None,
    id_number: Annotated[str | None, typer.Option("--subject", help="those filed by this ID number")] = None,
    limit: Annotated[int, typer.Option(help="show at most this many, newest first", min=1)] = 100,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
) -> None:
    """Disputes, newest first, with their receipt, record, deadline and state."""
    if (agency is None) == (id_number is None):
        raise CredenceError("name one of --agency or --subject")
    on = today()
    with reading() as conn:
        subject = resolve.find(conn, id_number) if id_number is not None else None
        if id_number is not None and subject is None:
            found: list[Filed] = []
        else:
            found = rows.listed(conn, subject=subject, agency=agency, limit=limit)
    if as_json:
        shown = [
            {
                "receipt": d.receipt,
                "dispute": str(d.id),
                "subject": str(d.subject),
                "agency": d.source,
                "record": str(d.record),
                "kind": d.kind,
                "filed_at": d.filed_at.isoformat(),
                "respond_by": d.respond_by.isoformat(),
                "suspends": d.suspends,
                "state": _state(d, on),
                "decided_by": d.decided_by,
                "correction": str(d.correction) if d.correction else None,
            }
            for d in found
        ]
        print(json.dumps(shown, ensure_ascii=False, indent=2))
        return
    if not found:
        console.print("no dispute")
        return
    table = Table("receipt", "filed (UTC)", "agency", "kind", "answer by", "state", "subject", title="disputes")
    for d in found:
        table.add_row(
            d.receipt,
            f"{d.filed_at:%Y-%m-%d %H:%M}",
            d.source,
            d.kind,
            str(d.respond_by),
            _state(d, on),
            str(d.subject),
        )
    console.print(table)
