"""``credence demo``: a synthetic city end to end, then commands to try that run as printed."""

import hashlib
import json
import os
import re
import shlex
import subprocess
import sys
import time
import uuid
from importlib import resources
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy import Connection, Engine
from sqlalchemy.engine import URL, make_url

from credence import resolve
from credence.accounts import officers
from credence.audit import keys as log_keys
from credence.audit import notes
from credence.cli import examples, inspect
from credence.cli import serve as served
from credence.cli.context import console, feeds_dir, mappings, now, reading, rule, schemes, today, writing
from credence.cli.examples import FOUND, Example
from credence.cli.registry import CONNECTORS, generate, ingest_feeds
from credence.cli.resolve import TRUTH
from credence.dueprocess.catcher import free_port
from credence.dueprocess.explanations import explain
from credence.exc import CredenceError, NotFoundError
from credence.model.identifiers import masked
from credence.outbox import claims
from credence.pipeline import witnessed
from credence.rules.loader import SHIPPED, load_text
from credence.screening import providers as keys
from credence.settings import get_settings
from credence.store.registry import holds_records

CLI = ".venv/bin/credence"
EXAMPLE_RULEBOOK = "my-rules.yaml"
EXAMPLE_HEADER = """\
# An example rulebook written by `credence demo`: the Suzhou-style points as a draft of a scheme of
# your own. Change a rule's points or a grade band, then see the grades it would give (a draft is
# only ever scored with --dry-run, which writes nothing):
#   credence score --rulebook {path} --dry-run
# and why a subject has its score under it: credence explain ID --rulebook {path}
# The format is in docs/rulebooks.md. The demo writes this file only when it is missing.
"""


def demo(
    people: Annotated[int, typer.Option(help="how many people")] = 100_000,
    feeds: Annotated[Path | None, typer.Option(help="where the feeds go [default: $CREDENCE_DATA_DIR/feeds]")] = None,
    fresh: Annotated[
        bool,
        typer.Option(help="start from an empty registry: deletes an embedded SQLite one; any other must be empty"),
    ] = True,
    serve: Annotated[
        bool, typer.Option("--serve", help="then serve the gate, with a demo provider key and curl lines to try")
    ] = False,
    port: Annotated[int, typer.Option(help="the gate's port with --serve", min=1, max=65535)] = 8000,
) -> None:
    """Generate a city, ingest every feed, score, list, report, and explain three subjects."""
    with writing("demo") as held:  # taken first, so that no other writer's registry is deleted
        gate = _demo(held, people=people, feeds=feeds, fresh=fresh, port=port if serve else None)
    if gate is not None:
        gate += _start_delivery(Path(get_settings().data_dir), restricted=_restricted_of(gate), port=port)
        for line in gate:
            console.print(line, markup=False, highlight=False, soft_wrap=True)
        served.serve(port=port)  # becomes the server: Ctrl-C stops it, and the worker and catcher with it


def _demo(held: Engine, *, people: int, feeds: Path | None, fresh: bool, port: int | None) -> list[str] | None:
    """The demo; with ``port``, also a demo provider key, and the lines that say how to use it."""
    started = time.perf_counter()
    feeds = feeds_dir(feeds)
    if not CONNECTORS.is_dir():  # before generating a city it could not load
        raise CredenceError(
            f"demo: no {CONNECTORS}/ folder of mapping files here; run the demo from the repository root"
        )
    mappings(CONNECTORS)
    if fresh:
        _start_fresh(make_url(get_settings().database_url), held)
    rule("1. a synthetic city and its agencies' feeds")
    generate(people=people, out=feeds, seed=1)
    rule("2. ingest (bad rows are quarantined with file, line and reason)")
    ingest_feeds(feeds)
    rule("3. statistics")
    inspect.report()
    rule("4. the transparency log: signed, witnessed, verified")
    log_lines = _log(held, Path(get_settings().data_dir), fresh=fresh)
    rule("5. three explanations")
    books, day = schemes(), today()
    with reading() as conn:
        found = {which: examples.find(conn, which, day=day) for which in Example}
        picks = [which for which in (Example.TOP, Example.LISTED, Example.BOUND, Example.LOW) if found[which]][:3]
        for which in picks:
            subject = found[which]
            assert subject is not None  # noqa: S101 - picks holds only examples found
            console.print(
                f"\n[bold]{CLI} explain --example {which}[/]: {masked(_number(conn, subject))}, "
                f"{FOUND[which]} (ID masked as the SPC publishes it)"
            )
            inspect.show(explain(conn, books, subject, as_of=day, known_at=now()))
        restricted = found[Example.LISTED] or found[Example.BOUND]
        free = examples.unlisted(conn, day=day)
        tries = _tries(
            explain_example=next((w for w in (Example.LISTED, Example.BOUND) if found[w]), picks[0] if picks else None),
            restricted=_number(conn, restricted) if restricted else None,
            free=_number(conn, free) if free else None,
            rulebook=_example_rulebook(feeds.parent / EXAMPLE_RULEBOOK),
            truth=feeds / TRUTH,
        )
    rule(f"done in {time.perf_counter() - started:.0f} s")
    console.print("Try next (a synthetic city: its ID numbers are generated and belong to no one):")
    for command, why in tries:
        console.print(f"  {CLI} {command}   # {why}", markup=False, highlight=False, soft_wrap=True)
    if port is None:
        return None
    gate = _gate_lines(held, port, restricted=_listed_number(held, restricted), free=_listed_number(held, free))
    return gate + [line.format(base=f"http://127.0.0.1:{port}") for line in log_lines]


