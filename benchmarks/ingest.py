"""Ingest rows per second for a CSV feed, against a bare pyarrow read of the same file in the same run.

Generates a synthetic city with ``credence.synth`` (in a temporary directory) and takes one of its
feeds: by default the CSV feed with the most rows that has a mapping in ``connectors/``
(``volunteers.csv`` for the default city). Times, on the same file:

* ingest: ``credence.ingest.loader.load_file`` with the agency's real mapping into a fresh SQLite
  registry (migrated, source catalogue synced, as ``credence ingest`` does): read, check every
  field, create the subjects, write records, quarantine and events. Best of ``--repeat``, each
  into its own fresh registry. Also shown, not in the ratio: loading the same rows again into
  the filled registry from a copy of the file with CRLF line ends (bytes the ledger has not
  seen, so every row is read, checked and recognised as unchanged), and the same file again
  (recognised by the ledger from its digest: nothing is read).
* bare: ``pyarrow.csv.read_csv`` of the file with every column as a string (rows the parser
  cannot split are skipped, as a bare read would), best of ``--bare-repeat`` (a read takes
  milliseconds, so one stall on a shared machine would swing the ratio) after one untimed
  warm-up read. A DuckDB
  ``CREATE TABLE AS SELECT * FROM read_csv(..., all_varchar=true)`` is timed as well and printed
  beside it, not in the ratio.

Rows per second count the file's data lines (header excluded) for both, so the ratio
ingest rows/s / bare rows/s is the inverse ratio of the times. With ``--url`` (a PostgreSQL
server URL, e.g. postgresql://postgres@127.0.0.1:5432/postgres) the ingest is timed into a fresh
PostgreSQL database too; the benchmark creates its own ``credence_bench_*`` database and drops it
afterwards. Absolute times are printed too but say little on a shared machine.

    .venv/bin/python benchmarks/ingest.py                      # 100,000 people, seed 1
    .venv/bin/python benchmarks/ingest.py --people 10000 --feed blood_bank.csv
    .venv/bin/python benchmarks/ingest.py --url postgresql://postgres@127.0.0.1:5432/postgres
"""

import argparse
import itertools
import secrets
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TypeVar

import duckdb
import pyarrow as pa
from pyarrow import csv as pacsv
from rich.console import Console
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from credence.cli.context import progress
from credence.ingest.loader import LoadResult, load_file
from credence.ingest.mapping import Mapping, load_mappings
from credence.model.time import legal_date
from credence.store.registry import open_registry
from credence.synth.feeds import generate

T = TypeVar("T")
CONNECTORS = Path(__file__).resolve().parent.parent / "connectors"
console = Console(width=max(Console().width, 110))  # logs and pipes get 80 columns otherwise


def now() -> datetime:
    return datetime.now(UTC)


def csv_mappings() -> dict[str, Mapping]:
    """The CSV connector mappings, by feed file name."""
    return {m.file: m for m in load_mappings(CONNECTORS).values() if m.format == "csv"}


def data_lines(path: Path) -> int:
    with path.open(encoding="utf-8") as handle:
        return sum(1 for _ in handle) - 1  # the header


def respelled(path: Path) -> Path:
    """The same rows with CRLF line ends: new bytes to the ledger, the same rows to the checks."""
    copy = path.with_name(f"crlf-{path.name}")
    if not copy.exists():
        copy.write_bytes(path.read_bytes().replace(b"\n", b"\r\n"))
    return copy


def time_ingest(url: str, path: Path, mapping: Mapping) -> tuple[float, LoadResult, float, LoadResult, float]:
    """Load the file into a fresh registry at ``url``, then its rows again from new bytes (all
    unchanged), then the same file again (nothing read)."""
    engine = open_registry(url)
    try:
        started = time.perf_counter()
        first = load_file(engine, path, mapping, now=now())
        loaded = time.perf_counter() - started
        started = time.perf_counter()
        again = load_file(engine, respelled(path), mapping, now=now())
        reloaded = time.perf_counter() - started
        started = time.perf_counter()
        load_file(engine, path, mapping, now=now())
        recognised = time.perf_counter() - started
    finally:
        engine.dispose()
    return loaded, first, reloaded, again, recognised


def bare_pyarrow(path: Path) -> tuple[float, int, int]:
    """Seconds, rows read and rows skipped by a bare pyarrow CSV read (all columns strings)."""
    with path.open(encoding="utf-8") as handle:
        header = handle.readline().rstrip("\n").split(",")
    skipped = 0

    def skip(_row: object) -> str:
        nonlocal skipped
        skipped += 1
        return "skip"

    convert = pacsv.ConvertOptions(column_types=dict.fromkeys(header, pa.string()))
    parse = pacsv.ParseOptions(invalid_row_handler=skip)
    started = time.perf_counter()
    table = pacsv.read_csv(path, parse_options=parse, convert_options=convert)
    seconds = time.perf_counter() - started
    rows: int = table.num_rows
    return seconds, rows, skipped


def bare_duckdb(path: Path) -> tuple[float, int]:
    db = duckdb.connect()
    try:
        started = time.perf_counter()
        db.execute(
            "CREATE TABLE feed AS SELECT * FROM read_csv(?, header = true, all_varchar = true, ignore_errors = true)",
            [str(path)],
        )
        seconds = time.perf_counter() - started
        row = db.execute("SELECT count(*) FROM feed").fetchone()
    finally:
        db.close()
    return seconds, int(row[0]) if row else 0


def best(runs: list[tuple[float, T]]) -> tuple[float, T]:
    return min(runs, key=lambda run: run[0])


