"""``credence providers add|list|revoke``: service providers and their API keys."""

import re
from datetime import timedelta
from typing import Annotated

import typer
from rich.table import Table

from credence.cli.context import console, now, reading, writing
from credence.exc import CredenceError
from credence.screening import providers as keys
from credence.settings import get_settings

providers = typer.Typer(help="Service providers and their API keys for the gate.", no_args_is_help=True)
RATE = re.compile(r"\s*(?P<n>\d+(\.\d+)?)\s*(/\s*s)?\s*")


def parse_rate(value: str) -> float:
    found = RATE.fullmatch(value)
    if found is None or float(found["n"]) <= 0:
        raise CredenceError(f"--rate {value!r}: expected checks per second, e.g. 50/s")
    return float(found["n"])


@providers.command("add")
def add(
    name: Annotated[str, typer.Argument(help="the provider, e.g. an airline")],
    actions: Annotated[str, typer.Option(help="the actions it may ask about, comma-separated, e.g. flight")],
    rate: Annotated[str, typer.Option(help="checks per second, e.g. 50/s")] = f"{keys.DEFAULT_RATE:g}/s",
    expires: Annotated[int, typer.Option(help="days until the key expires", min=1)] = keys.DEFAULT_DAYS,
) -> None:
    """Issue a provider's API key; it is printed once and never stored."""
    per_second = parse_rate(rate)
    with writing("providers add") as made, made.begin() as conn:
        issued = keys.issue(
            conn,
            name,
            actions.split(","),
            rate=per_second,
            expires_in=timedelta(days=expires),
            actor="credence providers add",
            now=now(),
        )
    grant = issued.grant
    until = f"{grant.expires_at:%Y-%m-%d %H:%M} UTC" if grant.expires_at else "never"
    console.print(
        f"provider {grant.name}: actions {', '.join(sorted(grant.actions))}, {grant.rate:g} checks/s, expires {until}"
    )
    console.print("the key is shown this once; store it now:")
    print(issued.key)


@providers.command("list")
def list_() -> None:
    """Every key issued, its scope, rate, expiry and state (never the key itself)."""
    with reading() as conn:
        found = keys.rows(conn)
    at = now()
    table = Table("provider", "key", "actions", "rate", "created", "expires", "state", title="providers")
    for row in found:
        expires = f"{row.expires_at:%Y-%m-%d}" if row.expires_at else "never"
        table.add_row(
            row.name,
            row.prefix,
            ", ".join(row.actions),
            f"{row.rate:g}/s",
            f"{row.created_at:%Y-%m-%d}",
            expires,
            row.state(at),
        )
    console.print(table)


@providers.command("webhook")
def webhook(
    name: Annotated[str, typer.Argument(help="the provider")],
    url: Annotated[str, typer.Argument(help="where it is told of corrections: http(s)://host[:port]/path")],
) -> None:
    """Register the provider's webhook; prints its signing secret once (derived from CREDENCE_WEBHOOK_KEY)."""
    key = get_settings().webhook_key
    if key is None:
        raise CredenceError("set CREDENCE_WEBHOOK_KEY first: each provider's signing secret is derived from it")
    with writing("providers webhook") as made, made.begin() as conn:
        secret = keys.webhook(
            conn, name, url, key=key.get_secret_value().encode(), actor="credence providers webhook", now=now()
        )
    console.print(f"{name} is told of corrections at {url}")
    console.print(f"signing secret, shown once: {secret.hex()}")
    console.print("each call carries X-Credence-Signature: sha256=HMAC-SHA256(secret, 'timestamp.body')")


@providers.command("revoke")
def revoke(name: Annotated[str, typer.Argument(help="the provider whose live key ends now")]) -> None:
    """Revoke a provider's key: every gate process refuses it within a second."""
    with writing("providers revoke") as made, made.begin() as conn:
        count = keys.revoke(conn, name, actor="credence providers revoke", now=now())
    if not count:
        raise CredenceError(f"provider {name!r} has no live key")
    console.print(f"revoked {count} key(s) of {name}")
