"""Manifest screening in process: ids per second, against a bare numpy membership test.

Builds the gate's index arrays for ``--restricted`` people (default 1,000,000, each on the
court's list with its measures) and a manifest of ``--entries`` rail-ticket requests (default
100,000: a train's worth of passengers and more), ``--listed`` of them (default 3%) restricted
people and the rest valid resident IDs the index does not hold, shuffled.

Timed in alternating rounds (a noisy neighbour slows both):
- baseline: the bare membership test over the same ids: the strings to an ``S18`` array, its
  first 17 characters to int64 keys, one ``np.searchsorted`` against the index's key array and
  an equality test;
- screening: ``screening.screen.screen`` over the manifest's entries (the vocabulary check, the
  ID check, the lookup, and a full decision for each restricted entry).
Printed: ids per second for each (best round), the ratio screening / baseline per round and its
median (goal >= 0.5), and how many entries were restricted (must equal ``--listed``).
No ID numbers are printed.

    .venv/bin/python benchmarks/screening.py
    .venv/bin/python benchmarks/screening.py --restricted 100000 --entries 20000 --rounds 3
"""

import argparse
import random
import statistics
import time
from datetime import UTC, date, datetime, timedelta

import numpy as np
from rich.console import Console
from rich.table import Table
from stdnum.cn import ric

from credence.lists.measures import Effect, default_measures
from credence.screening import index as gate_index
from credence.screening.screen import RESTRICTED, Entry, Manifest, screen

console = Console()
LIST = "dishonest-judgment-defaulters"
REGIONS = ("320505", "320506", "320507", "320508", "371082")


def resident_id(rng: random.Random) -> str:
    """A valid resident ID: a real county, a birth date, a sequence, its check character."""
    birth = date(1950, 1, 1) + timedelta(days=rng.randrange(365 * 55))
    body = f"{rng.choice(REGIONS)}{birth:%Y%m%d}{rng.randrange(1000):03d}"
    return body + ric.calc_check_digit(body + "0")


def build(restricted: int, entries: int, listed: int, seed: int) -> tuple[gate_index.Index, list[Entry], int]:
    rng = random.Random(seed)
    numbers: set[str] = set()
    while len(numbers) < restricted + entries:
        numbers.add(resident_id(rng))
    pool = sorted(numbers)
    rng.shuffle(pool)
    held, others = pool[:restricted], pool[restricted:]
    measures = frozenset(
        (m.id, m.action) for m in default_measures() if m.effect is not Effect.REWARD and LIST in m.lists
    )
    start = date(2020, 1, 1).toordinal()
    people = sorted(
        (
            gate_index.person_key(n),
            gate_index.Listed(start, gate_index.OPEN, measures, LIST, f"court {i % 3000}", f"(2020)苏05执{i}号"),
        )
        for i, n in enumerate(held)
    )
    snapshot = gate_index.Snapshot(
        people=gate_index.build_arrays(people),
        organisations={},
        exempted={},
        overlay={},
        seq=0,
        built_at=time.monotonic(),
    )
    chosen = rng.sample(held, listed) + others[: entries - listed]
    rng.shuffle(chosen)
    attributes = {"train_type": "G", "seat_class": "second"}
    return gate_index.Index(snapshot), [Entry(n, "rail_ticket", attributes) for n in chosen], listed


def bare(keys: np.ndarray, ids: list[str]) -> int:
    """The membership test: how many of ``ids`` the sorted ``keys`` hold."""
    query = np.array(ids, dtype="S18").astype("S17").astype(np.int64)
    at = np.searchsorted(keys, query)
    at[at == keys.size] = 0
    return int(np.count_nonzero(keys[at] == query))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--restricted", type=int, default=1_000_000)
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--listed", type=float, default=0.03, help="share of the manifest on the list")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    listed = int(args.entries * args.listed)
    started = time.perf_counter()
    index, entries, listed = build(args.restricted, args.entries, listed, args.seed)
    console.print(
        f"set-up: {args.restricted:,} restricted, {len(entries):,} entries in {time.perf_counter() - started:.1f} s"
    )
    ids = [e.subject for e in entries]
    manifest = Manifest.of(entries)  # the API's parsing gives this; not timed, as the bare test gets its ids
    at = datetime(2026, 12, 2, 4, tzinfo=UTC)
    table = Table(title="manifest screening, ids per second")
    for column in ("round", "bare membership", "screening", "screening / bare"):
        table.add_column(column, justify="right")
    ratios, best_bare, best_screen = [], 0.0, 0.0
    for n in range(args.rounds):
        t = time.perf_counter()
        members = bare(index.snapshot.people.keys, ids)
        bare_rate = len(ids) / (time.perf_counter() - t)
        t = time.perf_counter()
        screened = screen(index, manifest, at=at)
        screen_rate = len(ids) / (time.perf_counter() - t)
        restricted = int(np.count_nonzero(screened.outcomes == RESTRICTED))
        if members != listed or restricted != listed:
            raise SystemExit(f"wrong answers: {members} members, {restricted} restricted, {listed} listed")
        ratios.append(screen_rate / bare_rate)
        best_bare, best_screen = max(best_bare, bare_rate), max(best_screen, screen_rate)
        table.add_row(str(n + 1), f"{bare_rate:,.0f}", f"{screen_rate:,.0f}", f"{ratios[-1]:.3f}")
    console.print(table)
    median = statistics.median(ratios)
    console.print(
        f"best: bare {best_bare:,.0f} ids/s, screening {best_screen:,.0f} ids/s; median ratio {median:.3f} "
        f"(goal >= 0.5: {'met' if median >= 0.5 else 'NOT met'}); {listed:,} of {len(ids):,} restricted"
    )


if __name__ == "__main__":
    main()
