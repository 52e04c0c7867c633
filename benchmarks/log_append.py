"""Appends per second with the Merkle tree maintained against a bare INSERT of the same events,
same commit policy (a transaction per --batch events), in the same run on one fresh store each.

    .venv/bin/python benchmarks/log_append.py --events 20000 --batch 500 [--url postgresql://...]
"""

import argparse
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

from credence import audit
from credence.audit import checkpoints, notes
from credence.store.registry import open_registry


def _entries(n: int, start: int) -> list[audit.Entry]:
    subjects = [uuid.UUID(int=i + 1) for i in range(200)]
    return [
        audit.Entry(
            tag=audit.EventTag.SCORE_INTERVAL,
            subject=subjects[(start + i) % len(subjects)],
            actor="rules",
            data={"interval_id": str(uuid.UUID(int=start + i)), "score": 100 + i % 7, "state": "derived"},
        )
        for i in range(n)
    ]


def run(url: str, events: int, batch: int, *, tree: bool) -> float:
    engine = open_registry(url)
    signer = notes.Signer.generate("bench/log")
    now = datetime.now(UTC)
    began = time.perf_counter()
    for start in range(0, events, batch):
        with engine.begin() as conn:
            audit.record_many(conn, _entries(batch, start), now=now)
        if tree:  # the sequencer after every commit: the worst case for the tree
            with engine.begin() as conn:
                checkpoints.advance(conn, signer, now=now, origin="bench/log")
    took = time.perf_counter() - began
    engine.dispose()
    return events / took


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--url", default="")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        urls = [args.url, args.url] if args.url else [f"sqlite:///{Path(tmp) / n}.db" for n in ("bare", "tree")]
        bare = run(urls[0], args.events, args.batch, tree=False)
        tree = run(urls[1], args.events, args.batch, tree=True)
    print(f"bare INSERT: {bare:,.0f} events/s; with the tree: {tree:,.0f} events/s; ratio {tree / bare:.2f}")


if __name__ == "__main__":
    main()
