"""Incremental: subjects rescored and time taken for one new record in the 100,000-person city.

Generates a synthetic city with ``credence.synth`` (in a temporary directory), ingests every feed
that has a mapping in ``connectors/`` into a fresh SQLite registry (also temporary) the way
``credence ingest`` does, and scores everyone once. Then, several times over (a different person
and a different kind of record each time), lands ONE new record through the real path: a
one-row feed file in the agency's own format, read by ``load_file`` with the agency's mapping,
followed by ``update`` for only the subjects the load touched. Each step is timed from the
start of ``load_file`` to the end of ``update``.

Baseline, in the same run: a full rescore of every subject (``update(subjects=None)``), once
before the one-record steps and once after them; the second also checks that the incremental
steps left exactly the scores a full rescore gives. Printed: subjects rescored per step, the
median step time, the mean full time, and ratio = full / incremental (how many times faster
one new record is than rescoring everyone). Absolute times are printed too but say little on
a shared machine. No ID numbers or names are printed.

    .venv/bin/python benchmarks/incremental.py                   # 100,000 people, seed 1
    .venv/bin/python benchmarks/incremental.py --people 10000 --seed 2 --steps 5
"""

import argparse
import csv
import json
import random
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import Progress, TaskID
from rich.table import Table
from sqlalchemy import Engine, select

from credence.cli.context import progress
from credence.ingest.loader import load_file
from credence.ingest.mapping import Mapping, load_mappings
from credence.model.time import legal_date
from credence.pipeline.update import update
from credence.rules.loader import Scheme, group, shipped
from credence.store.orm import ScoreInterval, Subject
from credence.store.registry import open_registry
from credence.synth.feeds import PEOPLE_FILE, generate

CONNECTORS = Path(__file__).resolve().parent.parent / "connectors"
console = Console(width=max(Console().width, 110))  # logs and pipes get 80 columns otherwise
MAPPINGS = load_mappings(CONNECTORS)  # every connector mapping, by source, as `credence ingest` reads them


def now() -> datetime:
    return datetime.now(UTC)


def done(bar: Progress, task: TaskID, count: int) -> None:
    bar.update(task, completed=count)


# One new record per step: (label, source, row builder). A builder gets the person's ID number,
# their district (from the generator's ground truth), the step number and today, and returns a
# row in that agency's own feed format (the columns its connector mapping reads).
Row = dict[str, Any]
Builder = Callable[[str, str, int, date], Row]


def _blood(number: str, district: str, step: int, today: date) -> Row:
    return {
        "donation_id": f"BLD-BENCH-{step:04d}",
        "donor_id": number,
        "volume_ml": "400",
        "donated_on": (today - timedelta(days=1)).isoformat(),
        "station_region": district[:4] + "00",
    }


def _traffic(number: str, district: str, step: int, today: date) -> Row:
    return {
        "event_id": f"PSB-BENCH-{step:04d}",
        "citizen_id": number,
        "type": "traffic",
        "date": (today - timedelta(days=1)).isoformat(),
        "place": district,
        "details": {"code": "1625", "fine": 200},
    }


def _volunteer(number: str, district: str, step: int, today: date) -> Row:
    return {
        "cert_id": f"VOL-BENCH-{step:04d}",
        "volunteer_id": number,
        "year": str(today.year - 1),
        "hours": "40",
        "issued_on": (today - timedelta(days=1)).isoformat(),
        "district": district,
    }


def _public_order(number: str, district: str, step: int, today: date) -> Row:
    return {
        "event_id": f"PSB-BENCH-{step:04d}",
        "citizen_id": number,
        "type": "public_order",
        "date": (today - timedelta(days=1)).isoformat(),
        "place": district,
        "details": {"offence": "disturbing_public_order", "detention_days": 0},
    }


def _tax(number: str, district: str, step: int, today: date) -> Row:
    return {
        "notice_id": f"TAX-BENCH-{step:04d}",
        "taxpayer_id": number,
        "amount_yuan": "2500",
        "tax_type": "individual_income",
        "due_date": (today - timedelta(days=60)).isoformat(),
        "district": district,
    }


KINDS: list[tuple[str, str, Builder]] = [
    ("blood_donation", "blood_bank", _blood),
    ("traffic_offence", "police", _traffic),
    ("volunteer_hours", "volunteers", _volunteer),
    ("public_order_offence", "police", _public_order),
    ("tax_arrears", "tax", _tax),
]


def write_one_row(path: Path, mapping: Mapping, row: Row) -> None:
    """A one-row feed file in the agency's format (CSV with a header, or one JSON line)."""
    with path.open("w", encoding="utf-8", newline="") as handle:
        if mapping.format == "csv":
            writer = csv.DictWriter(handle, fieldnames=list(row), lineterminator="\n")
            writer.writeheader()
            writer.writerow(row)
        else:
            handle.write(json.dumps(row, ensure_ascii=False, separators=(",", ":")) + "\n")


