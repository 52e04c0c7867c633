"""Commands that change the registry: db, generate, ingest, score."""

import json
from collections import Counter
from collections.abc import Callable
from contextlib import nullcontext
from functools import partial
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import Progress, TaskID
from rich.status import Status
from rich.table import Table

from credence.cli.context import console, engine, feeds_dir, folder, mappings, now, progress, schemes, today, writing
from credence.cli.resolve import models_dir, show_linked
from credence.exc import CredenceError
from credence.ingest.loader import LoadResult
from credence.pipeline import rebuild, scoring
from credence.pipeline.feeds import load_feeds
from credence.pipeline.feeds import replay_quarantine as replay
from credence.settings import get_settings
from credence.store import roles

db = typer.Typer(help="The store's schema.", no_args_is_help=True)
CONNECTORS = Path("connectors")
HELD = 3  # a source's circuit breaker held rows for review: nothing wrong with the command, but not all applied


@db.command("upgrade")
def db_upgrade() -> None:
    """Create or migrate the registry's schema."""
    engine()
    console.print("[green]schema is at the newest migration[/]")


def generate(
    people: Annotated[int, typer.Option(help="how many people")] = 100_000,
    out: Annotated[Path | None, typer.Option(help="where the feeds go [default: $CREDENCE_DATA_DIR/feeds]")] = None,
    seed: Annotated[int, typer.Option(help="random seed")] = 1,
) -> None:
    """Generate a synthetic city and each agency's feed in its own format."""
    from credence.synth.feeds import generate as make

    out = feeds_dir(out)
    out.mkdir(parents=True, exist_ok=True)
    with progress() as bar:
        task = bar.add_task("people", total=people)
        counts = make(out, people=people, seed=seed, today=today(), progress=lambda n: bar.update(task, completed=n))
    table = Table("feed", "rows", title=f"feeds in {out}")
    for name, rows in counts.items():
        table.add_row(name, f"{rows:,}")
    console.print(table)


class _Bars:
    """Shows the ingest job's files as Rich progress bars, in bytes."""

    def __init__(self, bar: Progress) -> None:
        self.bar = bar
        self.tasks: dict[Path, tuple[TaskID, int]] = {}  # each file's bar and size
        self.status: Status | None = None

    def skipped(self, path: Path) -> None:
        console.print(f"[yellow]no {path}; skipped[/]")

    def reading(self, path: Path, size: int) -> Callable[[int], None]:
        task = self.bar.add_task(path.name, total=size)
        self.tasks[path] = (task, size)
        return partial(self.bar.advance, task)

    def read(self, path: Path, *, refused: bool) -> None:
        task, size = self.tasks[path]
        if refused:
            self.bar.update(task, description=f"{path.name} (refused)", total=0)
        else:
            self.bar.update(task, completed=size)

    def refreshing(self) -> None:
        self.bar.stop()
        self.status = console.status("scoring and listing the subjects the feeds touched")
        self.status.start()


def ingest_feeds(feeds: Path, connectors: Path = CONNECTORS) -> list[LoadResult]:
    """Load every mapped feed in ``feeds``, then refresh the subjects they touched.

    A file refused whole (its header lacks a mapped column, say) is reported and the others
    still load; the command then ends with status 2, so a scheduler notices. Adverse rows a
    source's circuit breaker held are reported too, and the command ends with status 3."""
    mapped, books = mappings(connectors), schemes()
    with writing("ingest") as made, progress(in_bytes=True) as bar:
        bars = _Bars(bar)
        try:
            loaded = load_feeds(
                made,
                feeds,
                mapped,
                books,
                clock=now,
                as_of=today,
                batch=get_settings().ingest_batch,
                watcher=bars,
                models=models_dir(),
            )
        finally:
            if bars.status is not None:
                bars.status.stop()
    table = Table(
        "file",
        "rows",
        "accepted",
        "amended",
        "retracted",
        "unchanged",
        "quarantined",
        "why quarantined",
        title="ingest",
    )
    for r in loaded.results:
        why = ", ".join(f"{k} ×{v}" for k, v in r.reasons.most_common(4))
        table.add_row(
            Path(r.file).name,
            f"{r.rows:,}",
            f"{r.accepted:,}",
            f"{r.amended:,}",
            f"{r.retracted:,}",
            f"{r.unchanged:,}",
            f"{r.quarantined:,}",
            why,
        )
    console.print(table)
    if loaded.linked is not None:
        show_linked(loaded.linked)
    written = loaded.written
    console.print(f"{written.scores:,} scores written; listings started {written.started:,}, ended {written.ended:,}")
    for detail in loaded.refused:
        console.print(f"[red]refused, nothing of it loaded: {detail}[/]")
    for r in loaded.held:
        why = f"; {r.tripped}" if r.tripped else ""
        console.print(
            f"[red]held for review, not applied: {r.held:,} adverse rows of {Path(r.file).name} (hold {r.hold}{why});"
            " see `credence held`, then `credence held release` or `reject`[/]",
            soft_wrap=True,
        )
    if loaded.refused:
        raise typer.Exit(2)
    if loaded.held:
        raise typer.Exit(HELD)
    return loaded.results


