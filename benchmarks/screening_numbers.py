"""person_keys on a 100,000-entry manifest, against a bare numpy conversion and a parse_subject loop.

The manifest is mostly valid canonical resident IDs (random ever-assigned address codes, birth
dates 1930-2010, sequences) with one entry in a hundred spoiled (a wrong check character, a
lowercase x, a space, a 15-digit form). Timed in alternating rounds in one process, best of each:

- bare: ``np.array(values, dtype="S18")`` then digits to int64 (no validation at all);
- person_keys: the vectorised fast path;
- parse_subject: the per-entry exact parser (run over a tenth of the manifest, scaled up).

Printed: milliseconds for each and the ratios person_keys / bare and parse_subject / person_keys
(goal: person_keys at least half bare's speed, i.e. ratio <= 2; well under 100 ms). No ID numbers
are printed.

    .venv/bin/python benchmarks/screening_numbers.py
    .venv/bin/python benchmarks/screening_numbers.py --entries 20000 --rounds 3
"""

import argparse
import random
import time
from collections.abc import Callable
from datetime import date, timedelta

import numpy as np
from stdnum.cn import ric

from credence.exc import FieldError
from credence.model.identifiers import parse_subject
from credence.screening.numbers import assigned_table, person_keys

POWERS = 10 ** np.arange(16, -1, -1, dtype=np.int64)


def manifest(entries: int, seed: int = 11643) -> list[str]:
    rng = random.Random(seed)
    codes = [f"{c:06d}" for c in np.flatnonzero(assigned_table())]
    values = []
    for i in range(entries):
        birth = date(1930, 1, 1) + timedelta(days=rng.randrange(80 * 365))
        body = f"{rng.choice(codes)}{birth:%Y%m%d}{rng.randrange(1000):03d}"
        number = body + ric.calc_check_digit(body + "0")
        if i % 100 == 99:
            number = [
                number[:-1] + "0" if number[-1] != "0" else number[:-1] + "1",
                number.lower(),
                f" {number}",
                body[:6] + body[8:17],
            ][i // 100 % 4]
        values.append(number)
    return values


def bare(values: list[str]) -> np.ndarray:
    chars = np.array(values, dtype="S18").view(np.uint8).reshape(-1, 18)
    return (chars[:, :17] - np.uint8(48)).astype(np.int64) @ POWERS


def parse_loop(values: list[str]) -> int:
    accepted = 0
    for value in values:
        try:
            parse_subject(value)
        except FieldError:
            continue
        accepted += 1
    return accepted


def best(fn: Callable[[], object], seconds: list[float]) -> None:
    start = time.perf_counter()
    fn()
    seconds.append(time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    values = manifest(args.entries)
    tenth = values[: max(1, len(values) // 10)]
    assigned_table()  # built once per process, not per manifest
    _keys, decided = person_keys(values)
    print(f"{args.entries} entries, {int(decided.sum())} decided by the fast path")
    times: dict[str, list[float]] = {"bare": [], "person_keys": [], "parse_subject": []}
    for _ in range(args.rounds):
        best(lambda: bare(values), times["bare"])
        best(lambda: person_keys(values), times["person_keys"])
        best(lambda: parse_loop(tenth), times["parse_subject"])
    ms = {name: min(t) * 1000 for name, t in times.items()}
    ms["parse_subject"] *= len(values) / len(tenth)
    for name, value in ms.items():
        print(f"{name:>14}: {value:8.1f} ms")
    print(f"person_keys / bare: {ms['person_keys'] / ms['bare']:.2f} (goal <= 2)")
    print(f"parse_subject / person_keys: {ms['parse_subject'] / ms['person_keys']:.0f}")


if __name__ == "__main__":
    main()
