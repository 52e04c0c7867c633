"""check() calls per second in process, against a bare SELECT of the subject row, in the 100,000-person city.

Builds the city the way ``benchmarks/incremental.py`` does (``credence.synth`` feeds in a temporary
directory, every feed with a mapping ingested into a fresh SQLite registry, everyone scored and
listed once), or, with ``--url``, uses a registry already built (``credence demo`` leaves one).
Then picks, from the seed, people on a list today and people on none, and makes ``--calls``
requests that alternate between them and cycle through the actions flight, rail_ticket, venue
and school_fees (for each, a request a listed debtor is refused and, but for flights, one that
no measure restricts).

Timed on one connection, in rounds that alternate the two sides so that a noisy neighbour slows
both: first the baseline, a bare ``SELECT`` of the ``subjects`` row by ``id_number`` (the unique
key check() itself resolves a number by) through SQLAlchemy for every request's ID number, then
``check()`` for every request. Printed: calls per second for each (the best round), the ratio
check / bare per round and its median (goal later >= 0.5; today a check of any number the
registry holds reads its listings, and a listed debtor's runs the facts SQL for exemptions too),
and how many checks were restricted (a listed debtor's refused request must be). No ID numbers
or names are printed.

    .venv/bin/python benchmarks/check.py                           # 100,000 people, 2,000 calls
    .venv/bin/python benchmarks/check.py --people 20000 --calls 500 --rounds 3
    .venv/bin/python benchmarks/check.py --url sqlite:///credence.db
"""

import argparse
import random
import statistics
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from incremental import build_city, console, now
from sqlalchemy import Connection, Engine, select

from credence.lists.measures import Effect, default_measures
from credence.model.identifiers import SubjectKind
from credence.model.time import legal_date
from credence.screening.check import Outcome, check
from credence.store.orm import Listing, Subject
from credence.store.registry import open_registry

# (action, a request a listed debtor is refused, one no measure restricts, where there is one:
# a listed debtor may take no flight at all)
REQUESTS: list[tuple[str, dict[str, str], dict[str, str]]] = [
    ("flight", {"cabin": "business"}, {}),
    ("rail_ticket", {"train_type": "G", "seat_class": "second"}, {"train_type": "K", "seat_class": "hard_seat"}),
    ("venue", {"venue_type": "hotel", "star_rating": "5"}, {"venue_type": "restaurant", "star_rating": "none"}),
    (
        "school_fees",
        {"school_type": "private", "fee_band": "high"},
        {"school_type": "public", "fee_band": "ordinary"},
    ),
]


@dataclass(frozen=True, slots=True)
class Call:
    id_number: str
    listed: bool
    action: str
    attributes: dict[str, str]
    refused: bool  # the request a listed debtor is refused


def people(conn: Connection, *, listed: bool, day: datetime) -> list[str]:
    """ID numbers of persons on a list some restriction attaches to today (as its subject or bound
    by an organisation's listing), or on none such (a redlist's people count as unlisted)."""
    today = legal_date(day)
    restricting = {name for m in default_measures() if m.effect is Effect.RESTRICT for name in m.lists}
    active = select(Listing.subject_id).where(
        Listing.list_id.in_(restricting),
        Listing.start_date <= today,
        Listing.end_date.is_(None) | (Listing.end_date > today),
    )
    on_a_list = Subject.id.in_(active) if listed else Subject.id.not_in(active)
    query = select(Subject.id_number).where(Subject.kind == SubjectKind.PERSON, on_a_list)
    return sorted(conn.execute(query).scalars())


