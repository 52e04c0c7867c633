"""The gate's index at national scale: memory per restricted subject and load time.

Two parts, each against a baseline measured in the same run:

1. Memory. ``--people`` restricted people (default 10,000,000), each on the court's list
   through one listing with the list's measures, a court of ~3,000 and a case number of its
   own, built into the index's arrays (``screening.index.build_arrays``). Printed: bytes per
   person of the arrays (goal <= 32), against a bare sorted int64 key array (8 bytes a key)
   and against a Python dict of the same number of int keys to None (measured with
   ``tracemalloc`` on a tenth of them and scaled, the int objects included; a real dict would
   also hold a value per key: the issue's "about 800 MB per worker" for 10 million). Also the build time.
2. Load from a store. ``--store-people`` (default 500,000) listed people written straight into
   the ``subjects`` and ``active_measures`` tables of a fresh SQLite registry (seven measures
   each, as the shipped catalogue gives a court listing), then ``screening.index.load`` timed
   against a bare fetch of the same rows (``SELECT`` of the columns it reads, every row into
   Python). Printed: the ratio load / bare and the load rate, from which a 10-million load is
   extrapolated (stated as such).

    .venv/bin/python benchmarks/gate_index.py
    .venv/bin/python benchmarks/gate_index.py --people 1000000 --store-people 100000
"""

import argparse
import random
import tempfile
import time
import tracemalloc
import uuid
from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table
from sqlalchemy import insert, select, text

from credence.lists.measures import Effect, default_measures
from credence.screening import index as gate_index
from credence.store.orm import ActiveMeasure, Subject
from credence.store.registry import open_registry

console = Console()
LIST = "dishonest-judgment-defaulters"
COURT_COUNT = 3_000


def court(n: int) -> str:
    return f"People's Court no. {n % COURT_COUNT}"


def case(n: int, rng: random.Random) -> str:
    return f"({2015 + n % 11})苏{n % COURT_COUNT:04d}执{rng.randint(1, 99_999)}号"


def listed_measures() -> list[tuple[str, str]]:
    return sorted((m.id, m.action) for m in default_measures() if m.effect is not Effect.REWARD and LIST in m.lists)


def keys(count: int, rng: random.Random) -> list[int]:
    """Distinct 17-digit keys, sorted (a resident ID without its check character)."""
    found = np.unique(np.asarray([rng.randrange(10**16, 10**17) for _ in range(int(count * 1.001) + 10)]))
    return sorted(int(k) for k in found[:count])


def memory(people: int, seed: int) -> None:
    rng = random.Random(seed)
    measures = frozenset(listed_measures())
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


def store(count: int, seed: int) -> None:
    rng = random.Random(seed)
    measures = listed_measures()
    with tempfile.TemporaryDirectory() as work:
        engine = open_registry(f"sqlite:///{Path(work) / 'registry.db'}")
        now = datetime(2026, 12, 1, tzinfo=UTC)
        started = time.perf_counter()
        with engine.begin() as conn:
            for lo in range(0, count, 50_000):
                subjects, rows = [], []
                for n in range(lo, min(count, lo + 50_000)):
                    body = f"320505{1960 + n % 40}{1 + n % 12:02d}{1 + n % 28:02d}{n % 1000:03d}"
                    number = body + ("0123456789X"[n % 11])  # the check is not what is measured here
                    sid, listing = uuid.uuid4(), uuid.uuid4()
                    subjects.append(
                        {
                            "id": sid,
                            "id_number": number,
                            "kind": "person",
                            "birth_date": None,
                            "address_code": "320505",
                            "created_at": now,
                        }
                    )
                    day, number_of_case = date(2020, 1, 1 + n % 28), case(n, rng)
                    for measure_id, action in measures:
                        rows.append(
                            {
                                "id": uuid.uuid4(),
                                "subject_id": sid,
                                "measure_id": measure_id,
                                "action": action,
                                "effect": "restrict",
                                "valid_from": day,
                                "valid_to": None,
                                "listed_subject_id": sid,
                                "listing_id": listing,
                                "list_id": LIST,
                                "listing_start": day,
                                "court": court(n),
                                "case_number": number_of_case,
                                "legal_basis": "benchmark",
                                "derived_at": now,
                            }
                        )
                conn.execute(insert(Subject), subjects)
                conn.execute(insert(ActiveMeasure), rows)
        written = time.perf_counter() - started
        console.print(f"store: {count:,} people, {count * len(measures):,} active measures written in {written:.1f} s")
        a = ActiveMeasure.__table__.c
        bare_query = select(
            Subject.id_number,
            a.listing_id,
            a.listing_start,
            a.list_id,
            a.valid_from,
            a.valid_to,
            a.court,
            a.case_number,
            a.measure_id,
            a.action,
        ).join(Subject, Subject.id == a.subject_id)
        rounds = []
        for _ in range(3):
            with engine.connect() as conn:
                conn.execute(text("SELECT 1"))
                started = time.perf_counter()
                fetched = len(conn.execute(bare_query).all())
                bare = time.perf_counter() - started
                started = time.perf_counter()
                snapshot = gate_index.load(conn)
                loaded = time.perf_counter() - started
            rounds.append((bare, loaded))
        bare, loaded = min(r[0] for r in rounds), min(r[1] for r in rounds)
        engine.dispose()
    console.print(
        f"load: {snapshot.subjects:,} people from {fetched:,} rows in {loaded:.2f} s (best of 3), bare fetch "
        f"{bare:.2f} s: ratio load / bare {loaded / bare:.2f}; {snapshot.subjects / loaded:,.0f} people/s, "
        f"so 10,000,000 would take about {10_000_000 / (snapshot.subjects / loaded):.0f} s (extrapolated)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=10_000_000)
    parser.add_argument("--store-people", type=int, default=500_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    memory(args.people, args.seed)
    if args.store_people:
        store(args.store_people, args.seed)


if __name__ == "__main__":
    main()
