"""Read a feed file row by row, with the file's own line numbers and a resumable position.

The file is read as bytes, one physical line at a time, and each line is decoded on its own in
the mapping's encoding, so one undecodable line (a stray byte, a GBK export declared as UTF-8)
is one refused row and the rest of the file still loads. Every byte read goes through a SHA-256
whose state is the position's digest: a load can commit "the first ``offset`` bytes, hashing to
``digest``, are in" with its rows and later resume right after them (see ``loader``).

Bounds, the same on every store: a physical line over ``MAX_LINE`` bytes and a CSV field over
``MAX_FIELD`` bytes are refused rows (their first bytes kept for review), never a crash and
never the whole file lost.
"""

import codecs
import csv
import hashlib
import json
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Literal

from credence.exc import CredenceError

MAX_LINE = 4 * 1024 * 1024
MAX_FIELD = 1024 * 1024
KEPT = 64 * 1024  # how much of an unreadable line the quarantine keeps
ENCODINGS = ("utf-8", "gb18030", "gbk", "gb2312")  # ASCII-compatible: "\n" is never part of a character
BOM = "\ufeff"

# process-wide, and the csv module's only way: raise Python's 128 KiB default so that our own,
# larger bound decides, and a long field is one refused row rather than a reader error
csv.field_size_limit(max(csv.field_size_limit(), MAX_FIELD))


class FeedRefusedError(CredenceError):
    """A file that cannot be read as its mapping says (its header, its first bytes): nothing of it
    is applied."""

    status = 422


