"""``credence audit keygen|checkpoint|verify|witness|prove``: the transparency log.

``checkpoint`` is the sequencer's step (what the worker calls every few seconds); ``verify``
checks the store against its checkpoints; ``witness`` and ``prove`` are for outsiders: they talk
to a served registry over HTTP and trust only the keys they are given.
"""

import base64
import json
import time
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer

from credence.audit import checkpoints, keys, notes, prove, verify, witness
from credence.cli.context import console, now, reading, writing
from credence.exc import CredenceError
from credence.settings import get_settings

audit = typer.Typer(help="The transparency log: checkpoints, verification, witnesses and proofs.", no_args_is_help=True)
TIMEOUT = 30.0


def _verifier(text: str | None, file: Path | None) -> notes.Verifier:
    """The log's public key from --log-key, --log-key-file, or the signing key in the settings."""
    if text:
        return _parse_verifier(text, "--log-key")
    if file is not None:
        return _parse_verifier(_read(file), str(file))
    try:
        return keys.log_signer(get_settings()).verifier
    except CredenceError:
        raise CredenceError("the log's public key: give --log-key or --log-key-file") from None


def _parse_verifier(text: str, where: str) -> notes.Verifier:
    try:
        return notes.Verifier.parse(text)
    except notes.NoteError as err:
        raise CredenceError(f"{where}: {err.detail}") from None


def _read(path: Path) -> str:
    try:
        return path.read_text("utf-8")
    except OSError as err:
        raise CredenceError(f"{path}: cannot read it ({err.strerror})") from None


def _get(url: str) -> httpx.Response:
    try:
        response = httpx.get(url, timeout=TIMEOUT)
    except httpx.HTTPError as err:
        raise CredenceError(f"{url}: {err}") from None
    if response.status_code != 200:
        raise CredenceError(f"{url}: HTTP {response.status_code} {response.text[:200]}")
    return response


@audit.command("keygen")
def keygen(
    name: Annotated[str, typer.Argument(help="the key's name: the log's origin, or the witness's name")],
    out: Annotated[Path, typer.Option(help="file to write the private key to (created, mode 0600)")],
    witness_key: Annotated[bool, typer.Option("--witness", help="a witness's cosigning key")] = False,
) -> None:
    """Make an Ed25519 key; writes the private key to --out and prints the public (verifier) key."""
    signer = notes.Signer.generate(name, kind=notes.COSIGNATURE if witness_key else notes.ED25519)
    try:
        with out.open("x", encoding="utf-8") as handle:
            out.chmod(0o600)
            handle.write(signer.encode() + "\n")
    except FileExistsError:
        raise CredenceError(f"{out}: exists; a key is never overwritten") from None
    print(signer.verifier.encode())


@audit.command("checkpoint")
def checkpoint() -> None:
    """Integrate the events committed since the last run and sign a checkpoint if the log grew."""
    settings = get_settings()
    signer = keys.log_signer(settings)
    with writing("audit checkpoint") as made, made.begin() as conn:
        done = checkpoints.advance(conn, signer, now=now(), origin=settings.log_origin)
    root = base64.b64encode(done.root).decode()
    state = "signed" if done.note else "unchanged"
    console.print(f"log {settings.log_origin}: {done.size} entries ({done.integrated} new), root {root}, {state}")


@audit.command("verify")
def verify_(
    log_key: Annotated[str | None, typer.Option(help="the log's public key (name+id+key)")] = None,
    log_key_file: Annotated[Path | None, typer.Option(help="a file holding the log's public key")] = None,
    checkpoint_file: Annotated[
        list[Path] | None,
        typer.Option(
            "--checkpoint", help="a checkpoint kept outside the store (a witness's state or a note); repeatable"
        ),
    ] = None,
) -> None:
    """Check the log is append-only and every derived row has its entry; exit 1 on any problem."""
    settings = get_settings()
    verifier = _verifier(log_key, log_key_file)
    outside = [_outside(path, verifier, settings.log_origin) for path in checkpoint_file or []]
    with reading() as conn:
        report = verify.verify(conn, verifier, origin=settings.log_origin, published=outside)
    console.print(
        f"log {settings.log_origin}: {report.leaves} entries, {report.checkpoints} checkpoints, "
        f"{report.derived_rows} derived rows checked, {report.pending} events waiting, {report.erased} erased"
    )
    if report.consistent:
        console.print("the log is consistent")
        return
    for problem in report.problems:
        console.print(f"[red]{problem}[/]", soft_wrap=True, highlight=False)
    if report.hidden:
        console.print(f"[red]and {report.hidden} more problems[/]")
    console.print(f"[red]the log is NOT consistent: {len(report.problems) + report.hidden} problems[/]")
    raise typer.Exit(1)


