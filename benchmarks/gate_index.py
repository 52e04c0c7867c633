"""The gate's index at national scale: memory per restricted subject and load time.

Two parts, each against a baseline measured in the same run:

1. Memory. ``--people`` restricted people (default 10,000,000), each on the court's list
   through one listing with the list's measures, a court of ~3,000 and a case number of its
   own, built into the index's arrays (``screening.index.build_arrays``). Printed: bytes per
   person of the arrays (goal <= 32), against a bare sorted int64 key array (8 bytes a key)
   and against a Python dict of the same number of int keys to None (measured with
   ``tracemalloc`` on a tenth of them and scaled, the int objects included; a real dict would
   also hold a value per key: the issue's "about 800 MB per worker" for 10 million). Also the build time.
2. Load from a store. ``--store-people`` (default 10,000,000) listed people written straight
   into the ``subjects`` and ``active_measures`` tables of a registry (bulk SQL: the registry's
   own writers would take hours), a tenth of them on a second listing, a fifth of the listings
   with an end day, each listing carrying the court list's first ``--measures`` measures (all
   13 by default), and 1,000 listed organisations. The store is cached by its shape: SQLite in
   a file under ``--cache``, PostgreSQL in the database of ``--pg`` (``--pg-drop`` drops it
   after). Timed, best of ``--rounds``: ``screening.index.load``, against a bare fetch in the
   same round (the DBAPI cursor's plain tuples of one row per listing, its first measure's, no
   grouping). Printed: seconds, people per second, the ratio to the bare fetch, and the arrays'
   bytes per person.

    .venv/bin/python benchmarks/gate_index.py --people 0 --store-people 10000000 --measures 3
    .venv/bin/python benchmarks/gate_index.py --people 0 --store-people 200000 --stores both --pg-drop
"""

import argparse
import os
import random
import sqlite3
import time
import tracemalloc
from collections import defaultdict
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console
from rich.table import Table
from sqlalchemy import Connection, Engine, text

from credence.lists.measures import Effect, default_measures
from credence.screening import index as gate_index
from credence.store.registry import open_registry

console = Console()
LIST = "dishonest-judgment-defaulters"
COURT_COUNT = 3_000


def court(n: int) -> str:
    return f"People's Court no. {n % COURT_COUNT}"


def case(n: int, rng: random.Random) -> str:
    return f"({2015 + n % 11})苏{n % COURT_COUNT:04d}执{rng.randint(1, 99_999)}号"


def listed_measures() -> list[tuple[str, str, str]]:
    """(measure, action, effect) of the court's list in the shipped catalogue (13)."""
    return sorted(
        (m.id, m.action, m.effect.value)
        for m in default_measures()
        if m.effect is not Effect.REWARD and LIST in m.lists
    )


def keys(count: int, rng: random.Random) -> list[int]:
    """Distinct 17-digit keys, sorted (a resident ID without its check character)."""
    found = np.unique(np.asarray([rng.randrange(10**16, 10**17) for _ in range(int(count * 1.001) + 10)]))
    return sorted(int(k) for k in found[:count])


