"""``credence officers add|list|revoke``: agency officers' accounts (they sign in over HTTP with
a one-time code sent to their email)."""

from enum import StrEnum
from typing import Annotated

import typer
from rich.table import Table

from credence.accounts import officers as accounts
from credence.cli.context import console, now, reading, writing
from credence.exc import CredenceError
from credence.model.roles import Role


class OfficerRole(StrEnum):  # the roles an officer's account may hold (model.roles)
    OFFICER = Role.OFFICER.value
    SECOND_OFFICER = Role.SECOND_OFFICER.value
    AUDITOR = Role.AUDITOR.value


officers = typer.Typer(help="Agency officers' accounts: who may sign in to act for an agency.", no_args_is_help=True)


@officers.command("add")
def add(
    name: Annotated[str, typer.Argument(help="the officer's account name, e.g. li.ming")],
    agency: Annotated[str, typer.Option(help="the agency they act for: a source id of catalogue/sources.yaml")],
    email: Annotated[str, typer.Option(help="where their sign-in codes go")],
    role: Annotated[
        OfficerRole,
        typer.Option(
            help="officer: reviews and asks for manual actions; second_officer: reviews and approves them;"
            " auditor (with --agency registry): is mailed the registry's alerts"
        ),
    ] = OfficerRole.OFFICER,
) -> None:
    """Add an officer of one agency; they sign in with a code sent to EMAIL."""
    with writing("officers add") as made, made.begin() as conn:
        officer = accounts.add(
            conn, name, agency=agency, email=email, actor="credence officers add", now=now(), role=Role(role.value)
        )
    shown = officer.role.value.replace("_", " ")
    console.print(f"{shown} {officer.name}: acts for {officer.agency}; signs in with a code sent by mail")


@officers.command("list")
def list_() -> None:
    """Every officer account, its agency, address and state."""
    with reading() as conn:
        found = accounts.rows(conn)
    table = Table("officer", "agency", "role", "email", "created", "state", title="officers")
    for row in found:
        table.add_row(row.name, row.agency, row.role, row.email, f"{row.created_at:%Y-%m-%d}", row.state)
    console.print(table)


@officers.command("revoke")
def revoke(name: Annotated[str, typer.Argument(help="the officer whose account ends now")]) -> None:
    """Revoke an officer's account: their sessions end and no code is sent to them again."""
    with writing("officers revoke") as made, made.begin() as conn:
        count = accounts.revoke(conn, name, actor="credence officers revoke", now=now())
    if not count:
        raise CredenceError(f"officer {name!r} has no live account")
    console.print(f"revoked officer {name}")
