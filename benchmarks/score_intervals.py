"""Score intervals (every day at once) against the point score for today, in DuckDB, same run.

Builds the synthetic snapshot of ``full_recompute.py`` (a ``facts`` table with every catalogue
attribute as a typed column, and ``subjects``, keyed by integers), by default a 100,000-person
city with 10 records each, and adds residence histories so that coverage changes: a tenth of the
people move out and a third of those come back as residents. Then, in interleaved rounds, it
runs the compiled point score SQL for today and the interval SQL of every shipped scheme that
has a score, fetching all rows, and prints both times (best of the rounds), their ratio, and
the median of the rounds' ratios intervals / point (goal <= 3).

    .venv/bin/python benchmarks/score_intervals.py
    .venv/bin/python benchmarks/score_intervals.py --records 10000000 --subjects 1000000
"""

import argparse
import statistics
import sys
from datetime import date
from pathlib import Path

import duckdb

sys.path.insert(0, str(Path(__file__).resolve().parent))
from full_recompute import KINDS, build, timed

from credence.rules.compile import score_query
from credence.rules.intervals import score_intervals_query
from credence.rules.loader import group, shipped
from credence.rules.targets import Dialect, Target


def move(db: duckdb.DuckDBPyConnection) -> int:
    """Give each person records of several kinds spread over the years (``build`` gives all of
    one subject's records one kind and one day, which would flatter the intervals: they change
    on each record's day and expiry), then add residence records for a tenth of the Suzhou people:
    a move to Rongcheng, and for a third of those a return to Suzhou as residents (whose clock then runs a year).
    Returns how many residence records were added."""
    others = "[" + ", ".join(f"'{k}'" for k in KINDS if k != "residence") + "]"
    db.execute(f"""UPDATE facts SET kind = {others}[1 + CAST(hash(record_id) % {len(KINDS) - 1} AS INTEGER)],
            valid_date = DATE '2020-01-01' + CAST(hash(record_id + 7) % 2500 AS INTEGER)
        WHERE kind <> 'residence'""")
    before = db.execute("SELECT COUNT(*) FROM facts").fetchone()
    top = db.execute("SELECT MAX(record_id) FROM facts").fetchone()
    base = int(top[0]) if top else 0
    db.execute(f"""INSERT INTO facts BY NAME
        SELECT record_id + {base} + 1 AS record_id, subject_id, source_id, source_record_id, kind,
               valid_date + CAST(subject_id % 700 AS INTEGER) AS valid_date, recorded_at, jurisdiction,
               '371082' AS region, 'resident' AS status
        FROM facts WHERE kind = 'residence' AND region = '320505' AND subject_id % 10 = 3""")
    db.execute(f"""INSERT INTO facts BY NAME
        SELECT record_id + {2 * base} + 2 AS record_id, subject_id, source_id, source_record_id, kind,
               valid_date + CAST(900 + subject_id % 500 AS INTEGER) AS valid_date, recorded_at, jurisdiction,
               region, 'resident' AS status
        FROM facts WHERE kind = 'residence' AND region = '320505' AND subject_id % 30 = 3
          AND valid_date = DATE '2019-01-01'""")
    after = db.execute("SELECT COUNT(*) FROM facts").fetchone()
    return (int(after[0]) if after else 0) - (int(before[0]) if before else 0)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--subjects", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds of point and intervals")
    args = parser.parse_args()
    db = duckdb.connect()
    load = build(db, args.records, args.subjects)
    moves = move(db)
    schemes = {n: s for n, s in group(shipped()).items() if any(e.book.score for e in s.editions)}
    today = date(2026, 11, 27)
    target = Target(Dialect.DUCKDB)
    points = [q.sql() for s in schemes.values() if (q := score_query(s, target, as_of=today))]
    spans = [q.sql() for s in schemes.values() if (q := score_intervals_query(s, target))]
    for sql in points + spans:  # warm-up
        timed(db, sql)
    rounds = []
    for _ in range(args.rounds):
        point = sum(timed(db, sql) for sql in points)
        spanned = sum(timed(db, sql) for sql in spans)
        rounds.append((point, spanned, spanned / point))
    rows = sum(len(db.execute(sql).fetchall()) for sql in spans)
    scored = sum(len(db.execute(sql).fetchall()) for sql in points)
    print(
        f"records={args.records:,} subjects={args.subjects:,} residence records added={moves:,} schemes={len(schemes)}"
    )
    print(f"snapshot build {load:.2f} s, reported separately; rows: point {scored:,}, intervals {rows:,}")
    print(
        f"point score for today best {min(r[0] for r in rounds):.3f} s; "
        f"intervals best {min(r[1] for r in rounds):.3f} s"
    )
    best = min(r[1] for r in rounds) / min(r[0] for r in rounds)
    print(f"ratio of the bests intervals/point = {best:.2f}")
    print("ratios per round: " + ", ".join(f"{r[2]:.2f}" for r in rounds))
    print(f"median ratio intervals/point = {statistics.median(r[2] for r in rounds):.2f} (goal <= 3)")


if __name__ == "__main__":
    main()