def memory(people: int, seed: int) -> None:
    rng = random.Random(seed)
    measures = frozenset((m, a) for m, a, _ in listed_measures())
    start = date(2020, 1, 1).toordinal()
    chosen = keys(people, rng)
    started = time.perf_counter()
    arrays = gate_index.build_arrays(
        (k, gate_index.Listed(start + n % 2000, gate_index.OPEN, measures, LIST, court(n), case(n, rng)))
        for n, k in enumerate(chosen)
    )
    built = time.perf_counter() - started
    bare = np.asarray(chosen, dtype=np.int64)
    sample = chosen[: max(1, people // 10)]
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    as_dict = {k + 1: None for k in sample}  # new int objects: a dict holds its keys too
    dict_bytes = (tracemalloc.get_traced_memory()[0] - before) * people / len(sample)
    tracemalloc.stop()
    del as_dict
    per = arrays.nbytes / arrays.people
    table = Table(title=f"index memory, {arrays.people:,} restricted people")
    for column in ("", "bytes", "bytes per person", "index / this"):
        table.add_column(column, justify="right")
    table.add_row("index arrays", f"{arrays.nbytes:,}", f"{per:.1f}", "1.00")
    table.add_row("bare sorted int64 keys", f"{bare.nbytes:,}", f"{bare.nbytes / people:.1f}", f"{per / 8:.2f}")
    table.add_row(
        "dict of int keys, keys included (scaled)",
        f"{dict_bytes:,.0f}",
        f"{dict_bytes / people:.1f}",
        f"{per / (dict_bytes / people):.2f}",
    )
    console.print(table)
    console.print(
        f"built in {built:.1f} s; interned: {len(arrays.set_values)} measure sets, {len(arrays.court_values):,} "
        f"courts, {len(arrays.case_values):,} case patterns; goal <= 32 bytes per person: "
        f"{'met' if per <= 32 else 'NOT met'}"
    )


# the store -------------------------------------------------------------------------------------

_WEIGHTS = np.array([pow(2, 17 - i, 11) for i in range(17)], dtype=np.int64)
_CHECKS = np.frombuffer(b"10X98765432", dtype=np.uint8)
NOW = "2026-12-01 00:00:00.000000"


def resident_ids(count: int, seed: int) -> list[str]:
    """``count`` distinct valid resident IDs (the check character computed), in random order."""
    rng = np.random.default_rng(seed)
    keys = np.unique(rng.integers(11 * 10**15, 66 * 10**15, size=int(count * 1.01) + 100, dtype=np.int64))
    keys = rng.permutation(keys)[:count]
    digits = (keys[:, None] // (10 ** np.arange(16, -1, -1, dtype=np.int64))) % 10
    check = _CHECKS[(digits @ _WEIGHTS) % 11]
    raw = np.concatenate([(digits + 48).astype(np.uint8), check[:, None]], axis=1).tobytes().decode()
    return [raw[i : i + 18] for i in range(0, len(raw), 18)]


def uuid_hex(count: int) -> list[str]:
    raw = os.urandom(16 * count).hex()
    return [raw[i : i + 32] for i in range(0, len(raw), 32)]


def shape(people: int, measures: int, seed: int) -> str:
    return f"people{people}-measures{measures}-seed{seed}-v1"


def seed_sqlite(path: Path, people: int, measures: int, seed: int) -> None:
    """A SQLite registry (migrated by ``open_registry``) of ``people`` listed people, a tenth of
    them on a second listing, a fifth of the listings with an end day, each listing carrying the
    court list's first ``measures`` measures; and 1,000 listed organisations."""
    engine = open_registry(f"sqlite:///{path}")
    engine.dispose()
    db = sqlite3.connect(path, isolation_level=None)
    db.executescript("PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; PRAGMA cache_size=-4000000;")
    indexes = db.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
        " AND tbl_name IN ('subjects', 'active_measures')"
    ).fetchall()
    db.execute("BEGIN")
    for name, _ in indexes:
        db.execute(f'DROP INDEX "{name}"')
    ids = uuid_hex(people + 1000)
    numbers = resident_ids(people, seed) + [f"91320505MA{n:07d}X" for n in range(1000)]
    kinds = ["person"] * people + ["organisation"] * 1000
    db.executemany(
        "INSERT INTO subjects (id, id_number, kind, birth_date, address_code, created_at)"
        " VALUES (?, ?, ?, NULL, substr(?, 1, 6), ?)",
        ((i, n, k, n, NOW) for i, n, k in zip(ids, numbers, kinds, strict=True)),
    )
    del ids, numbers, kinds
    db.execute("CREATE TEMP TABLE bench_measures (measure_id TEXT, action TEXT, effect TEXT)")
    db.executemany("INSERT INTO bench_measures VALUES (?, ?, ?)", listed_measures()[:measures])
    listing = (
        "SELECT id, lower(hex(randomblob(16))), date('2020-01-01', '+' || (rowid * {m} % 2000) || ' days'),"
        " CASE WHEN rowid % 5 = {e} THEN date('2020-01-01', '+' || (rowid * {m} % 2000 + 1826) || ' days') END,"
        f" 'People''s Court no. ' || (rowid % {COURT_COUNT}),"
        " '(' || (2015 + rowid % 11) || ')苏' || printf('%04d', rowid % 3000) || '执'"
        " || (abs(random()) % 99999 + 1) || '号'"
        " FROM subjects"
    )
    db.execute("CREATE TEMP TABLE bench_listings (subject_id, listing_id, day, until, court, case_number)")
    db.execute(f"INSERT INTO bench_listings {listing.format(m=1, e=0)}")
    db.execute(f"INSERT INTO bench_listings {listing.format(m=7, e=1)} WHERE rowid % 10 = 3")
    db.execute(
        "INSERT INTO active_measures (id, subject_id, measure_id, action, effect, valid_from, valid_to,"
        " listed_subject_id, listing_id, list_id, listing_start, court, case_number, legal_basis, derived_at)"
        " SELECT lower(hex(randomblob(16))), l.subject_id, m.measure_id, m.action, m.effect, l.day, l.until,"
        f" l.subject_id, l.listing_id, '{LIST}', l.day, l.court, l.case_number, 'benchmark', '{NOW}'"
        " FROM bench_listings AS l CROSS JOIN bench_measures AS m"
    )
    for _, sql in indexes:
        db.execute(sql)
    db.execute("COMMIT")
    db.close()


def sqlite_store(cache: Path, people: int, measures: int, seed: int) -> tuple[Engine, str]:
    """The cached SQLite store of this shape (seeded first if missing)."""
    cache.mkdir(parents=True, exist_ok=True)
    path = cache / f"gate-index-{shape(people, measures, seed)}.db"
    note = "cached"
    if not path.exists():
        started = time.perf_counter()
        partial = path.with_suffix(".partial")
        partial.unlink(missing_ok=True)
        seed_sqlite(partial, people, measures, seed)
        partial.rename(path)
        note = f"seeded in {time.perf_counter() - started:.0f} s"
    return open_registry(f"sqlite:///{path}"), note


def postgres_store(url: str, people: int, measures: int, seed: int) -> tuple[Engine, str]:
    """The PostgreSQL store of this shape in the database of ``url`` (created, and seeded unless
    it holds this shape already: the table ``bench_shape`` says which)."""
    import psycopg

    base, name = url.rsplit("/", 1)
    admin = base.replace("postgresql+psycopg", "postgresql") + "/postgres"
    wanted = shape(people, measures, seed)
    with psycopg.connect(admin, autocommit=True) as db:
        if db.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            with psycopg.connect(f"{base.replace('postgresql+psycopg', 'postgresql')}/{name}") as found:
                held = found.execute("SELECT to_regclass('bench_shape') IS NOT NULL").fetchone()
                if held and held[0] and found.execute("SELECT shape FROM bench_shape").fetchone() == (wanted,):
                    return open_registry(url), "cached"
            db.execute(f'DROP DATABASE "{name}"')
        db.execute(f'CREATE DATABASE "{name}"')
    engine = open_registry(url)
    started = time.perf_counter()
    raw = engine.raw_connection()
    db = raw.driver_connection
    assert db is not None  # noqa: S101
    with db.cursor() as cur:
        cur.execute("CREATE TABLE bench_shape (shape text)")
        secondary = cur.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename IN ('subjects', 'active_measures')"
            " AND indexname LIKE 'ix_%%'"
        ).fetchall()
        for index_name, _ in secondary:
            cur.execute(f'DROP INDEX "{index_name}"')
        ids = uuid_hex(people + 1000)
        numbers = resident_ids(people, seed) + [f"91320505MA{n:07d}X" for n in range(1000)]
        with cur.copy("COPY subjects (id, id_number, kind, address_code, created_at) FROM STDIN") as copy:
            for n, (sid, number) in enumerate(zip(ids, numbers, strict=True)):
                copy.write_row((sid, number, "person" if n < people else "organisation", number[:6], NOW))
        del ids, numbers
        cur.execute("CREATE TEMP TABLE bench_measures (k int, measure_id text, action text, effect text)")
        cur.executemany(
            "INSERT INTO bench_measures VALUES (%s, %s, %s, %s)",
            [(k, *m) for k, m in enumerate(listed_measures()[:measures])],
        )
        listing = (
            "SELECT id, gen_random_uuid(), DATE '2020-01-01' + (n * {m} % 2000)::int,"
            " CASE WHEN n % 5 = {e} THEN DATE '2020-01-01' + (n * {m} % 2000 + 1826)::int END,"
            f" 'People''s Court no. ' || (n % {COURT_COUNT}),"
            " '(' || (2015 + n % 11) || ')苏' || lpad((n % 3000)::text, 4, '0') || '执'"
            " || (floor(random() * 99999) + 1)::int || '号'"
            " FROM (SELECT id, row_number() OVER () AS n FROM subjects) AS s"
        )
        cur.execute(
            "CREATE TEMP TABLE bench_listings"
            " (subject_id uuid, listing_id uuid, day date, until date, court text, case_number text)"
        )
        cur.execute(f"INSERT INTO bench_listings {listing.format(m=1, e=0)}")
        cur.execute(f"INSERT INTO bench_listings {listing.format(m=7, e=1)} WHERE n % 10 = 3")
        cur.execute(
            "INSERT INTO active_measures (id, subject_id, measure_id, action, effect, valid_from, valid_to,"
            " listed_subject_id, listing_id, list_id, listing_start, court, case_number, legal_basis, derived_at)"
            " SELECT gen_random_uuid(), l.subject_id, m.measure_id, m.action, m.effect, l.day, l.until,"
            f" l.subject_id, l.listing_id, '{LIST}', l.day, l.court, l.case_number, 'benchmark', '{NOW}'"
            " FROM bench_listings AS l CROSS JOIN bench_measures AS m ORDER BY l.ctid, m.k"
        )
        for _, definition in secondary:
            cur.execute(definition)
        cur.execute("INSERT INTO bench_shape VALUES (%s)", (wanted,))
    db.commit()
    raw.close()
    with engine.connect() as conn:
        conn.execute(text("ANALYZE"))
        conn.commit()
    return engine, f"seeded in {time.perf_counter() - started:.0f} s"


def drop_postgres(url: str) -> None:
    import psycopg

    base, name = url.rsplit("/", 1)
    with psycopg.connect(base.replace("postgresql+psycopg", "postgresql") + "/postgres", autocommit=True) as db:
        db.execute(f'DROP DATABASE IF EXISTS "{name}"')


def bare_fetch(conn: Connection) -> int:
    """The baseline: the DBAPI cursor's fetch, in batches of plain tuples, of one row per listing
    (its first measure's row: no grouping) with the columns the index keeps."""
    first = listed_measures()[0]
    raw = conn.connection.dbapi_connection
    mark = "?" if conn.dialect.name == "sqlite" else "%s"
    cursor = raw.cursor()  # type: ignore[union-attr]
    cursor.execute(
        "SELECT s.id_number, a.list_id, a.valid_from, a.valid_to, a.court, a.case_number"
        " FROM active_measures AS a JOIN subjects AS s ON s.id = a.subject_id"
        f" WHERE a.measure_id = {mark} AND a.action = {mark}",
        first[:2],
    )
    count = 0
    while batch := cursor.fetchmany(100_000):
        count += len(batch)
    cursor.close()
    return count


def timed(engine: Engine, load: Callable[[Connection], Any]) -> tuple[float, Any]:
    with engine.connect() as conn:
        conn.execute(text("SELECT 1"))
        started = time.perf_counter()
        found = load(conn)
        return time.perf_counter() - started, found


def store(engine: Engine, label: str, people: int, rows: int, *, rounds: int) -> None:
    console.print(f"{label}: {people:,} listed people, {rows:,} active-measure rows; load {os.getloadavg()[0]:.1f}")
    results: dict[str, list[float]] = defaultdict(list)
    snapshot = None
    for _ in range(rounds):
        bare, listings = timed(engine, bare_fetch)
        results["bare"].append(bare)
        loaded, snapshot = timed(engine, gate_index.load)
        results["load"].append(loaded)
        console.print(
            f"  round: bare {bare:.1f} s ({listings:,} rows), load {loaded:.1f} s; load {os.getloadavg()[0]:.1f}"
        )
    assert snapshot is not None  # noqa: S101
    held = snapshot.subjects
    per = snapshot.people.nbytes / max(1, snapshot.people.people)
    bare, loaded = min(results["bare"]), min(results["load"])
    table = Table(title=f"index load, {label}")
    for column in ("", "seconds", "people/s", "load / bare"):
        table.add_column(column, justify="right")
    table.add_row("bare fetch (DBAPI, one row per listing)", f"{bare:.1f}", f"{held / bare:,.0f}", "1.00")
    table.add_row("index.load", f"{loaded:.1f}", f"{held / loaded:,.0f}", f"{loaded / bare:.2f}")
    console.print(table)
    console.print(
        f"  {held:,} subjects held ({snapshot.people.people:,} people in the arrays, {per:.1f} bytes each), "
        f"best of {rounds}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=10_000_000, help="memory part; 0 skips it")
    parser.add_argument("--store-people", type=int, default=10_000_000, help="load part; 0 skips it")
    parser.add_argument("--measures", type=int, default=13, help="measures per listing (the court list has 13)")
    parser.add_argument("--stores", default="sqlite", help="sqlite, postgres or both")
    parser.add_argument("--pg", default="postgresql+psycopg://postgres@127.0.0.1:5432/credence_bench_load")
    parser.add_argument("--pg-drop", action="store_true", help="drop the PostgreSQL database afterwards")
    parser.add_argument("--cache", type=Path, default=Path("/tmp/credence-bench-load"))  # noqa: S108 - a cache of our own
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    if args.people:
        memory(args.people, args.seed)
    if not args.store_people:
        return
    kinds = ("sqlite", "postgres") if args.stores == "both" else (args.stores,)
    for kind in kinds:
        if kind == "sqlite":
            engine, note = sqlite_store(args.cache, args.store_people, args.measures, args.seed)
        else:
            engine, note = postgres_store(args.pg, args.store_people, args.measures, args.seed)
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT count(*) FROM active_measures")).scalar_one()
        store(engine, f"{kind} ({note})", args.store_people, rows, rounds=args.rounds)
        engine.dispose()
        if kind == "postgres" and args.pg_drop:
            drop_postgres(args.pg)


if __name__ == "__main__":
    main()
