"""Commands that change the registry: db, generate, ingest, score."""

import json
import uuid
from collections import Counter
from contextlib import nullcontext
from functools import partial
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import Progress, TaskID
from rich.table import Table
from sqlalchemy import Engine, func, select

from credence.cli.context import console, engine, feeds_dir, folder, mappings, now, progress, schemes, today, writing
from credence.exc import CredenceError
from credence.ingest.loader import LoadResult, load_file, replay
from credence.ingest.mapping import load_mappings
from credence.ingest.readers import FeedRefusedError
from credence.lists import redlist
from credence.lists.derive import refresh
from credence.logs import get_logger
from credence.pipeline import rebuild, rulebooks, scoring
from credence.pipeline.update import update
from credence.rules.loader import Scheme
from credence.settings import get_settings
from credence.store.orm import Score

log = get_logger(__name__)
db = typer.Typer(help="The store's schema.", no_args_is_help=True)
CONNECTORS = Path("connectors")


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
        counts = make(out, people=people, seed=seed, today=today(), progress=lambda n: bar.advance(task, n))
    table = Table("feed", "rows", title=f"feeds in {out}")
    for name, rows in counts.items():
        table.add_row(name, f"{rows:,}")
    console.print(table)


def _advance(bar: Progress, task: TaskID, rows: int) -> None:
    bar.advance(task, rows)


def ingest_feeds(feeds: Path, connectors: Path = CONNECTORS) -> list[LoadResult]:
    """Load every mapped feed in ``feeds``, then refresh the subjects they touched.

    A file refused whole (its header lacks a mapped column, say) is reported and the others
    still load; the command then ends with status 2, so a scheduler notices."""
    with writing("ingest") as made:
        return _ingest_feeds(made, feeds, connectors)


def _ingest_feeds(made: Engine, feeds: Path, connectors: Path) -> list[LoadResult]:
    results = []
    refused: list[str] = []
    subjects: set[uuid.UUID] = set()
    books = schemes()
    with progress(in_bytes=True) as bar:
        for mapping in load_mappings(connectors).values():
            path = feeds / mapping.file
            if not path.exists():
                console.print(f"[yellow]no {path}; skipped[/]")
                continue
            task = bar.add_task(mapping.file, total=path.stat().st_size)
            try:
                result = load_file(
                    made,
                    path,
                    mapping,
                    now=now(),
                    batch=get_settings().ingest_batch,
                    progress=partial(_advance, bar, task),
                )
            except FeedRefusedError as err:
                bar.update(task, description=f"{mapping.file} (refused)", total=0)
                refused.append(err.detail)
                log.warning("ingest.refused", source=mapping.source, file=path.name)
                continue
            bar.update(task, completed=path.stat().st_size)
            results.append(result)
            log.info(
                "ingest.file",
                source=mapping.source,
                file=path.name,
                rows=result.rows,
                accepted=result.accepted,
                amended=result.amended,
                retracted=result.retracted,
                unchanged=result.unchanged,
                already=result.already,
                quarantined=result.quarantined,
            )
            subjects |= result.subjects
    with console.status("scoring and listing the subjects the feeds touched"):
        written, started, ended = update(made, books, subjects=subjects, as_of=today(), now=now())
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
    for r in results:
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
    console.print(f"{written:,} scores written; listings started {started:,}, ended {ended:,}")
    for detail in refused:
        console.print(f"[red]refused, nothing of it loaded: {detail}[/]")
    if refused:
        raise typer.Exit(2)
    return results


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
        result, still = replay(made, mapped, now=now(), fixes=fixed)
        update(made, schemes(), subjects=result.subjects, as_of=today(), now=now())
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
        str, typer.Option("--engine", help="store (incremental SQL) or duckdb (full recompute)")
    ] = "duckdb",
    dry_run: Annotated[bool, typer.Option("--dry-run", help="compute and summarise; write nothing")] = False,
) -> None:
    """Score and list the whole registry under the shipped rulebooks and any given with --rulebook."""
    books = schemes(rulebook)
    drafts = [
        f"{e.book.scheme} {e.book.version}" for s in books.values() for e in s.editions if e.book.status == "draft"
    ]
    if drafts and not dry_run:
        raise CredenceError(f"draft rulebooks ({', '.join(drafts)}) can only be scored with --dry-run")
    if engine_name not in ("store", "duckdb"):
        raise CredenceError(f"--engine: expected store or duckdb, got {engine_name!r}")
    with nullcontext(engine()) if dry_run else writing("score") as made:
        _score(made, books, engine_name=engine_name, dry_run=dry_run)


def _score(made: Engine, books: dict[str, Scheme], *, engine_name: str, dry_run: bool) -> None:
    instant, day = now(), today()
    scores: rebuild.Scores = {}
    written = started = ended = 0
    if engine_name == "store" and dry_run:
        with made.connect() as conn:
            for name, scheme in books.items():
                if (current := scheme.in_force(day)) is not None and current.book.score is not None:
                    scores[name] = scoring.compute(conn, scheme, as_of=day, known_at=instant)
    elif engine_name == "store":
        written, started, ended = update(made, books, subjects=None, as_of=day, now=instant)
    else:
        with made.connect() as conn:
            snap = rebuild.take_snapshot(conn, known_at=instant)
            listed = rebuild.relist(snap, conn, books)
        scores = rebuild.recompute(snap, books, as_of=day)
        console.print(f"snapshot: {snap.facts:,} facts, {snap.subjects:,} subjects in {snap.seconds:.1f} s")
        if not dry_run:
            with made.begin() as conn:
                rulebooks.register(conn, books, now=instant)
                written = rebuild.write(conn, books, scores, as_of=day)
                started, ended = refresh(conn, books, known_at=instant, now=instant, rows=listed)
                red_started, red_ended = redlist.refresh(conn, books, as_of=day, now=instant)
                started, ended = started + red_started, ended + red_ended
    graded = {name: Counter(grade for _, grade in by_subject.values()) for name, by_subject in scores.items()}
    if engine_name == "store" and not dry_run:
        graded = _stored_grades(made)
    table = Table("scheme", "version", "status", "subjects scored", "grades", title=f"scored as of {day}")
    for name, scheme in books.items():
        current = scheme.in_force(day)
        if current is not None:
            grades = graded.get(name, Counter())
            shown = ", ".join(f"{g} {n:,}" for g, n in sorted(grades.items(), key=lambda kv: str(kv[0])))
            counted = f"{grades.total():,}" if name in graded else ""
            table.add_row(name, current.book.version, current.book.status.value, counted, shown)
    console.print(table)
    if dry_run:
        console.print("dry run: nothing written")
    else:
        console.print(f"{written:,} scores written; listings started {started:,}, ended {ended:,}")


def _stored_grades(made: Engine) -> dict[str, Counter[str | None]]:
    """Subjects by scheme and grade as now stored: the store path's update only counts the rows it writes."""
    graded: dict[str, Counter[str | None]] = {}
    query = select(Score.scheme, Score.grade, func.count()).group_by(Score.scheme, Score.grade)
    with made.connect() as conn:
        for scheme, grade, n in conn.execute(query):
            graded.setdefault(scheme, Counter())[grade] = n
    return graded
