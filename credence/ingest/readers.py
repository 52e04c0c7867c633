"""Read a feed file row by row, with the line each row starts on."""

import csv
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any


class BadLineError(Exception):
    def __init__(self, reason: str, raw: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.raw = raw


def rows(path: Path, fmt: str) -> Iterator[tuple[int, dict[str, Any] | BadLineError]]:
    """Yield (line number, row) pairs; an unreadable line yields a BadLineError instead of a row."""
    with path.open(encoding="utf-8", newline="") as handle:
        if fmt == "csv":
            reader = csv.DictReader(handle)
            line = reader.line_num + 1
            for row in reader:
                if None in row:
                    yield (
                        line,
                        BadLineError("more cells than the header has columns", json.dumps(row[None])),
                    )
                else:
                    yield line, row
                line = reader.line_num + 1
            return
        for number, text in enumerate(handle, start=1):
            if not text.strip():
                continue
            try:
                value = json.loads(text)
            except json.JSONDecodeError as err:
                yield (
                    number,
                    BadLineError(f"not valid JSON: {err.msg} at column {err.colno}", text.rstrip("\n")),
                )
                continue
            if not isinstance(value, dict):
                yield number, BadLineError("a JSON line must hold an object", text.rstrip("\n"))
                continue
            yield number, value