def ingest(
    feeds: Annotated[
        Path | None, typer.Option(help="folder with the agencies' feed files [default: $CREDENCE_DATA_DIR/feeds]")
    ] = None,
    connectors: Annotated[Path, typer.Option(help="folder with the mapping files")] = CONNECTORS,
    replay_quarantine: Annotated[bool, typer.Option("--replay", help="apply quarantined rows that now pass")] = False,
    fixes: Annotated[Path | None, typer.Option(help="JSON {quarantine id: {column: value}} for --replay")] = None,
) -> None:
    """Load every feed that has a mapping file; bad rows go to quarantine with their reason."""
    mapped = mappings(connectors)  # refused before the registry is touched
    if not replay_quarantine:
        ingest_feeds(folder(feeds_dir(feeds), option="--feeds", holds="the agencies' feed files"), connectors)
        return
    fixed = read_fixes(fixes) if fixes else {}
    with writing("ingest --replay") as made:
        result, still, _ = replay(made, mapped, schemes(), now=now(), as_of=today(), fixes=fixed)
    console.print(
        f"replayed {result.accepted + result.amended + result.retracted:,} rows; {len(still):,} still refused"
    )
    for r in still[:20]:
        console.print(f"  line {r.line}: {r.reason}")


FIXES_SHAPE = '{"<quarantine id>": {"<column>": <value>}}'
_JSON_TYPES = {dict: "an object", list: "an array", str: "a string", int: "a number", float: "a number"}


def _json_type(value: object) -> str:
    return "null" if value is None else "true or false" if isinstance(value, bool) else _JSON_TYPES[type(value)]


def read_fixes(path: Path) -> dict[int, dict[str, Any]]:  # Any: a fix supplies a row's JSON values
    """``--fixes``: corrected columns by quarantine id, or a ``CredenceError`` naming the file and the entry."""
    try:
        data = json.loads(path.read_text("utf-8"))
    except UnicodeDecodeError as err:
        raise CredenceError(f"--fixes {path}: not UTF-8 text (byte {err.start}); expected JSON {FIXES_SHAPE}") from None
    except json.JSONDecodeError as err:
        raise CredenceError(
            f"--fixes {path}, line {err.lineno}, column {err.colno}: not JSON ({err.msg}); expected {FIXES_SHAPE}"
        ) from None
    if not isinstance(data, dict):
        raise CredenceError(f"--fixes {path}: expected a JSON object {FIXES_SHAPE}, got {_json_type(data)}")
    fixed = {}
    for key, fix in data.items():
        if not key.strip().isdecimal():
            raise CredenceError(
                f"--fixes {path}: {key!r} is not a quarantine id (the number `credence quarantine` shows); "
                f"expected {FIXES_SHAPE}"
            )
        if not isinstance(fix, dict):
            raise CredenceError(
                f"--fixes {path}: {key}: expected an object of column: value, got {_json_type(fix)}; "
                f"expected {FIXES_SHAPE}"
            )
        fixed[int(key)] = fix
    return fixed