def build_city(work: Path, people: int, seed: int, today: date) -> tuple[Engine, Path, dict[str, Scheme]]:
    """Generate the city, ingest every feed into a fresh SQLite registry, score everyone once."""
    feeds = work / "feeds"
    engine = open_registry(f"sqlite:///{work / 'registry.db'}")
    books = group(shipped())
    with progress(console) as bar:
        task = bar.add_task("generate the city (people)", total=people)
        started = time.perf_counter()
        counts = generate(feeds, people=people, seed=seed, today=today, progress=partial(done, bar, task))
        generated = time.perf_counter() - started
        started = time.perf_counter()
        records = 0
        for mapping in MAPPINGS.values():
            path = feeds / mapping.file
            if not path.exists():
                continue
            task = bar.add_task(f"ingest {mapping.file}", total=counts.get(mapping.file))
            result = load_file(engine, path, mapping, now=now(), progress=partial(bar.advance, task))
            records += result.accepted + result.amended
        ingested = time.perf_counter() - started
        task = bar.add_task("first full score and list", total=1)
        started = time.perf_counter()
        written = update(engine, books, subjects=None, as_of=today, now=now()).scores
        bar.advance(task)
        scored = time.perf_counter() - started
    console.print(f"set-up: generated {sum(counts.values()):,} feed rows in {generated:.1f} s")
    console.print(f"set-up: ingested {records:,} records in {ingested:.1f} s")
    console.print(f"set-up: first full score and list ({written:,} scores) in {scored:.1f} s")
    return engine, feeds, books


def pick_people(engine: Engine, feeds: Path, steps: int, seed: int, today: date) -> list[tuple[str, str]]:
    """``steps`` people (ID number, district) who hold a score ``today`` already, chosen from the seed."""
    with (feeds / PEOPLE_FILE).open(encoding="utf-8", newline="") as handle:
        district = {row["id_number"]: row["district"] for row in csv.DictReader(handle)}
    with engine.connect() as conn:
        held = ScoreInterval.holds(today)
        scored = conn.execute(
            select(Subject.id_number).join(ScoreInterval, ScoreInterval.subject_id == Subject.id).where(held).distinct()
        )
        numbers = sorted(n for n in scored.scalars() if n in district)
    chosen = random.Random(f"{seed}/incremental").sample(numbers, steps)
    return [(n, district[n]) for n in chosen]


def full_rescore(engine: Engine, books: dict[str, Scheme], today: date) -> tuple[float, int]:
    started = time.perf_counter()
    written = update(engine, books, subjects=None, as_of=today, now=now()).scores
    return time.perf_counter() - started, written


def scores(engine: Engine, today: date) -> dict[tuple[uuid.UUID, str], tuple[int, str | None]]:
    """The stored scores of ``today``: the score intervals that hold it."""
    with engine.connect() as conn:
        held = ScoreInterval.holds(today)
        rows = conn.execute(
            select(ScoreInterval.subject_id, ScoreInterval.scheme, ScoreInterval.score, ScoreInterval.grade).where(held)
        )
        return {(sid, scheme): (score, grade) for sid, scheme, score, grade in rows}


@dataclass
class Step:
    kind: str
    rescored: int
    written: int
    load: float
    update: float

    @property
    def total(self) -> float:
        return self.load + self.update


def one_record(
    engine: Engine,
    books: dict[str, Scheme],
    work: Path,
    step: int,
    person: tuple[str, str],
    today: date,
) -> Step:
    kind, source, builder = KINDS[step % len(KINDS)]
    mapping = MAPPINGS[source]
    path = work / f"new-{step:04d}-{mapping.file}"
    write_one_row(path, mapping, builder(person[0], person[1], step, today))
    instant = now()
    started = time.perf_counter()
    result = load_file(engine, path, mapping, now=instant)
    loaded = time.perf_counter()
    written = update(engine, books, subjects=result.subjects, as_of=today, now=instant).scores
    finished = time.perf_counter()
    if result.accepted != 1:
        raise SystemExit(f"step {step}: the new {kind} record was not accepted ({dict(result.reasons)})")
    return Step(kind, len(result.subjects), written, loaded - started, finished - loaded)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--people", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--steps", type=int, default=5, help="one-record steps (a different person and kind each)")
    args = parser.parse_args()
    today = legal_date(now())
    with tempfile.TemporaryDirectory(prefix="credence-bench-") as tmp:
        work = Path(tmp)
        engine, feeds, books = build_city(work, args.people, args.seed, today)
        people = pick_people(engine, feeds, args.steps, args.seed, today)
        console.print("baseline: full rescore of every subject ...")
        full_before, written_full = full_rescore(engine, books, today)
        steps = [one_record(engine, books, work, i, p, today) for i, p in enumerate(people)]
        incremental_state = scores(engine, today)
        console.print("baseline again, and check: full rescore after the one-record steps ...")
        full_after, _ = full_rescore(engine, books, today)
        full_state = scores(engine, today)
        keys = incremental_state.keys() | full_state.keys()
        differ = sum(1 for key in keys if incremental_state.get(key) != full_state.get(key))
        engine.dispose()

    table = Table("step", "kind", "subjects rescored", "scores written", "load s", "update s", "total s")
    for i, s in enumerate(steps):
        table.add_row(
            str(i + 1), s.kind, str(s.rescored), str(s.written), f"{s.load:.4f}", f"{s.update:.4f}", f"{s.total:.4f}"
        )
    console.print(table)
    incremental = statistics.median(s.total for s in steps)
    full = statistics.mean((full_before, full_after))
    rescored = statistics.median(s.rescored for s in steps)
    console.print(f"people={args.people:,} seed={args.seed} steps={len(steps)}")
    console.print(
        f"full rescore (baseline): {full_before:.2f} s before, {full_after:.2f} s after, mean {full:.2f} s; "
        f"{written_full:,} scores written"
    )
    load = statistics.median(s.load for s in steps)
    rescore = statistics.median(s.update for s in steps)
    console.print(
        f"one new record (load + update): median {incremental:.4f} s (load {load:.4f} s, update {rescore:.4f} s); "
        f"median subjects rescored {rescored:g}"
    )
    console.print(f"ratio full/incremental = {full / incremental:,.0f}")
    verdict = "OK" if differ == 0 else "MISMATCH"
    console.print(f"incremental vs full check: {differ} score rows differ ({verdict})")


if __name__ == "__main__":
    main()
