"""Streaming writers for one feed file (CSV or JSON lines), with the feed's noise mixed in.

Besides each good row, a sink writes now and then: a malformed copy (see ``malform``), an exact
duplicate a little later, or an amendment (same record id, corrected content) later in the file.
"""

import csv
import heapq
import itertools
import json
import random
from pathlib import Path
from types import TracebackType
from typing import IO, Self

from credence.synth.malform import FeedShape, Malformation, Row, malform

# Brief: ~0.5% of all rows malformed, spread across feeds; "a few" duplicates and amendments.
# None of these shares is a DOMAIN.md figure.
MALFORMED_SHARE = 0.005
DUPLICATE_SHARE = 0.001
AMENDMENT_SHARE = 0.001
DUPLICATE_DELAY = (1, 500)  # rows later
AMENDMENT_DELAY = (200, 5000)


class FeedSink:
    def __init__(
        self,
        path: Path,
        shape: FeedShape,
        *,
        rng: random.Random,
        columns: tuple[str, ...] | None = None,
    ) -> None:
        """``columns`` given: a CSV file with that header; absent: JSON lines."""
        self.path = path
        self.shape = shape
        self.rows = 0
        self._rng = rng
        self._columns = columns
        self._file: IO[str] = path.open("w", encoding="utf-8", newline="")
        self._csv = csv.writer(self._file, lineterminator="\n") if columns else None
        if self._csv and columns:
            self._csv.writerow(columns)
        self._faults = itertools.cycle(Malformation)
        self._pending: list[tuple[int, int, Row]] = []  # (due row, tie-break, row)
        self._order = itertools.count()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def write(self, row: Row, *, plain: bool = False) -> None:
        """Write a good row; unless ``plain``, maybe also a fault, a duplicate or an amendment."""
        self._emit(row)
        if plain:
            return
        roll = self._rng.random()
        if roll < MALFORMED_SHARE:
            self._write_malformed(row)
        elif roll < MALFORMED_SHARE + DUPLICATE_SHARE:
            self._later(row, DUPLICATE_DELAY)
        elif roll < MALFORMED_SHARE + DUPLICATE_SHARE + AMENDMENT_SHARE and self.shape.amend:
            amended = self.shape.amend(row, self._rng)
            if amended is not None:
                self._later(amended, AMENDMENT_DELAY)
        while self._pending and self._pending[0][0] <= self.rows:
            self._emit(heapq.heappop(self._pending)[2])

    def close(self) -> int:
        if not self._file.closed:
            while self._pending:
                self._emit(heapq.heappop(self._pending)[2])
            self._file.close()
        return self.rows

    def _write_malformed(self, row: Row) -> None:
        """The next fault in turn that fits this row (every kind shows up, even in small runs)."""
        for _ in range(len(Malformation)):
            bad = malform(row, next(self._faults), self.shape)
            if bad is not None:
                self._emit(bad)
                return

    def _later(self, row: Row, delay: tuple[int, int]) -> None:
        due = self.rows + self._rng.randint(*delay)
        heapq.heappush(self._pending, (due, next(self._order), row))

    def _emit(self, row: Row) -> None:
        if self._csv is not None and self._columns is not None:
            self._csv.writerow([_cell(row.get(column)) for column in self._columns])
        else:
            self._file.write(json.dumps(row, ensure_ascii=False, separators=(",", ":")) + "\n")
        self.rows += 1


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "Y" if value else "N"
    return str(value)