class BadLineError(Exception):
    """A row that could not be read; ``raw`` is the text as received (undecodable bytes escaped)."""

    def __init__(self, reason: str, raw: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.raw = raw


@dataclass(frozen=True, slots=True)
class Layout:
    """How a feed's bytes are laid out, from its mapping."""

    format: Literal["csv", "jsonl"]
    encoding: str = "utf-8"
    delimiter: str = ","
    bom: bool = True  # a leading byte-order mark is allowed (and dropped)


@dataclass(slots=True)
class Position:
    """Where a read stands: bytes and physical lines consumed, rows read, and the digest so far."""

    offset: int = 0
    line: int = 0
    rows: int = 0
    hasher: Any = field(default_factory=hashlib.sha256)  # hashlib's type is private

    @property
    def digest(self) -> str:
        return str(self.hasher.hexdigest())

    def copy(self) -> "Position":
        return Position(self.offset, self.line, self.rows, self.hasher.copy())


@dataclass(frozen=True, slots=True)
class Prefix:
    """The digest of a file's first ``offset`` bytes, and whether a line ends there."""

    position: Position
    at_line_end: bool


def prefixes(path: Path, offsets: set[int]) -> tuple[int, dict[int, Prefix]]:
    """The file's size and the digest of its first ``offset`` bytes for each of ``offsets`` it has.

    One pass over the file; a hash state is copied at each offset, so the chosen one can go on
    hashing the rest of the file as it is read."""
    found: dict[int, Prefix] = {}
    wanted = sorted(o for o in offsets if o >= 0)
    hasher = hashlib.sha256()
    done = 0
    last = b""
    with path.open("rb") as handle:
        for target in wanted:
            while done < target:
                chunk = handle.read(min(1 << 20, target - done))
                if not chunk:
                    break
                hasher.update(chunk)
                done += len(chunk)
                last = chunk[-1:]
            if done != target:
                break
            found[target] = Prefix(Position(offset=target, hasher=hasher.copy()), target == 0 or last == b"\n")
        size = os.fstat(handle.fileno()).st_size
    return size, found


def _escaped(raw: bytes, encoding: str) -> str:
    return raw.decode(encoding, "backslashreplace")


Step = tuple[int, dict[str, Any] | BadLineError] | None  # a row, or None for a line that is none


class FeedReader:
    """The rows of one feed file from a position on.

    ``position`` is where the reading stands. It is safe to commit (every line it covers has been
    handed out as a row) whenever ``settled`` is true: a read that yields several rows at once
    (a refused over-long line inside a record) is settled only at the last of them.
    """

    def __init__(
        self, path: Path, layout: Layout, *, start: Position | None = None, required: Sequence[str] = ()
    ) -> None:
        self.path = path
        self.layout = layout
        self.required = tuple(required)
        self.position = start.copy() if start is not None else Position()
        self.header: list[str] | None = None
        self.settled = True
        self._orphans: list[tuple[int, BadLineError]] = []  # lines refused before a row was made of them
        self._undecodable: dict[int, str] = {}
        self._recent: list[bytes] = []  # the lines of the record being read, for the quarantine

    def _lines(self, handle: IO[bytes], pos: Position) -> Iterator[str]:
        """Decoded physical lines; ``pos`` moves past each line before it is yielded."""
        encoding = self.layout.encoding
        recent = self._recent
        while True:
            raw = handle.readline(MAX_LINE + 1)
            if not raw:
                return
            pos.hasher.update(raw)
            pos.offset += len(raw)
            pos.line += 1
            if len(raw) > MAX_LINE and not raw.endswith(b"\n"):
                kept = raw[:KEPT]
                while raw and not raw.endswith(b"\n"):  # skip to the end of the line, hashing it
                    raw = handle.readline(1 << 20)
                    pos.hasher.update(raw)
                    pos.offset += len(raw)
                reason = f"line is longer than {MAX_LINE // (1024 * 1024)} MiB"
                self._orphans.append((pos.line, BadLineError(reason, _escaped(kept, encoding))))
                yield "\n"
                continue
            if len(recent) < 8:
                recent.append(raw)
            try:
                text = raw.decode(encoding)
            except UnicodeDecodeError as err:
                bad = raw[err.start : err.end].hex(" ")
                self._undecodable[pos.line] = f"not valid {encoding}: bytes {bad} at byte {err.start + 1} of the line"
                text = raw.decode(encoding, "surrogateescape")
            else:
                if "\x00" in text:
                    self._undecodable[pos.line] = "the line holds a NUL character"
            yield text

    def _as_received(self) -> str:
        return _escaped(b"".join(self._recent)[:KEPT], self.layout.encoding).rstrip("\r\n")

    def _strip_bom(self, text: str) -> str:
        if not text.startswith(BOM):
            return text
        if not self.layout.bom:
            raise FeedRefusedError(f"{self.path}: starts with a byte-order mark; the mapping forbids one (bom: false)")
        return text[1:]

    def rows(self) -> Iterator[tuple[int, dict[str, Any] | BadLineError]]:
        """Yield (line the row starts on, row) pairs; an unreadable row yields a BadLineError.

        Raises FeedRefusedError before any row if the file cannot be read as its layout says."""
        with self.path.open("rb") as handle:
            steps = self._csv(handle) if self.layout.format == "csv" else self._jsonl(handle)
            position = self.position
            for found in steps:
                if self._orphans:  # rare: lines refused while this step was read, handed out first
                    orphans = sorted(self._orphans, key=lambda item: item[0])
                    self._orphans.clear()
                    for i, orphan in enumerate(orphans):
                        position.rows += 1
                        self.settled = found is None and i == len(orphans) - 1
                        yield orphan
                if found is not None:
                    position.rows += 1
                    self.settled = True
                    yield found

    def _read_header(self, handle: IO[bytes]) -> list[str]:
        scratch = Position()
        cells = next(csv.reader(self._lines(handle, scratch), delimiter=self.layout.delimiter), None)
        if cells is None:
            raise FeedRefusedError(f"{self.path}: the file is empty; expected a header line")
        if self._undecodable or self._orphans:
            reason = next(iter(self._undecodable.values()), "the line is too long")
            raise FeedRefusedError(f"{self.path}: line 1 (the header): {reason}")
        if cells:
            cells[0] = self._strip_bom(cells[0])
        header = [c.strip() for c in cells]
        self._check_header(header)
        if self.position.offset == 0:  # in place: rows() holds this position
            pos = self.position
            pos.offset, pos.line, pos.rows, pos.hasher = scratch.offset, scratch.line, scratch.rows, scratch.hasher
        return header

    def _check_header(self, header: list[str]) -> None:
        """Refuse a header that lacks a mapped column or names one twice: read anyway, every row
        would be refused for a reason that hides the real one (a wrong delimiter, say)."""
        twice = sorted({c for c in header if header.count(c) > 1} & set(self.required))
        if twice:
            raise FeedRefusedError(f"{self.path}: line 1 (the header) names column {twice[0]!r} more than once")
        missing = [c for c in self.required if c not in header]
        if not missing:
            return
        hint = ""
        delimiter = self.layout.delimiter
        if len(header) == 1:
            other = next((d for d in ",;\t|" if d != delimiter and d in header[0]), None)
            if other is not None:
                hint = f"; the mapping's delimiter is {delimiter!r}, but the header looks {other!r}-delimited"
        shown = ", ".join(repr(c) for c in header[:10]) + (", ..." if len(header) > 10 else "")
        raise FeedRefusedError(
            f"{self.path}: line 1 (the header) lacks the mapped column{'s' if len(missing) > 1 else ''} "
            f"{', '.join(missing)}; it has {shown}{hint}"
        )

    def _csv(self, handle: IO[bytes]) -> Iterator[Step]:
        """One step per record read: its row, or None for a blank line."""
        header = self.header = self._read_header(handle)
        if self.position.offset:
            handle.seek(self.position.offset)
        pos = self.position
        width = len(header)
        undecodable = self._undecodable
        recent = self._recent
        reader = csv.reader(self._lines(handle, pos), delimiter=self.layout.delimiter)
        while True:
            start = pos.line + 1
            recent.clear()
            try:
                cells = next(reader)
            except StopIteration:
                if self._orphans:
                    yield None
                return
            except csv.Error as err:
                # the csv module drops the rest of the record; the next record starts on the next line
                yield (start, BadLineError(f"not readable as CSV: {err}", self._as_received()))
                continue
            if not cells:  # a blank line is no row
                yield None
                continue
            if undecodable:
                bad = [undecodable.pop(n) for n in range(start, pos.line + 1) if n in undecodable]
                if bad:
                    yield (start, BadLineError(bad[0], self._as_received()))
                    continue
            if len(cells) > width:
                yield (start, BadLineError("more cells than the header has columns", json.dumps(cells[width:])))
                continue
            row: dict[str, Any] = dict(zip(header, cells, strict=False))
            if len(cells) < width:
                row.update(dict.fromkeys(header[len(cells) :]))
            yield (start, row)

    def _jsonl(self, handle: IO[bytes]) -> Iterator[Step]:
        pos = self.position
        handle.seek(pos.offset)
        first = pos.offset == 0
        recent = self._recent
        for text in self._lines(handle, pos):
            number = pos.line
            if first:
                text = self._strip_bom(text)
                first = False
            if not text.strip():
                recent.clear()
                yield None
                continue
            problem = self._undecodable.pop(number, None)
            if problem is None and "\\u0000" in text:
                problem = "the line holds a NUL character"
            if problem is not None:
                yield (number, BadLineError(problem, self._as_received()))
                recent.clear()
                continue
            recent.clear()
            try:
                value = json.loads(text)
            except json.JSONDecodeError as err:
                yield (number, BadLineError(f"not valid JSON: {err.msg} at column {err.colno}", text.rstrip("\n")))
                continue
            if not isinstance(value, dict):
                yield (number, BadLineError("a JSON line must hold an object", text.rstrip("\n")))
                continue
            yield (number, value)


def canonical_encoding(name: str) -> str:
    """The codec's own name for ``name`` if it is one a feed may use; raises ValueError if not."""
    try:
        found = codecs.lookup(name).name
    except LookupError:
        raise ValueError(f"unknown encoding {name!r}; expected one of {', '.join(ENCODINGS)}") from None
    if found not in ENCODINGS:
        raise ValueError(f"encoding {name!r} is not supported; expected one of {', '.join(ENCODINGS)}")
    return found
