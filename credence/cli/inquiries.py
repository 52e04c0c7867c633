"""``credence inquiries ID``: who asked the gate about a subject, newest first."""

import json
from typing import Annotated

import typer
from rich.table import Table

from credence.cli.context import console, reading
from credence.screening.inquiries import about


def inquiries(
    id_number: Annotated[str, typer.Argument(help="the exact ID number or credit code")],
    limit: Annotated[int, typer.Option(help="show at most this many, newest first", min=1)] = 100,
    as_json: Annotated[bool, typer.Option("--json", help="every inquiry shown as JSON")] = False,
) -> None:
    """Who checked this subject at the gate: provider, action, answer, reference and time."""
    with reading() as conn:
        found = about(conn, id_number, limit=limit)
    if as_json:
        rows = [
            {
                "asked_at": row.asked_at.isoformat(),
                "provider": row.provider,
                "action": row.action,
                "attributes": row.attributes,
                "decision": row.decision,
                "reference": row.reference,
                "at": row.at.isoformat(),
            }
            for row in found
        ]
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    if not found:
        console.print("no provider has asked the gate about this subject")
        return
    table = Table("asked (UTC)", "provider", "action", "answer", "reference", title="who asked the gate")
    for row in found:
        asked = f"{row.action} " + " ".join(f"{k}={v}" for k, v in sorted(row.attributes.items()))
        table.add_row(
            f"{row.asked_at:%Y-%m-%d %H:%M:%S}", row.provider, asked.strip(), row.decision, row.reference or ""
        )
    console.print(table)