def _outside(path: Path, verifier: notes.Verifier, origin: str) -> notes.Checkpoint:
    text = _read(path)
    if text.lstrip().startswith("{"):  # a witness's state file
        text = str(json.loads(text)["note"])
    try:
        return notes.open_checkpoint(text, verifier, origin=origin)
    except notes.NoteError as err:
        raise CredenceError(f"{path}: {err.detail}") from None


@audit.command("witness")
def witness_(
    url: Annotated[str, typer.Option(help="the registry's base URL, e.g. http://127.0.0.1:8000")],
    key_file: Annotated[Path, typer.Option(help="this witness's private key (credence audit keygen --witness)")],
    state_file: Annotated[Path, typer.Option(help="where this witness keeps the last checkpoint it cosigned")],
    log_key: Annotated[str, typer.Option(help="the log's public key (name+id+key)")],
    origin: Annotated[str | None, typer.Option(help="the log's origin (default: CREDENCE_LOG_ORIGIN)")] = None,
    once: Annotated[bool, typer.Option("--once", help="check and cosign once, then exit")] = False,
    interval: Annotated[float, typer.Option(help="seconds between polls", min=0.1)] = 10.0,
) -> None:
    """Poll the log's checkpoint, check it extends the last one cosigned, cosign it; exit 3 on a split view."""
    signer = keys.read_signer(key_file, kind=notes.COSIGNATURE)
    verifier = _parse_verifier(log_key, "--log-key")
    name = origin or get_settings().log_origin
    base = url.rstrip("/")

    def consistency(first: int, second: int) -> list[bytes]:
        body = _get(f"{base}/v1/log/proof/consistency?first={first}&second={second}").json()
        return [base64.b64decode(h) for h in body["proof"]]

    while True:
        state = witness.State.load(state_file)
        note = _get(f"{base}/v1/log/checkpoint").text
        try:
            new = witness.step(
                state, note, consistency=consistency, log=verifier, origin=name, witness=signer, now=now()
            )
        except witness.SplitViewError as err:
            console.print(f"[red]refused: {err.detail}[/]", soft_wrap=True, highlight=False)
            raise typer.Exit(err.exit_code) from None
        new.save(state_file)
        console.print(f"cosigned {name} at size {new.size}")
        if once:
            print(new.note, end="")
            return
        time.sleep(interval)


@audit.command("prove")
def prove_(
    log_key: Annotated[str, typer.Option(help="the log's public key (name+id+key)")],
    bundle_file: Annotated[
        Path | None, typer.Argument(help="a bundle saved from /v1/log/subjects/{commitment}")
    ] = None,
    url: Annotated[str | None, typer.Option(help="fetch the bundle from this registry instead")] = None,
    subject: Annotated[str | None, typer.Option(help="with --url: the subject's commitment, 64 hex digits")] = None,
    origin: Annotated[str | None, typer.Option(help="the log's origin (default: CREDENCE_LOG_ORIGIN)")] = None,
    witness_key: Annotated[
        list[str] | None, typer.Option(help="a witness's public key whose cosignature is required; repeatable")
    ] = None,
) -> None:
    """Check offline that every entry of a subject's bundle is in the log's signed tree."""
    verifier = _parse_verifier(log_key, "--log-key")
    witnesses = [_parse_verifier(k, "--witness-key") for k in witness_key or []]
    if bundle_file is not None:
        text = _read(bundle_file)
    elif url and subject:
        text = _get(f"{url.rstrip('/')}/v1/log/subjects/{subject}").text
    else:
        raise CredenceError("give a bundle file, or --url and --subject")
    try:
        body: dict[str, Any] = json.loads(text)  # Any: JSON
    except ValueError as err:
        raise CredenceError(f"bundle: not JSON ({err})") from None
    proven = prove.check_bundle(body, verifier, origin=origin or get_settings().log_origin, witnesses=witnesses)
    console.print(
        f"{len(proven.indices)} entries proven in the signed tree of {proven.size}"
        + (f" ({proven.erased} erased, proven by hash only)" if proven.erased else "")
    )
