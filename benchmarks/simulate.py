"""What-if (issue 13): simulating a rulebook change against a full recompute of the current
version, on the same DuckDB snapshot, in the same run.

The change is Suzhou's tax-arrears deduction from 10,000 yuan raised from -10 to -15 (a draft
standing in for 1.0; no cap, and in the synthetic snapshot, whose subjects each have many records
of one kind, one that the floor does not swallow). Recompute: ``state.derive`` of every shipped
scheme on the snapshot (what ``credence score`` derives before it writes). Simulate:
``simulate.what_if`` on the same snapshot, which derives every scheme, evaluates Suzhou again
under the draft for the day, compares the two and fetches the ten largest movers' rule lines. The two alternate in
rounds; the figure is the median of the rounds' ratios simulate / recompute (goal: at most 2.5).
The snapshot is built once and reported separately.

    .venv/bin/python benchmarks/simulate.py --people 100000          # the generated city, ingested
    .venv/bin/python benchmarks/simulate.py --records 10000000       # a synthetic 10M-record snapshot
"""

import argparse
import statistics
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
from full_recompute import build
from incremental import build_city

from credence.batch import duckdb as batch
from credence.pipeline import simulate, state
from credence.rules.loader import LoadedRulebook, group, load_text, shipped
from credence.store.registry import open_registry

BOOK = Path(__file__).resolve().parent.parent / "credence/rules/rulebooks/suzhou-osmanthus/1.0.yaml"
RAISED = ("THEN -10 ELSE -5 END", "THEN -15 ELSE -5 END")


def draft() -> LoadedRulebook:
    text = BOOK.read_text("utf-8")
    text = text.replace('version: "1.0"', 'version: "1.1-draft"').replace("status: illustrative", "status: draft")
    return load_text(text.replace(*RAISED), file="suzhou-osmanthus-1.1-draft.yaml")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--people", type=int, help="generate and ingest a city of this many people")
    parser.add_argument("--records", type=int, help="a synthetic snapshot of this many records instead")
    parser.add_argument("--subjects", type=int, default=1_000_000, help="subjects of the synthetic snapshot")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds of recompute and simulate")
    args = parser.parse_args()
    schemes = group(shipped())
    book = draft()
    work = Path(tempfile.mkdtemp(prefix="simulate-bench-"))
    as_of, now = date(2026, 11, 27), datetime.now(UTC)
    if args.records:
        engine = open_registry(f"sqlite:///{work / 'empty.db'}")  # bound ID numbers and movers' lines: none
        db = duckdb.connect()
        load = build(db, args.records, args.subjects)
        snap = batch.Snapshot(db=db, facts=args.records, subjects=args.subjects, seconds=load)
    else:
        engine, _, _ = build_city(work, args.people or 100_000, 1, as_of)
        now = datetime.now(UTC)
        with engine.connect() as conn:
            snap = batch.take(conn, known_at=now)
    print(f"snapshot: {snap.facts:,} records, {snap.subjects:,} subjects, built in {snap.seconds:.2f} s")
    rounds = []
    with engine.connect() as conn:
        for _ in range(args.rounds):
            started = time.perf_counter()
            state.derive(snap, conn, schemes, as_of=as_of)
            recompute = time.perf_counter() - started
            started = time.perf_counter()
            found = simulate.what_if(snap, conn, schemes, book, against=None, as_of=as_of, now=now)
            simulated = time.perf_counter() - started
            rounds.append((recompute, simulated, simulated / recompute))
    print(
        f"scored {found.subjects:,}; score changed {found.score_changed:,}, grade {found.grade_changed:,}, "
        f"listing {found.listing_changed:,}"
    )
    print("rounds (recompute s, simulate s, ratio): " + "; ".join(f"{r:.2f}, {s:.2f}, {q:.2f}" for r, s, q in rounds))
    recompute_best, simulate_best = min(r[0] for r in rounds), min(r[1] for r in rounds)
    ratio = statistics.median(r[2] for r in rounds)
    print(f"recompute best {recompute_best:.2f} s; simulate best {simulate_best:.2f} s")
    print(f"median ratio simulate/recompute = {ratio:.2f} (goal <= 2.5)")


if __name__ == "__main__":
    main()
