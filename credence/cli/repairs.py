"""``credence repairs``: the credit-repair applications routed to an agency, or filed by a
subject, and where each stands (open, granted, refused). Officers decide over HTTP, signed in for
their agency."""

import json
from typing import Annotated

import typer
from rich.table import Table

from credence import resolve
from credence.cli.context import console, reading
from credence.disputes import repairs as rows
from credence.disputes.repairs import Application
from credence.exc import CredenceError

repairs = typer.Typer(no_args_is_help=True, help="Credit-repair applications: routed to agencies, with deadlines.")


@repairs.command("list")
def list_(
    agency: Annotated[str | None, typer.Option(help="those routed to this source agency (catalogue id)")] = None,
    id_number: Annotated[str | None, typer.Option("--subject", help="those filed by this ID number")] = None,
    limit: Annotated[int, typer.Option(help="show at most this many", min=1)] = 100,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
) -> None:
    """Repair applications (an agency's: open first, by deadline; a subject's: newest first)."""
    if (agency is None) == (id_number is None):
        raise CredenceError("name one of --agency or --subject")
    with reading() as conn:
        subject = resolve.find(conn, id_number) if id_number is not None else None
        if id_number is not None and subject is None:
            found: list[Application] = []
        else:
            found = rows.listed(conn, subject=subject, agency=agency, limit=limit)
    if as_json:
        shown = [
            {
                "receipt": a.receipt,
                "application": str(a.id),
                "subject": str(a.subject),
                "agency": a.source,
                "record": str(a.record),
                "kind": a.kind,
                "scheme": a.scheme,
                "rule": a.rule,
                "filed_at": a.filed_at.isoformat(),
                "respond_by": a.respond_by.isoformat(),
                "state": a.state,
                "decided_by": a.decided_by,
                "repair_record": str(a.repair_record) if a.repair_record else None,
            }
            for a in found
        ]
        print(json.dumps(shown, ensure_ascii=False, indent=2))
        return
    if not found:
        console.print("no repair application")
        return
    table = Table("receipt", "filed (UTC)", "agency", "rule", "decide by", "state", "subject", title="repairs")
    for a in found:
        table.add_row(
            a.receipt, f"{a.filed_at:%Y-%m-%d %H:%M}", a.source, a.rule, str(a.respond_by), a.state, str(a.subject)
        )
    console.print(table)
