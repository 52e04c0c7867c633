"""``credence agencies``: the keys agencies sign their submissions with (an administrator
registers and revokes the public halves), and the agency's side: make a key pair, sign a batch."""

import json
import os
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from rich.table import Table

from credence.cli.context import INSTANT_HELP, console, instant, now, reading, writing
from credence.exc import CredenceError
from credence.ingest import agency_keys, signatures

agencies = typer.Typer(help="Agencies' signed submissions: their keys, and signing a batch.", no_args_is_help=True)
key = typer.Typer(help="The public keys agencies sign submissions with (an administrator's).", no_args_is_help=True)
agencies.add_typer(key, name="key")


@key.command("add")
def add(
    source: Annotated[str, typer.Argument(help="the agency: a source id of catalogue/sources.yaml")],
    public_key_file: Annotated[Path, typer.Argument(help="its Ed25519 public key, PEM (-----BEGIN PUBLIC KEY-----)")],
) -> None:
    """Register an agency's public key: batches it signs are taken from SOURCE."""
    public = signatures.read_public_key(public_key_file)
    with writing("agencies key add") as made, made.begin() as conn:
        row = agency_keys.add(conn, source, public, actor="credence agencies key add", now=now())
    console.print(f"key {row.id}: signs submissions of {row.source}")


@key.command("list")
def list_(source: Annotated[str | None, typer.Option(help="only this source's keys")] = None) -> None:
    """Every agency key registered: id, source, added, state (active, revoked)."""
    with reading() as conn:
        found = agency_keys.rows(conn, source=source)
    table = Table("key", "source", "added", "revoked", "state", title="agency keys")
    for row in found:
        revoked = f"{row.revoked_at:%Y-%m-%d %H:%M}" if row.revoked_at else ""
        table.add_row(row.id, row.source, f"{row.added_at:%Y-%m-%d %H:%M}", revoked, row.state)
    console.print(table)


@key.command("revoke")
def revoke(key_id: Annotated[str, typer.Argument(help="the key's id, as `credence agencies key list` shows")]) -> None:
    """Revoke an agency key: every batch it signs is refused from now on."""
    with writing("agencies key revoke") as made, made.begin() as conn:
        row = agency_keys.revoke(conn, key_id, actor="credence agencies key revoke", now=now())
    console.print(f"revoked key {row.id} of {row.source}")


@agencies.command("keygen")
def keygen(
    private_file: Annotated[Path, typer.Argument(help="where the private key goes (PEM, mode 0600): keep it secret")],
    public_file: Annotated[Path, typer.Argument(help="where the public key goes (PEM): give it to the registry")],
) -> None:
    """Make an agency's Ed25519 key pair (as `openssl genpkey -algorithm ed25519` would)."""
    for path in (private_file, public_file):
        if path.exists():
            raise CredenceError(f"{path}: already exists; not overwritten")
    private = Ed25519PrivateKey.generate()
    descriptor = os.open(private_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(signatures.private_pem(private))
    public_file.write_bytes(signatures.public_pem(private.public_key()))
    kid = signatures.key_id(private.public_key())
    console.print(f"key {kid}: private key {private_file}, public key {public_file}")


@agencies.command("sign")
def sign(
    source: Annotated[str, typer.Argument(help="the agency submitting: a source id")],
    rows_file: Annotated[Path, typer.Argument(help="the rows, one JSON object a line, in the source's mapping shape")],
    private_key: Annotated[Path, typer.Option("--key", help="the agency's private key (PEM)")],
    at: Annotated[datetime | None, typer.Option(parser=instant("--at"), help=INSTANT_HELP)] = None,
    nonce: Annotated[str | None, typer.Option(help="default: 32 random hex digits")] = None,
) -> None:
    """Print the signed envelope of a batch, ready to POST to /v1/submissions."""
    private = signatures.read_private_key(private_key)
    rows = _rows(rows_file)
    body = signatures.batch(source, rows, key=private.public_key(), at=at or now(), nonce=nonce)
    print(json.dumps(signatures.sign(body, private), ensure_ascii=False))  # for a pipe: not Rich, which wraps


def _rows(path: Path) -> list[dict[str, Any]]:  # Any: the agency's JSON
    rows: list[dict[str, Any]] = []
    for number, line in enumerate(path.read_text("utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as err:
            raise CredenceError(f"{path}: line {number}: not valid JSON ({err.msg})") from None
        if not isinstance(value, dict):
            raise CredenceError(f"{path}: line {number}: expected a JSON object (one row)")
        rows.append(value)
    if not rows:
        raise CredenceError(f"{path}: no rows; expected one JSON object a line")
    return rows
