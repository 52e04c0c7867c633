"""Ingest rows per second against a bare insert of the same rows into the same table, same run.

Issue 14 part 3's yardstick. Generates a synthetic city with ``credence.synth`` (in a temporary
directory) and takes its CSV feed with the most rows that has a mapping in ``connectors/``
(``volunteers.csv``), or ``--feed``. Then, ``--repeat`` times, alternating:

* ingest: ``credence.ingest.loader.load_file`` with the agency's real mapping into a fresh
  registry (migrated and its catalogue synced before the clock starts): read, every check,
  subjects created, records, quarantine, events, notices, pending subjects, the feed ledger.
  No rescoring: ``load_file`` leaves the touched subjects pending, and the refresh that
  ``credence ingest`` runs after it (``pipeline.update.update`` with the shipped rulebooks) is
  timed apart with ``--rescore`` and printed beside it, not in the ratio.
* bare: the very rows the ingest stored in ``records`` (ids, subject ids, hashes, attributes
  JSON: already checked, as the table holds them) inserted into ``records`` of another fresh
  registry, whose ``subjects`` were copied over first, untimed (the foreign key wants them). On
  SQLite one ``executemany`` of the stored values on the registry's own connection (its pragmas:
  foreign keys on, WAL); on PostgreSQL ``COPY records (...) FROM STDIN`` through psycopg 3's
  ``cursor.copy``, one ``write_row`` per row. One transaction, committed inside the clock.

Rows per second count the records the ingest stored for both (the feed's quarantined and
duplicate rows are read and checked by the ingest only, so the ratio slightly flatters the bare
side). The best of each is reported and the ratio ingest rows/s / bare rows/s. With ``--url``
(a PostgreSQL server, e.g. postgresql://postgres@127.0.0.1:5432/postgres) PostgreSQL is measured
too, each registry in a ``credence_bench_*`` database created and dropped by the benchmark.
``--profile`` runs one more load per store under cProfile and prints its top functions.

    .venv/bin/python benchmarks/ingest_bare.py --people 100000
    .venv/bin/python benchmarks/ingest_bare.py --url postgresql://postgres@127.0.0.1:5432/postgres --rescore
"""

import argparse
import cProfile
import io
import pstats
import secrets
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from rich.console import Console
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from credence.cli.context import progress
from credence.ingest.loader import RECORD_COLUMNS, LoadResult, load_file
from credence.ingest.mapping import Mapping, load_mappings
from credence.model.time import legal_date
from credence.pipeline.update import update
from credence.rules.loader import shipped_schemes
from credence.store.orm import Subject
from credence.store.registry import open_registry
from credence.synth.feeds import generate

CONNECTORS = Path(__file__).resolve().parent.parent / "connectors"
console = Console(width=max(Console().width, 110))
SUBJECT_COLUMNS = tuple(c.name for c in Subject.__table__.columns)


def data_lines(path: Path) -> int:
    with path.open(encoding="utf-8") as handle:
        return sum(1 for _ in handle) - 1  # the header


def now() -> datetime:
    return datetime.now(UTC)


class Stores:
    """Fresh registries on one store: SQLite files in a folder, or PostgreSQL databases."""

    def __init__(self, folder: Path, admin_url: str | None) -> None:
        self.folder, self.admin_url = folder, admin_url
        self.made = 0
        self.admin = (
            None
            if admin_url is None
            else create_engine(make_url(admin_url).set(drivername="postgresql+psycopg"), isolation_level="AUTOCOMMIT")
        )

    @contextmanager
    def fresh(self) -> Iterator[Engine]:
        self.made += 1
        if self.admin is None or self.admin_url is None:
            engine = open_registry(f"sqlite:///{self.folder / f'registry-{self.made}.db'}")
            try:
                yield engine
            finally:
                engine.dispose()
            return
        name = f"credence_bench_{secrets.token_hex(4)}"
        with self.admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            engine = open_registry(make_url(self.admin_url).set(database=name).render_as_string(hide_password=False))
            try:
                yield engine
            finally:
                engine.dispose()
        finally:
            with self.admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@dataclass
class Stored:
    """What an ingest left in its registry, as the driver returns it: the bare side's input."""

    subjects: list[tuple[Any, ...]]
    records: list[tuple[Any, ...]]


def stored(engine: Engine) -> Stored:
    postgres = engine.dialect.name == "postgresql"
    # JSON as its text on PostgreSQL: COPY takes it as text, as a client holding the rows would send it
    columns = ", ".join(f"{c}::text" if postgres and c == "attributes" else c for c in RECORD_COLUMNS)
    with engine.connect() as conn:
        subjects = [tuple(r) for r in conn.exec_driver_sql(f"SELECT {', '.join(SUBJECT_COLUMNS)} FROM subjects")]
        records = [tuple(r) for r in conn.exec_driver_sql(f"SELECT {columns} FROM records")]
    return Stored(subjects, records)


def insert_plain(engine: Engine, table: str, columns: tuple[str, ...], rows: list[tuple[Any, ...]]) -> None:
    """One transaction: ``executemany`` on SQLite, ``COPY ... FROM STDIN`` on PostgreSQL."""
    names = ", ".join(columns)
    with engine.connect() as conn:
        driver = conn.connection.driver_connection
        assert driver is not None  # noqa: S101 - a checked-out connection has one
        if engine.dialect.name == "sqlite":
            marks = ", ".join("?" * len(columns))
            cursor = driver.cursor()
            cursor.execute("BEGIN")
            cursor.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks})", rows)
            driver.commit()
            return
        with driver.cursor() as cursor, cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        driver.commit()