def calls(conn: Connection, count: int, seed: int, at: datetime) -> list[Call]:
    """``count`` requests: listed and unlisted people in turn, the actions in turn, and for each
    action its refused and its allowed request in turn."""
    chooser = random.Random(f"{seed}/check")
    listed, unlisted = people(conn, listed=True, day=at), people(conn, listed=False, day=at)
    if not listed or not unlisted:
        raise SystemExit(f"the registry needs listed and unlisted people ({len(listed)} and {len(unlisted)})")
    console.print(f"picked from {len(listed):,} people on a list today and {len(unlisted):,} on none")
    out = []
    for i in range(count):
        on_a_list = i % 2 == 0
        action, refused, allowed = REQUESTS[(i // 2) % len(REQUESTS)]
        refusable = (i // (2 * len(REQUESTS))) % 2 == 0
        number = chooser.choice(listed if on_a_list else unlisted)
        out.append(Call(number, on_a_list, action, refused if refusable else allowed, refusable))
    return out


def rate(work: Callable[[], object], count: int) -> float:
    started = time.perf_counter()
    work()
    return count / (time.perf_counter() - started)


def run(engine: Engine, args: argparse.Namespace) -> None:
    at = now()
    with engine.connect() as conn:
        requests = calls(conn, args.calls, args.seed, at)
        subject_row = select(Subject)
        outcomes: Counter[tuple[bool, str, str]] = Counter()
        refusals: list[bool] = []
        spent = {True: 0.0, False: 0.0}  # seconds in check() for listed and unlisted people

        def checks() -> None:
            for c in requests:
                started = time.perf_counter()
                decision = check(conn, c.id_number, c.action, c.attributes, at=at)
                spent[c.listed] += time.perf_counter() - started
                outcomes[(c.listed, c.action, str(decision.outcome))] += 1
                if c.listed and c.refused:
                    refusals.append(decision.outcome is Outcome.RESTRICTED)

        def bare() -> None:
            for c in requests:
                conn.execute(subject_row.where(Subject.id_number == c.id_number)).first()

        bare()  # warm-up: statement caches, SQLite's pages, the catalogue read once per process
        checks()
        outcomes.clear()
        refusals.clear()
        spent.update({True: 0.0, False: 0.0})
        rounds = []
        for _ in range(args.rounds):
            bare_rate = rate(bare, len(requests))
            check_rate = rate(checks, len(requests))
            rounds.append((bare_rate, check_rate, check_rate / bare_rate))

    listed = sum(1 for c in requests if c.listed)
    console.print(f"calls={len(requests):,} ({listed:,} for listed people) rounds={args.rounds} seed={args.seed}")
    console.print(
        f"timed rounds: {len(refusals):,} checks of a request a listed debtor is refused, {sum(refusals):,} restricted"
    )
    table = [(key, n // args.rounds) for key, n in sorted(outcomes.items())]
    for (on_a_list, action, outcome), n in table:
        console.print(f"  {'listed' if on_a_list else 'unlisted':8} {action:12} {outcome:10} {n:,}")
    console.print(f"bare SELECT of the subject row: best {max(r[0] for r in rounds):,.0f} calls/s")
    console.print(f"check(): best {max(r[1] for r in rounds):,.0f} calls/s")
    for on_a_list in (False, True):
        n = sum(1 for c in requests if c.listed is on_a_list) * args.rounds
        who = "people on a list" if on_a_list else "people on none"
        console.print(f"  check() for {who}: {n / spent[on_a_list]:,.0f} calls/s over the rounds")
    console.print("ratios check/bare per round: " + ", ".join(f"{r[2]:.4f}" for r in rounds))
    console.print(f"median ratio check/bare = {statistics.median(r[2] for r in rounds):.4f} (goal >= 0.5)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--people", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--calls", type=int, default=2_000, help="requests per round, for each side")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds of bare and check()")
    parser.add_argument("--url", help="a registry already built and scored, used as it is (nothing is built)")
    args = parser.parse_args()
    if args.url:
        engine = open_registry(args.url)
        run(engine, args)
        engine.dispose()
        return
    with tempfile.TemporaryDirectory(prefix="credence-bench-") as tmp:
        engine, _, _ = build_city(Path(tmp), args.people, args.seed, legal_date(now()))
        console.print(f"people={args.people:,}")
        run(engine, args)
        engine.dispose()


if __name__ == "__main__":
    main()
