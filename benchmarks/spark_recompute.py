"""The full recompute on Spark ``local[2]`` and in DuckDB, each against a bare DuckDB GROUP BY over
the same snapshot, in the same run; Spark's session start and the snapshot's load into Spark are
reported apart.

The snapshot is `full_recompute.py`'s (a `facts` table with every catalogue attribute as a typed
column, integer keys); the recompute is what `credence score --engine duckdb|spark` derives for
the scores: every score interval of every shipped scheme with a score (`evaluate.score_intervals`,
rows fetched and their keys mapped back to ids).

    .venv/bin/python benchmarks/spark_recompute.py --records 1000000 --subjects 100000
"""

import argparse
import sys
import time
from pathlib import Path

import duckdb

sys.path.insert(0, str(Path(__file__).resolve().parent))
from full_recompute import build, timed

from credence.batch import duckdb as batch
from credence.batch import evaluate, spark
from credence.batch.backend import Backend
from credence.rules.loader import group, shipped


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--subjects", type=int, default=100_000)
    parser.add_argument("--master", default="local[2]")
    parser.add_argument("--memory", default="4g", help="Spark's driver heap (local: the executors' too)")
    parser.add_argument("--no-adaptive", action="store_true", help="adaptive query execution off, as in the tests")
    args = parser.parse_args()
    db = duckdb.connect()
    load = build(db, args.records, args.subjects)
    snap = batch.Snapshot(db=db, facts=args.records, subjects=args.subjects, seconds=load)
    snap.subject_ids()  # the key map is read once per snapshot, on either engine
    schemes = [s for s in group(shipped()).values() if any(e.book.score for e in s.editions)]
    bare_sql = "SELECT subject_id, SUM(volume_ml) FROM facts GROUP BY subject_id"
    timed(db, bare_sql)  # warm-up

    def recompute(backend: Backend) -> tuple[float, int]:
        started = time.perf_counter()
        rows = sum(len(evaluate.score_intervals(backend, s)) for s in schemes)
        return time.perf_counter() - started, rows

    bare_before = timed(db, bare_sql)
    duck, duck_rows = recompute(snap)
    started = time.perf_counter()
    tuning = {"spark.sql.adaptive.enabled": "false"} if args.no_adaptive else {}
    session = spark.session(args.master, memory=args.memory, tuning=tuning)
    session_start = time.perf_counter() - started
    on_spark = spark.load(snap, session)
    sparked, spark_rows = recompute(on_spark)
    bare_after = timed(db, bare_sql)
    bare = min(bare_before, bare_after)
    shown = f"master={args.master}{' adaptive=off' if args.no_adaptive else ''}"
    print(f"records={args.records:,} subjects={args.subjects:,} schemes={len(schemes)} {shown}")
    print(f"snapshot build {load:.2f} s; Spark session start {session_start:.2f} s (apart)")
    print(f"snapshot loaded into Spark {on_spark.seconds:.2f} s (apart)")
    print(f"bare DuckDB GROUP BY {bare:.3f} s (before {bare_before:.3f}, after {bare_after:.3f})")
    print(f"DuckDB recompute {duck:.3f} s ({duck_rows:,} intervals): ratio bare/duckdb = {bare / duck:.4f}")
    print(f"Spark recompute {sparked:.3f} s ({spark_rows:,} intervals): ratio bare/spark = {bare / sparked:.4f}")
    if spark_rows != duck_rows:
        raise SystemExit(f"the engines disagree: {spark_rows:,} intervals on Spark, {duck_rows:,} in DuckDB")
    on_spark.close()
    session.stop()


if __name__ == "__main__":
    main()
