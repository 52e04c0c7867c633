"""Snapshot export rows per second, full and incremental, against bare pyarrow in the same run.

Fills a fresh registry (SQLite by default, or ``--url postgresql://...``, a database this script
may fill) with ``--records`` records of ``--subjects`` subjects, straight in SQL, then times:

- ``credence snapshot export``'s job (``batch.parquet.export``): full, then incremental after
  ``--new`` more records (a tenth of them amendments of earlier ones);
- the bare baselines on the same rows: ``pq.write_table`` of them already in one Arrow table
  (the write alone), and the minimal hand-written export (the driver's rows into Arrow, then
  ``pq.write_table``, one file, no buckets, no manifest, no incremental bookkeeping).

It prints rows/s and ratios (export rate / baseline rate), the bytes per record in Parquet, and
the time to build the engines' DuckDB snapshot from Parquet (``duckdb.read``) and from the store
(``duckdb.take``): the figures docs/scale.md's arithmetic uses.

    .venv/bin/python benchmarks/snapshot_export.py --records 1000000 --subjects 100000
"""

import argparse
import shutil
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from sqlalchemy import Connection, Engine, text

from credence.batch import duckdb, parquet
from credence.store.db import dialect_of
from credence.store.registry import open_registry

START = datetime(2026, 1, 1, tzinfo=UTC)
ATTRS = '{"amount_yuan": 2000, "offence_code": "1345"}'


def _series(dialect: str, low: int, high: int) -> str:
    """The integers low..high-1 as a relation ``n(i)``."""
    if dialect == "sqlite":
        step = f"SELECT i + 1 FROM s WHERE i < {high - 1}"
        return f"(WITH RECURSIVE s(i) AS (SELECT {low} UNION ALL {step}) SELECT i FROM s) n"
    return f"(SELECT generate_series(CAST({low} AS BIGINT), {high - 1}) AS i) n"


def _hex(dialect: str, value: str) -> str:
    """A 32-hex-digit id of the integer ``value``: random high digits, the integer in the low ones."""
    if dialect == "sqlite":
        return f"printf('%08x%024x', abs(random()) % 4294967296, {value})"
    high, low = "lpad(to_hex((random() * 4294967295)::bigint), 8, '0')", f"lpad(to_hex({value}::bigint), 24, '0')"
    return f"CAST({high} || {low} AS uuid)"


def _instant(dialect: str, seconds: str) -> str:
    if dialect == "sqlite":
        return f"strftime('%Y-%m-%d %H:%M:%f000', '2026-01-01', '+' || ({seconds}) || ' seconds')"
    return f"TIMESTAMPTZ '2026-01-01 00:00:00+00' + ({seconds}) * INTERVAL '1 second'"


def fill(conn: Connection, *, subjects: int, low: int, high: int, day: int, amend_every: int = 0) -> None:
    """Records ``low``..``high - 1`` (and the subjects first, if ``low`` is 0), learned evenly over
    day ``day`` after START (nightly exports re-read the overlap: the last hour of the day before).
    Every ``amend_every``-th record is version 2 of an earlier one."""
    dialect = dialect_of(conn.engine)
    if low == 0:
        number = "lpad(CAST(i AS VARCHAR), 18, '0')" if dialect != "sqlite" else "printf('%018d', i)"
        born = "'1980-01-01'" if dialect == "sqlite" else "DATE '1980-01-01'"
        conn.execute(
            text(f"""INSERT INTO subjects (id, id_number, kind, birth_date, address_code, created_at)
            SELECT {_hex(dialect, "i")}, {number}, 'person', {born}, '320505', {_instant(dialect, "0")}
            FROM {_series(dialect, 0, subjects)}""")
        )
    amended = f"{amend_every} > 0 AND i % {amend_every} = 0" if amend_every else "FALSE"
    version = f"CASE WHEN {amended} THEN 2 ELSE 1 END"
    source_record = f"CAST(CASE WHEN {amended} THEN i - {low} ELSE i END AS VARCHAR)"
    if dialect == "sqlite":
        valid = "date('2020-01-01', '+' || (i % 2000) || ' days')"
    else:
        valid = "DATE '2020-01-01' + CAST(i % 2000 AS INTEGER)"
    spread = f"{day} * 86400 + (i - {low}) * 86400.0 / {high - low}"
    conn.execute(
        text(f"""INSERT INTO records (id, subject_id, source_id, source_record_id, version, op, kind, valid_date,
            recorded_at, jurisdiction, legal_basis, attributes, content_hash)
        SELECT {_hex(dialect, "i")}, s.id, 'tax', {source_record}, {version}, 'assert', 'tax_arrears', {valid},
            {_instant(dialect, spread)}, '320505', 'bench basis', '{ATTRS}', 'bench'
        FROM {_series(dialect, low, high)}
        JOIN (SELECT id, ROW_NUMBER() OVER (ORDER BY id) - 1 AS k FROM subjects) s ON s.k = (i * 7919) % {subjects}""")
    )