DEMO_WITNESS = "demo-witness.credence.local"


def _key(path: Path, name: str, *, kind: int) -> notes.Signer:
    """The demo's key at ``path``, made (mode 0600) the first time; never in the repository."""
    if not path.exists():
        signer = notes.Signer.generate(name, kind=kind)
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f".{path.name}.{uuid.uuid4().hex}")
        partial.write_text(signer.encode() + "\n", encoding="utf-8")
        partial.chmod(0o600)
        try:
            os.link(partial, path)  # whole or not at all; another demo's key, made meanwhile, wins
        except FileExistsError:
            pass
        finally:
            partial.unlink()
    return log_keys.read_signer(path, kind=kind)


def _log(held: Engine, data: Path, *, fresh: bool) -> list[str]:
    """Sign the log's checkpoint (CREDENCE_LOG_KEY, or the demo's own key under the data folder),
    cosign it as a demo witness, verify the store against it, and print what was found; the
    lines for the gate ({base} to fill) that let an outsider do the same."""
    settings = get_settings()
    origin = settings.log_origin
    own = settings.log_key is None and not settings.log_key_file
    signer = _key(data / "log.key", origin, kind=notes.ED25519) if own else log_keys.log_signer(settings)
    # one witness state per registry watched: two demos on two stores are two logs of one name
    state = data / "witness" / f"{hashlib.sha256(settings.database_url.encode()).hexdigest()[:16]}.json"
    state.parent.mkdir(parents=True, exist_ok=True)
    if fresh:  # the registry was emptied: the witness's last checkpoint belongs to the old log
        state.unlink(missing_ok=True)
    done = witnessed.sign_witness_verify(
        held,
        signer=signer,
        witness_signer=_key(data / "witness.key", DEMO_WITNESS, kind=notes.COSIGNATURE),
        state_file=state,
        origin=origin,
        now=now(),
    )
    public = data / "log.pub"
    public.write_text(signer.verifier.encode() + "\n", encoding="utf-8")
    if done is None:
        console.print(
            "the log's entries wait for older transactions on the database server to end: none could be signed"
            f" yet; `{CLI} audit checkpoint` (or the worker) signs them later"
        )
        return []
    report = done.report
    console.print(
        f"log {origin}: {report.leaves:,} entries in the tree, checkpoint signed at size {done.cosigned.size:,}, "
        f"cosigned by {DEMO_WITNESS}; {report.derived_rows:,} derived rows checked against their entries"
    )
    if not report.consistent:
        for problem in report.problems:
            console.print(f"[red]{problem}[/]", soft_wrap=True, highlight=False)
        raise CredenceError(f"demo: the log is NOT consistent ({len(report.problems) + report.hidden} problems)")
    console.print("the log is consistent")
    key_env = "" if not own else f"CREDENCE_LOG_KEY_FILE={data / 'log.key'} "
    return [
        "",
        f"The transparency log: {{base}}/v1/log/checkpoint (public key in {public}). To check it as an outsider:",
        f"  {CLI} audit verify --log-key-file {public} --checkpoint {state}",
        f"  {CLI} audit witness --url {{base}} --key-file {data / 'witness.key'} --state-file {state} "
        f"--log-key {signer.verifier.encode()} --once",
        f"  # the worker signs a new checkpoint every minute while the log grows: {key_env}{CLI} worker",
    ]