def time_bare(stores: Stores, rows: Stored) -> float:
    with stores.fresh() as engine:
        insert_plain(engine, "subjects", SUBJECT_COLUMNS, rows.subjects)  # untimed: the foreign key's targets
        started = time.perf_counter()
        insert_plain(engine, "records", RECORD_COLUMNS, rows.records)
        seconds = time.perf_counter() - started
        with engine.connect() as conn:
            count = conn.execute(text("SELECT count(*) FROM records")).scalar_one()
        if count != len(rows.records):
            raise SystemExit(f"bare insert stored {count} of {len(rows.records)} rows")
    return seconds


def time_ingest(
    stores: Stores, path: Path, mapping: Mapping, *, rescore: bool
) -> tuple[float, LoadResult, float, Stored]:
    with stores.fresh() as engine:
        started = time.perf_counter()
        result = load_file(engine, path, mapping, now=now())
        seconds = time.perf_counter() - started
        rescored = 0.0
        if rescore:
            started = time.perf_counter()
            update(engine, shipped_schemes(), subjects=result.subjects, as_of=legal_date(now()), now=now())
            rescored = time.perf_counter() - started
        return seconds, result, rescored, stored(engine)


def profiled(stores: Stores, path: Path, mapping: Mapping, top: int) -> str:
    with stores.fresh() as engine:
        profile = cProfile.Profile()
        started = time.perf_counter()
        profile.enable()
        load_file(engine, path, mapping, now=now())
        profile.disable()
        seconds = time.perf_counter() - started
    out = io.StringIO()
    out.write(f"profiled load: {seconds:.3f} s (under cProfile)\n")
    stats = pstats.Stats(profile, stream=out)
    stats.sort_stats("tottime").print_stats(top)
    stats.sort_stats("cumulative").print_stats(top)
    return out.getvalue()


def measure(
    label: str, stores: Stores, path: Path, mapping: Mapping, args: argparse.Namespace
) -> tuple[float, LoadResult, float, float, int]:
    loads: list[float] = []
    bares: list[float] = []
    rescores: list[float] = []
    first: LoadResult | None = None
    rows = 0
    with progress(console) as bar:
        task = bar.add_task(f"{label}: ingest, bare (alternating)", total=args.repeat)
        for _ in range(args.repeat):
            seconds, result, rescored, kept = time_ingest(stores, path, mapping, rescore=args.rescore)
            loads.append(seconds)
            rescores.append(rescored)
            first, rows = result, len(kept.records)
            bares.append(time_bare(stores, kept))
            bar.advance(task)
    assert first is not None  # noqa: S101 - repeat >= 1
    return min(loads), first, min(bares), min(rescores), rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--people", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--feed", help="a CSV feed file name (default: the CSV feed with the most rows)")
    parser.add_argument("--repeat", type=int, default=3, help="ingest/bare pairs per store; the best of each")
    parser.add_argument("--url", help="also measure PostgreSQL at this server URL (own databases, dropped after)")
    parser.add_argument("--no-sqlite", action="store_true", help="PostgreSQL only")
    parser.add_argument("--rescore", action="store_true", help="time the refresh after each load, apart")
    parser.add_argument("--profile", type=int, default=0, metavar="N", help="print a cProfile's top N functions")
    parser.add_argument(
        "--feeds", type=Path, help="generate the city's feeds here once and reuse them (default: a temp dir)"
    )
    args = parser.parse_args()
    mappings = {m.file: m for m in load_mappings(CONNECTORS).values() if m.format == "csv"}
    with tempfile.TemporaryDirectory(prefix="credence-bench-") as tmp:
        work = Path(tmp)
        feeds = args.feeds or work / "feeds"
        if not any(feeds.glob("*.csv")):
            today: date = legal_date(now())
            with progress(console) as bar:
                task = bar.add_task("generate the city (people)", total=args.people)
                generate(
                    feeds,
                    people=args.people,
                    seed=args.seed,
                    today=today,
                    progress=lambda n: bar.update(task, completed=n),
                )
        counts = {f: data_lines(feeds / f) for f in mappings if (feeds / f).exists()}
        feed = args.feed or max(counts, key=lambda f: counts[f])
        if feed not in mappings:
            raise SystemExit(f"{feed}: not a CSV feed with a mapping in connectors/ ({', '.join(sorted(mappings))})")
        path, mapping = feeds / feed, mappings[feed]
        lines = data_lines(path)
        print(
            f"people={args.people:,} seed={args.seed} feed={feed}: {lines:,} data lines, "
            f"{path.stat().st_size / 1e6:.1f} MB"
        )
        print(f"best of {args.repeat} ingest runs and of {args.repeat} bare inserts per store, alternating")
        targets = [] if args.no_sqlite else [("SQLite", None, "executemany", 0.5)]
        if args.url:
            targets.append(("PostgreSQL", args.url, "COPY FROM STDIN", 0.25))
        for label, url, how, goal in targets:
            stores = Stores(work, url)
            load_s, result, bare_s, rescore_s, rows = measure(label, stores, path, mapping, args)
            print(
                f"{label}: ingest {load_s:.3f} s = {rows / load_s:,.0f} rows/s "
                f"(accepted {result.accepted:,}, amended {result.amended:,}, unchanged {result.unchanged:,}, "
                f"quarantined {result.quarantined:,}); bare {how} of the {rows:,} stored rows "
                f"{bare_s:.3f} s = {rows / bare_s:,.0f} rows/s; ratio {bare_s / load_s:.4f} (goal {goal})"
            )
            if args.rescore:
                print(f"{label}: rescoring after the load (not in the ratio): {rescore_s:.3f} s")
            if args.profile:
                print(profiled(stores, path, mapping, args.profile))


if __name__ == "__main__":
    main()