def score(
    rulebook: Annotated[
        list[Path] | None,
        typer.Option(help="an extra rulebook YAML, e.g. one written outside the repository"),
    ] = None,
    engine_name: Annotated[
        str,
        typer.Option(
            "--engine",
            help="store (incremental SQL), duckdb (full recompute) or spark (full recompute on CREDENCE_SPARK_MASTER)",
        ),
    ] = "duckdb",
    dry_run: Annotated[bool, typer.Option("--dry-run", help="compute and summarise; write nothing")] = False,
    through: Annotated[
        Path | None,
        typer.Option(
            "--snapshot",
            help="read the records from this Parquet snapshot (brought up to date first) rather than copying them "
            "from the store (duckdb and spark engines)",
        ),
    ] = None,
) -> None:
    """Score and list the whole registry under the shipped rulebooks and any given with --rulebook."""
    books = schemes(rulebook)
    scoring.refuse_drafts(books, dry_run=dry_run)
    if engine_name not in set(scoring.Where):
        raise CredenceError(f"--engine: expected store, duckdb or spark, got {engine_name!r}")
    where = scoring.Where(engine_name)
    scoring.refuse_missing(where)  # before the writer lock and the snapshot
    instant, day = now(), today()
    settings = get_settings()
    snap = None
    if through is not None:
        snap = rebuild.Through(folder=through, overlap=settings.snapshot_overlap, buckets=settings.snapshot_buckets)
    # bringing the snapshot up to date writes its files: under the writer lock, even in a dry run
    with nullcontext(engine()) if dry_run and snap is None else writing("score") as made:
        scored = scoring.score(
            made,
            books,
            where=where,
            dry_run=dry_run,
            as_of=day,
            now=instant,
            spark_master=settings.spark_master,
            snapshot=snap,
        )
    if scored.snapshot is not None:
        facts, subjects, seconds = scored.snapshot
        console.print(f"snapshot: {facts:,} facts, {subjects:,} subjects in {seconds:.1f} s")
    table = Table("scheme", "version", "status", "subjects scored", "grades", title=f"scored as of {day}")
    for name, scheme in books.items():
        current = scheme.in_force(day)
        if current is not None:
            grades = scored.graded.get(name, Counter())
            shown = ", ".join(f"{g} {n:,}" for g, n in sorted(grades.items(), key=lambda kv: str(kv[0])))
            counted = f"{grades.total():,}" if name in scored.graded else ""
            table.add_row(name, current.book.version, current.book.status.value, counted, shown)
    console.print(table)
    if dry_run:
        console.print("dry run: nothing written")
    else:
        written = scored.written
        console.print(
            f"{written.scores:,} scores written; listings started {written.started:,}, ended {written.ended:,}"
        )


@db.command("roles")
def db_roles(
    owner: Annotated[str, typer.Option(help="the owner role (NOLOGIN): holds the schema, migrations run as it")] = (
        roles.OWNER
    ),
    service: Annotated[str, typer.Option(help="the service role (LOGIN): what the registry runs as")] = roles.SERVICE,
) -> None:
    """PostgreSQL: create the owner and service roles (idempotent), give the owner the schema, grant the service role
    its privileges. Runs through CREDENCE_MIGRATION_URL, else CREDENCE_DATABASE_URL, as an administrator."""
    settings = get_settings()
    url = settings.migration_url or settings.database_url
    password = settings.service_password.get_secret_value() if settings.service_password else None
    made = roles.create(url, owner=owner, service=service, password=password)
    table = Table("role", "", "what it may do", title=f"roles of {made.database} (schema {made.schema})")
    for name, may in (
        (made.owner, f"owns the schema and its {made.owned} objects; migrations run as it; cannot sign in"),
        (
            made.service,
            f"signs in; on {made.tables} tables exactly what the registry does (append-only: INSERT, SELECT)",
        ),
    ):
        table.add_row(name, "created" if name in made.created else "existed", may)
    console.print(table)
    console.print(
        f"run the registry as CREDENCE_DATABASE_URL={roles.service_url(url, made.service)}"
        f" (password from the environment), and migrate with CREDENCE_MIGRATION_URL set to a member of {made.owner};"
        " run this again after an upgrade that adds a table",
        soft_wrap=True,
        highlight=False,
    )
