"""``credence demo``: a synthetic city end to end on the embedded SQLite store."""

import time
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy import Engine, select
from sqlalchemy.engine import make_url

from credence.cli import inspect
from credence.cli.context import console, engine, feeds_dir, now, schemes, today, writing
from credence.cli.registry import generate, ingest_feeds
from credence.dueprocess.explanations import explain
from credence.settings import get_settings
from credence.store.orm import Listing, Score, Subject


def demo(
    people: Annotated[int, typer.Option(help="how many people")] = 100_000,
    feeds: Annotated[Path | None, typer.Option(help="where the feeds go [default: $CREDENCE_DATA_DIR/feeds]")] = None,
    fresh: Annotated[bool, typer.Option(help="start from an empty SQLite registry")] = True,
) -> None:
    """Generate a city, ingest every feed, score, list, report, and explain three subjects."""
    with writing("demo") as held:  # taken first, so that no other writer's registry is deleted
        _demo(held, people=people, feeds=feeds, fresh=fresh)


def _demo(held: Engine, *, people: int, feeds: Path | None, fresh: bool) -> None:
    started = time.perf_counter()
    feeds = feeds_dir(feeds)
    url = make_url(get_settings().database_url)
    if fresh and url.get_backend_name() == "sqlite" and url.database:
        held.dispose()  # no pooled connection may keep the deleted file open
        for suffix in ("", "-wal", "-shm"):
            Path(url.database + suffix).unlink(missing_ok=True)
    console.rule("1. a synthetic city and its agencies' feeds")
    generate(people=people, out=feeds, seed=1)
    console.rule("2. ingest (bad rows are quarantined with file, line and reason)")
    ingest_feeds(feeds)
    console.rule("3. statistics")
    inspect.report()
    console.rule("4. three explanations")
    made = engine()
    books = schemes()
    with made.connect() as conn:
        top = conn.execute(
            select(Score.subject_id).where(Score.scheme == "suzhou-osmanthus").order_by(Score.score.desc()).limit(1)
        ).scalar()
        listed = conn.execute(
            select(Listing.subject_id).where(Listing.role == "subject", Listing.end_date.is_(None)).limit(1)
        ).scalar()
        bound = conn.execute(select(Listing.subject_id).where(Listing.role != "subject").limit(1)).scalar()
        low = conn.execute(
            select(Score.subject_id).where(Score.scheme == "rongcheng-credit").order_by(Score.score).limit(1)
        ).scalar()
        picks = [s for s in (top, listed, bound or low) if s is not None]
        for subject in picks:
            number = conn.execute(select(Subject.id_number).where(Subject.id == subject)).scalar_one()
            console.print(
                f"\n[bold]credence explain {number[:10]}****{number[14:]}[/] (ID masked here as the SPC publishes it)"
            )
            inspect.show(explain(conn, books, subject, as_of=today(), known_at=now()))
    console.rule(f"done in {time.perf_counter() - started:.0f} s")
    console.print(
        "Try next:\n"
        "  .venv/bin/credence explain <ID> [--json]        why a subject has each number and measure\n"
        "  .venv/bin/credence check <ID> rail_ticket train_type=G seat_class=second\n"
        "  .venv/bin/credence score --rulebook my-rules.yaml   score under a rulebook of your own\n"
        "  .venv/bin/credence ingest --replay --fixes fixes.json   apply quarantined rows once fixed\n"
        "  .venv/bin/credence report                        the published statistics"
    )