def postgres_ingest(admin_url: str, path: Path, mapping: Mapping, repeat: int) -> tuple[float, float]:
    """Best-of-``repeat`` ingest and re-load seconds into a fresh PostgreSQL database per run."""
    admin = create_engine(make_url(admin_url).set(drivername="postgresql+psycopg"), isolation_level="AUTOCOMMIT")
    runs: list[tuple[float, float]] = []
    try:
        for _ in range(repeat):
            name = f"credence_bench_{secrets.token_hex(4)}"
            with admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
            try:
                url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
                loaded, _, reloaded, _, _ = time_ingest(url, path, mapping)
                runs.append((loaded, reloaded))
            finally:
                with admin.connect() as conn:
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()
    return min(r[0] for r in runs), min(r[1] for r in runs)


def timed_runs(label: str, repeat: int, run: Callable[[], T]) -> list[T]:
    results = []
    with progress(console) as bar:
        task = bar.add_task(label, total=repeat)
        for _ in range(repeat):
            results.append(run())
            bar.advance(task)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--people", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--feed", help="a CSV feed file name (default: the CSV feed with the most rows)")
    parser.add_argument("--repeat", type=int, default=3, help="timed ingest runs; the best is reported")
    parser.add_argument("--bare-repeat", type=int, default=10, help="timed bare reads (milliseconds each); the best")
    parser.add_argument("--url", help="also ingest into PostgreSQL at this server URL (own database, dropped after)")
    args = parser.parse_args()
    today: date = legal_date(now())
    mappings = csv_mappings()
    with tempfile.TemporaryDirectory(prefix="credence-bench-") as tmp:
        work = Path(tmp)
        with progress(console) as bar:
            task = bar.add_task("generate the city (people)", total=args.people)
            counts = generate(
                work / "feeds",
                people=args.people,
                seed=args.seed,
                today=today,
                progress=lambda n: bar.update(task, completed=n),
            )
        feed = args.feed or max((f for f in counts if f in mappings), key=lambda f: counts[f])
        if feed not in mappings:
            raise SystemExit(f"{feed}: not a CSV feed with a mapping in connectors/ ({', '.join(sorted(mappings))})")
        path, mapping = work / "feeds" / feed, mappings[feed]
        lines = data_lines(path)
        size = path.stat().st_size

        bare_pyarrow(path), bare_duckdb(path)  # warm-up (imports, thread pools), not timed
        pyarrow_runs = timed_runs("bare pyarrow read", args.bare_repeat, lambda: bare_pyarrow(path))
        arrow_s, (arrow_rows, arrow_skipped) = best([(s, (r, k)) for s, r, k in pyarrow_runs])
        duck_s, duck_rows = best(timed_runs("bare DuckDB read", args.bare_repeat, lambda: bare_duckdb(path)))

        numbers = itertools.count(1)

        def sqlite_run() -> tuple[float, LoadResult, float, LoadResult, float]:
            return time_ingest(f"sqlite:///{work / f'registry-{next(numbers)}.db'}", path, mapping)

        ingest_runs = timed_runs("ingest into fresh SQLite", args.repeat, sqlite_run)
        ingest_s, first, _, again, _ = min(ingest_runs, key=lambda r: r[0])
        reload_s = min(r[2] for r in ingest_runs)
        recognised_s = min(r[4] for r in ingest_runs)
        postgres = postgres_ingest(args.url, path, mapping, args.repeat) if args.url else None

    def rate(seconds: float) -> float:
        return lines / seconds

    print(f"people={args.people:,} seed={args.seed} feed={feed}: {lines:,} rows, {size / 1e6:.1f} MB")
    print(f"best of {args.repeat} ingest runs (each into a fresh registry) and of {args.bare_repeat} bare reads")
    print(
        f"ingest (load_file into fresh SQLite): {ingest_s:.3f} s = {rate(ingest_s):,.0f} rows/s "
        f"(accepted {first.accepted:,}, amended {first.amended:,}, unchanged {first.unchanged:,}, "
        f"quarantined {first.quarantined:,})"
    )
    print(
        f"re-load of the same rows, new bytes ({again.unchanged:,} unchanged): "
        f"{reload_s:.3f} s = {rate(reload_s):,.0f} rows/s"
    )
    print(f"re-load of the same file (recognised by its digest, nothing read): {recognised_s:.4f} s")
    print(
        f"bare pyarrow.csv.read_csv: {arrow_s:.4f} s = {rate(arrow_s):,.0f} rows/s "
        f"({arrow_rows:,} rows, {arrow_skipped} unsplittable skipped)"
    )
    print(f"bare DuckDB read_csv into a table: {duck_s:.4f} s = {rate(duck_s):,.0f} rows/s ({duck_rows:,} rows)")
    print(f"ratio ingest/bare rows/s (SQLite vs pyarrow) = {rate(ingest_s) / rate(arrow_s):.5f}")
    print(f"  ingest takes {ingest_s / arrow_s:,.0f} times as long as the bare pyarrow read")
    print(f"ratio ingest/bare rows/s (SQLite vs DuckDB) = {rate(ingest_s) / rate(duck_s):.5f}")
    if postgres is not None:
        pg_s, pg_reload = postgres
        print(
            f"ingest (load_file into fresh PostgreSQL): {pg_s:.3f} s = {rate(pg_s):,.0f} rows/s; "
            f"re-load {pg_reload:.3f} s = {rate(pg_reload):,.0f} rows/s; "
            f"ratio vs pyarrow = {rate(pg_s) / rate(arrow_s):.5f}"
        )


if __name__ == "__main__":
    main()
