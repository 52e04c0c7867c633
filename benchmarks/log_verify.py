"""``audit.verify`` over a log of a million entries, against reading the same log once (the
leaves, their events and the checkpoints, every row fetched and nothing checked) in the same run.

Issue 10's goal: verify under 10 seconds for 1,000,000 entries. The log is built once into
``--cache`` (synthetic score-interval events, the sequencer every 50,000, one signed checkpoint
per step) and reused; it holds no derived rows, so this measures the tree and the entries, not
the derived-row checks (those scale with the registry's own tables).

    .venv/bin/python benchmarks/log_verify.py [--events 1000000] [--cache DIR] [--rebuild]
"""

import argparse
import shutil
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine, select, text

from credence import audit
from credence.audit import checkpoints, notes, verify
from credence.store.orm import Checkpoint, Event, LogLeaf
from credence.store.registry import open_registry

ORIGIN = "bench/log"
BATCH = 10_000
STEP = 50_000  # events between two sequencer runs while building


def _entries(n: int, start: int) -> list[audit.Entry]:
    subjects = [uuid.UUID(int=i + 1) for i in range(5_000)]
    return [
        audit.Entry(
            tag=audit.EventTag.SCORE_INTERVAL,
            subject=subjects[(start + i) % len(subjects)],
            actor="rules",
            data={"interval_id": str(uuid.UUID(int=start + i + 1)), "score": 100 + i % 7, "state": "derived"},
        )
        for i in range(n)
    ]


def build(cache: Path, events: int, rebuild: bool) -> tuple[Engine, notes.Verifier]:
    """The cached log of ``events`` entries and its public key, built when missing."""
    if rebuild and cache.exists():
        shutil.rmtree(cache)
    cache.mkdir(parents=True, exist_ok=True)
    db, key = cache / "log.db", cache / "log.key"
    if db.exists() and key.exists():
        return open_registry(f"sqlite:///{db}"), notes.Signer.parse(key.read_text()).verifier
    db.unlink(missing_ok=True)
    engine = open_registry(f"sqlite:///{db}")
    signer = notes.Signer.generate(ORIGIN)
    now = datetime.now(UTC)
    began = time.perf_counter()
    for start in range(0, events, BATCH):
        with engine.begin() as conn:
            audit.record_many(conn, _entries(min(BATCH, events - start), start), now=now)
        if (start + BATCH) % STEP == 0 or start + BATCH >= events:
            with engine.begin() as conn:
                done = checkpoints.advance(conn, signer, now=now, origin=ORIGIN)
            print(f"  built {done.size:,} entries ({time.perf_counter() - began:.0f} s)", flush=True)
    key.write_text(signer.encode() + "\n")
    key.chmod(0o600)
    return engine, signer.verifier


def read_once(engine: Engine) -> int:
    """The baseline: every row verify reads, fetched once, nothing hashed or compared."""
    rows = 0
    with engine.connect() as conn:
        query = select(LogLeaf.idx, LogLeaf.hash, Event.seq, Event.tag, Event.subject_id, Event.data).join(
            Event, Event.seq == LogLeaf.seq
        )
        for chunk in conn.execution_options(yield_per=20_000).execute(query.order_by(LogLeaf.idx)).partitions():
            rows += len(chunk)
        rows += len(conn.execute(select(Checkpoint.size, Checkpoint.root)).all())
        conn.execute(text("SELECT 1"))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--cache", type=Path, default=Path("/tmp/credence-bench-log"))  # noqa: S108 - a benchmark's scratch
    parser.add_argument("--rebuild", action="store_true")
    args = parser.parse_args()
    engine, verifier = build(args.cache, args.events, args.rebuild)
    began = time.perf_counter()
    rows = read_once(engine)
    baseline = time.perf_counter() - began
    began = time.perf_counter()
    with engine.connect() as conn:
        report = verify.verify(conn, verifier, origin=ORIGIN)
    took = time.perf_counter() - began
    assert report.consistent, report.problems  # noqa: S101 - a benchmark of a consistent log
    print(
        f"verify: {report.leaves:,} entries, {report.checkpoints} checkpoints in {took:.1f} s; "
        f"reading them once: {rows:,} rows in {baseline:.1f} s; ratio {took / baseline:.1f}"
    )


if __name__ == "__main__":
    main()