def _restricted_of(lines: list[str]) -> str | None:
    """The listed resident the gate lines name (the inquiries line ends with their number)."""
    tail = f"{CLI} inquiries "
    return next((line.strip().removeprefix(tail) for line in lines if line.strip().startswith(tail)), None)


def _start_delivery(data: Path, *, restricted: str | None, port: int) -> list[str]:
    """``credence catcher`` (a local mail server and SMS endpoint) and ``credence worker`` (which
    also signs the log's checkpoints) as processes next to the gate, in this terminal's process
    group so that Ctrl-C stops them too; the lines that say where the notices land."""
    smtp_port, sms_port = free_port(), free_port()
    maildir, sms_log = data / "mail", data / "sms.jsonl"
    credence = str(Path(sys.executable).parent / "credence")
    catcher = [credence, "catcher", "--maildir", str(maildir), "--sms-log", str(sms_log)]
    catcher += ["--smtp-port", str(smtp_port), "--sms-port", str(sms_port)]
    subprocess.Popen(catcher, stdout=subprocess.DEVNULL)  # noqa: S603 - our own command, arguments we built
    env = {
        **os.environ,
        "CREDENCE_SMTP_URL": f"smtp://127.0.0.1:{smtp_port}",
        "CREDENCE_SMS_URL": f"http://127.0.0.1:{sms_port}/sms",
    }
    settings = get_settings()
    if settings.log_key is None and not settings.log_key_file:  # the demo's own log key: the worker signs with it
        env["CREDENCE_LOG_KEY_FILE"] = str(data / "log.key")
    subprocess.Popen([credence, "worker"], env=env, stdout=subprocess.DEVNULL)  # noqa: S603 - as above
    # the gate this process becomes sends sign-in codes itself, to the same catcher
    os.environ.update({name: env[name] for name in ("CREDENCE_SMTP_URL", "CREDENCE_SMS_URL")})
    with reading() as conn:
        waiting = claims.counts(conn).get("pending", 0)
    lines = [
        "",
        f"Notices: credence worker is delivering {waiting:,} waiting notices (every change the build made told to",
        f"its subject) to a local mail catcher: mails in {maildir}/new (Maildir), SMS in {sms_log}.",
        f"  {CLI} notices undeliverable   # who has no contact on record, and every notice's state",
    ]
    if restricted is not None:
        lines.append(f"  {CLI} notices list {restricted}   # what the listed resident was told, and when")
    base = f"http://127.0.0.1:{port}"
    lines += ["", f"The pages: {base}/ (the public record: statistics, rulebooks, measures, the log's checkpoint)."]
    if restricted is not None:
        lines += [
            f"The portal: at {base}/sign-in, sign in as the listed resident {restricted}; the one-time code",
            f"lands in {maildir}/new or {sms_log}, whichever contact they gave (some gave none).",
        ]
    lines += [
        f"The officers' console: at {base}/officers/sign-in, sign in as {DEMO_OFFICER} (the court's officer);",
        f"the code lands in {maildir}/new. As {DEMO_CLERK} (the residents' committees' officer), judge the",
        f"roster rows that wait for a clerk at {base}/officers/linkage.",
    ]
    return lines


def _listed_number(held: Engine, subject: uuid.UUID | None) -> str | None:
    if subject is None:
        return None
    with held.connect() as conn:
        return _number(conn, subject)


DEMO_PROVIDER = "demo-airline-and-railway"
DEMO_OFFICER, DEMO_OFFICER_EMAIL = "court.officer", "court.officer@court.example"
DEMO_CLERK, DEMO_CLERK_EMAIL = "community.officer", "community.officer@community.example"