def bare(engine: Engine, out: Path, *, since: datetime | None) -> tuple[float, float, int]:
    """The hand-written export of the same rows: driver rows into one Arrow table, one pq.write_table;
    returns its seconds, the seconds of the write alone, and the rows."""
    names = parquet.RECORDS.names
    where = "WHERE recorded_at > :since" if since else ""
    started = time.perf_counter()
    with engine.connect() as conn:
        rows = conn.execute(
            text(f"SELECT {', '.join(names)} FROM records {where}"), {"since": since} if since else {}
        ).all()
    columns = list(zip(*rows, strict=True))
    table = pa.table({n: pa.array([str(v) for v in c]) for n, c in zip(names, columns, strict=True)})
    wrote = time.perf_counter()
    pq.write_table(table, out)
    done = time.perf_counter()
    return done - started, done - wrote, table.num_rows


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--subjects", type=int, default=100_000)
    parser.add_argument("--new", type=int, default=0, help="records added before the incremental export [records / 10]")
    parser.add_argument("--url", default="", help="a PostgreSQL database to fill [a temporary SQLite file]")
    args = parser.parse_args()
    new = args.new or args.records // 10
    work = Path(tempfile.mkdtemp(prefix="snapbench-"))
    try:
        engine = open_registry(args.url or f"sqlite:///{work / 'bench.db'}")
        started = time.perf_counter()
        with engine.begin() as conn:
            fill(conn, subjects=args.subjects, low=0, high=args.records, day=0)
        filled = time.perf_counter() - started
        size = f"{args.records:,} records of {args.subjects:,} subjects"
        print(f"store: {dialect_of(engine)}, {size} ({filled:.0f} s to fill)")
        snap = work / "snapshot"

        def export(now: datetime) -> parquet.Exported:
            with engine.connect() as conn:
                return parquet.export(conn, snap, now=now, overlap=3600.0)

        night = START + timedelta(days=1)  # the first export runs at the end of the first day
        for label, since, count in (("full", None, args.records), ("incremental", night, new)):
            if since is not None:
                with engine.begin() as conn:  # the second day: new records, a tenth amendments
                    fill(conn, subjects=args.subjects, low=args.records, high=args.records + new, day=1, amend_every=10)
            started = time.perf_counter()
            made = export((since or START) + timedelta(days=1))
            seconds = time.perf_counter() - started
            if made.records != count:
                raise SystemExit(f"{label}: exported {made.records:,} records, expected {count:,}")
            total, pure, rows = bare(engine, work / f"bare-{label}.parquet", since=since)
            rate = made.records / seconds
            bare_size = (work / f"bare-{label}.parquet").stat().st_size
            print(
                f"{label} export: {made.records:,} records, {made.subjects:,} subjects in {seconds:.2f} s: "
                f"{rate:,.0f} records/s; {made.files} files, {made.bytes:,} bytes"
            )
            if made.records:
                per_row = made.bytes / (made.records + made.subjects)
                print(f"  Parquet: {per_row:.1f} bytes a row (bare, all text: {bare_size / rows:.1f})")
            base = rows / total
            print(f"  vs bare driver rows -> one pq.write_table ({base:,.0f} rows/s): ratio {rate / base:.2f}")
            print(f"  vs bare pq.write_table alone ({rows / pure:,.0f} rows/s): ratio {rate / (rows / pure):.3f}")
        # what the engines then read: the snapshot's tables from Parquet, or copied from the store
        known = START + timedelta(days=2)
        started = time.perf_counter()
        read = duckdb.read(snap, known_at=known)
        from_parquet = time.perf_counter() - started
        print(f"DuckDB snapshot of {read.facts:,} facts, {read.subjects:,} subjects from Parquet: {from_parquet:.2f} s")
        if dialect_of(engine) != "sqlite":  # SQLite plans the facts query's NOT EXISTS per source: quadratic here
            started = time.perf_counter()
            with engine.connect() as conn:
                taken = duckdb.take(conn, known_at=known)
            print(f"  from the store through Arrow: {time.perf_counter() - started:.2f} s ({taken.facts:,} facts)")
        engine.dispose()
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