def _gate_lines(held: Engine, port: int, *, restricted: str | None, free: str | None) -> list[str]:
    """A fresh demo key (any earlier demo key revoked) and ready-to-paste curl lines."""
    with held.begin() as conn:
        keys.revoke(conn, DEMO_PROVIDER, actor="credence demo", now=now())
        issued = keys.issue(conn, DEMO_PROVIDER, ["flight", "rail_ticket"], rate=100, actor="credence demo", now=now())
        if officers.live(conn, DEMO_OFFICER) is None:  # the console's demo officer, acting for the court
            officers.add(conn, DEMO_OFFICER, agency="court", email=DEMO_OFFICER_EMAIL, actor="credence demo", now=now())
        if officers.live(conn, DEMO_CLERK) is None:  # judges the committees' rosters' doubtful links
            officers.add(conn, DEMO_CLERK, agency="community", email=DEMO_CLERK_EMAIL, actor="credence demo", now=now())
    base = f"http://127.0.0.1:{port}"
    lines = [
        "",
        f"The gate: {base} (docs at {base}/docs). A demo provider key (flight, rail_ticket; shown once):",
        f"  {issued.key}",
        "Try (in another terminal):",
    ]
    for number, why in ((restricted, "on a list today: restricted"), (free, "on no list: allowed")):
        if number is None:
            continue
        attributes = {"train_type": "G", "seat_class": "second"}
        body = json.dumps({"subject": number, "action": "rail_ticket", "attributes": attributes})
        lines.append(f"  # {why}")
        lines.append(
            f"  curl -s {base}/v1/checks -H 'Authorization: Bearer {issued.key}' "
            f"-H 'Content-Type: application/json' -d '{body}'"
        )
    if restricted is not None:
        lines.append("  # then, who asked the gate about that resident (the inquiry log):")
        lines.append(f"  {CLI} inquiries {restricted}")
    return lines


def _start_fresh(url: URL, held: Engine) -> None:
    """Delete an embedded SQLite registry; refuse any other that already holds records (the demo
    never deletes a server's data)."""
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        held.dispose()  # no pooled connection may keep the deleted file open
        for suffix in ("", "-wal", "-shm"):
            Path(url.database + suffix).unlink(missing_ok=True)
        return
    with held.connect() as conn:
        filled = holds_records(conn)
    if filled:
        raise CredenceError(
            f"demo --fresh: the registry {url.render_as_string(hide_password=True)} already holds records; "
            "the demo deletes only an embedded SQLite registry: use an empty database, or --no-fresh to add to it"
        )


def _number(conn: Connection, subject: uuid.UUID) -> str:
    number = resolve.number_of(conn, subject)
    if number is None:  # pragma: no cover - the examples are picked from the registry's subjects
        raise NotFoundError(f"subject {subject} is not in the registry")
    return number


def _tries(
    *, explain_example: Example | None, restricted: str | None, free: str | None, rulebook: Path, truth: Path
) -> list[tuple[str, str]]:
    """The "Try next" commands, each one that runs as printed against the registry just built."""
    tries = []
    if explain_example is not None:
        tries.append((f"explain --example {explain_example}", "why a subject has each number and measure (--json too)"))
    if restricted is not None:
        tries.append(
            (f"check {restricted} rail_ticket train_type=G seat_class=second", "a person on a list today: restricted")
        )
    if free is not None:
        tries.append((f"check {free} flight", "a person on no list: allowed"))
    tries += [
        (f"score --rulebook {shlex.quote(str(rulebook))} --dry-run", "grades under a draft rulebook of your own"),
        (f"rulebook simulate {shlex.quote(str(rulebook))}", "who that draft would move, before publishing it"),
        ("rulebook lint", "the shipped rulebooks against the legal profiles they name"),
        ("resolve queue --limit 3", "rows without an ID number that wait for a clerk, side by side, masked"),
        (
            f"resolve evaluate --truth {shlex.quote(str(truth))}",
            "precision and recall of the automatic links against the generator's ground truth",
        ),
        ("quarantine --limit 10", "refused rows with their id, file, line and reason"),
        ("ingest --replay", 'apply quarantined rows that now pass; --fixes F.json {"<id>": {"<column>": value}}'),
        ("report", "the published statistics"),
    ]
    return tries


def _example_rulebook(path: Path) -> Path:
    """A draft rulebook for ``score --rulebook``: the Suzhou-style points under the scheme ``my-city``.

    Written only when missing: an existing file may hold the user's edits."""
    if path.exists():
        return path
    shipped = resources.files(SHIPPED).joinpath("suzhou-osmanthus", "1.0.yaml").read_text("utf-8")
    body = shipped[shipped.index("\nscheme:") + 1 :]  # the shipped header comment is about Suzhou
    for field, value in (("scheme", "my-city"), ("title", "My city's credit points (a draft)"), ("status", "draft")):
        body, n = re.subn(rf"^{field}: .*$", f"{field}: {value}", body, count=1, flags=re.MULTILINE)
        if n != 1:
            raise RuntimeError(f"the shipped Suzhou rulebook has no top-level {field}")  # a bug, not a user's mistake
    text = EXAMPLE_HEADER.format(path=shlex.quote(str(path))) + body
    load_text(text, file=str(path))  # the example must itself load
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path
