"""The columnar snapshot: the store's records and subjects as Parquet, partitioned by subject.

Layout (one folder; ``docs/scale.md``)::

    manifest.json                         the truth: bucket count, high-water mark, every file
    records/bucket=NN/part-SSSSSS-I.parquet
    subjects/bucket=NN/part-SSSSSS-I.parquet

``bucket`` is the low 32 bits of the subject's id modulo the manifest's bucket count. Subject
ids are random (uuid4) or SHA-1 based (uuid5), so those bits are already a stable, uniform hash:
every version of a subject's records lands in one bucket, and the work divides by subject.

Invariants:

- Records are append-only (a correction or a retraction is a new version; triggers refuse
  UPDATE and DELETE, see ``store.roles.APPEND_ONLY``), and so are subjects. A row once exported
  never changes, so an export appends files and never rewrites one.
- An export copies the rows whose transaction time (``recorded_at``, ``created_at``) is after the
  last export's high-water mark less ``overlap``, and skips those among them already in the
  snapshot. The overlap covers a writer that took its instant before it waited for the writer
  lock; an export runs under that lock, so no writer is part-way through a transaction. Records
  are read source by source, on the index (source_id, recorded_at).
- ``manifest.json`` is written last, atomically (a temporary file, fsync, rename). Readers read
  only the files it lists. A crash mid-export leaves the previous manifest true; the next export
  deletes the unlisted files and redoes the part.
"""

import json
import os
from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
from sqlalchemy import Connection, text

from credence.exc import CredenceError
from credence.rules.targets import Dialect, Target
from credence.store.db import dialect_of

FORMAT = 1
BUCKETS = 64
BATCH = 100_000
MANIFEST = "manifest.json"

RECORDS = pa.schema(
    [
        ("id", pa.string()),
        ("subject_id", pa.string()),
        ("source_id", pa.string()),
        ("source_record_id", pa.string()),
        ("version", pa.int32()),
        ("op", pa.string()),
        ("kind", pa.string()),
        ("valid_date", pa.date32()),
        ("recorded_at", pa.timestamp("us", tz="UTC")),
        ("jurisdiction", pa.string()),
        ("attributes", pa.string()),  # the JSON as stored: the catalogue types it when it is read
    ]
)
SUBJECTS = pa.schema(
    [
        ("id", pa.string()),
        ("kind", pa.string()),
        ("birth_date", pa.date32()),
        ("address_code", pa.string()),
        ("created_at", pa.timestamp("us", tz="UTC")),
    ]
)


@dataclass(frozen=True, slots=True)
class Part:
    """One table of the snapshot, named as the store's table, with its transaction-time column."""

    name: str
    schema: pa.Schema
    stamp: str


PARTS = (Part("records", RECORDS, "recorded_at"), Part("subjects", SUBJECTS, "created_at"))


@dataclass(frozen=True, slots=True)
class Manifest:
    buckets: int
    high_water: datetime | None
    overlap: float  # seconds
    exports: list[dict[str, Any]]  # Any: JSON, {"seq", "at", "since", "records", "subjects", "files"}

    @property
    def seq(self) -> int:
        return int(self.exports[-1]["seq"]) if self.exports else 0

    def files(self, part: str) -> list[str]:
        """The files of ``part`` every export wrote, relative to the snapshot's folder."""
        return [f for e in self.exports for f in e["files"] if f.startswith(part + "/")]


@dataclass(frozen=True, slots=True)
class Exported:
    seq: int
    since: datetime | None  # None: a full export
    high_water: datetime
    records: int
    subjects: int
    files: int
    bytes: int


def manifest(folder: Path) -> Manifest | None:
    """The snapshot's manifest, None if ``folder`` holds no snapshot yet."""
    path = folder / MANIFEST
    if not path.exists():
        return None
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        if raw.get("format") != FORMAT:
            raise CredenceError(f"{path}: format: expected {FORMAT}, got {raw.get('format')!r}")
        high = raw["high_water"]
        return Manifest(
            buckets=int(raw["buckets"]),
            high_water=datetime.fromisoformat(high) if high else None,
            overlap=float(raw["overlap"]),
            exports=list(raw["exports"]),
        )
    except (ValueError, KeyError, TypeError) as err:
        raise CredenceError(f"{path}: expected a snapshot manifest, got unreadable JSON ({err})") from None


def files(folder: Path, part: str, *, buckets: Collection[int] | None = None) -> list[str]:
    """The absolute paths of ``part``'s files that ``folder``'s manifest lists (in ``buckets`` only,
    if given: a worker's share of the subjects)."""
    found = manifest(folder)
    if found is None:
        raise CredenceError(f"--snapshot {folder}: expected a snapshot folder (credence snapshot export), found none")
    listed = found.files(part)
    if buckets is not None:
        wanted = {f"bucket={b}" for b in buckets}
        listed = [f for f in listed if f.split("/")[1] in wanted]
    return [str(folder / f) for f in listed]


def export(
    conn: Connection,
    folder: Path,
    *,
    now: datetime,
    overlap: float,
    buckets: int = BUCKETS,
    batch: int = BATCH,
    progress: Callable[[int], None] | None = None,
) -> Exported:
    """Append to the snapshot in ``folder`` the records and subjects the store learned after its
    high-water mark, up to ``now`` (everything, the first time); call it under the writer lock.
    ``progress`` is told the rows of each batch written."""
    now = now.astimezone(UTC)  # SQLite compares instants as text: bind them in UTC, as stored
    before = manifest(folder)
    if before is not None:
        buckets = before.buckets  # fixed for the snapshot's life: a subject stays in its bucket
    elif not 1 <= buckets <= 4096:
        raise CredenceError(f"buckets: expected 1 to 4096, got {buckets}")
    folder.mkdir(parents=True, exist_ok=True)
    _sweep(folder, before)
    seq = (before.seq if before else 0) + 1
    since = None if before is None or before.high_water is None else before.high_water - timedelta(seconds=overlap)
    written: list[str] = []
    counts: dict[str, int] = {}
    for part in PARTS:
        seen = _seen(folder, before, part, since)
        counts[part.name] = _write(
            conn, folder, part, seq=seq, since=since, now=now, seen=seen, buckets=buckets, batch=batch,
            written=written, progress=progress,
        )  # fmt: skip
    entry = {
        "seq": seq,
        "at": now.isoformat(),
        "since": since.isoformat() if since else None,
        "records": counts["records"],
        "subjects": counts["subjects"],
        "files": sorted(written),
    }
    _commit(
        folder,
        {
            "format": FORMAT,
            "buckets": buckets,
            "high_water": now.isoformat(),
            "overlap": overlap,
            "exports": [*(before.exports if before else []), entry],
        },
    )
    size = sum((folder / f).stat().st_size for f in written)
    return Exported(seq, since, now, counts["records"], counts["subjects"], len(written), size)


HEX = np.full(256, 255, dtype=np.uint8)
HEX[np.frombuffer(b"0123456789abcdef", dtype=np.uint8)] = np.arange(16, dtype=np.uint8)
HEX[np.frombuffer(b"ABCDEF", dtype=np.uint8)] = np.arange(10, 16, dtype=np.uint8)


def buckets_of(ids: pa.Array, buckets: int) -> pa.Array:
    """The bucket of each id (32 hex digits): its low 32 bits modulo ``buckets``, computed on
    the Arrow buffer at once rather than an ``int(..., 16)`` a row."""
    ids = pa.array(ids.to_pylist(), pa.string()) if ids.offset or ids.null_count else ids  # contiguous, no gaps
    offsets = np.frombuffer(ids.buffers()[1], dtype=np.int32)[: len(ids) + 1]
    if len(ids) and not (np.diff(offsets) == 32).all():
        raise CredenceError("subject_id: expected 32 hex digits in every row of the store")
    digits = HEX[np.frombuffer(ids.buffers()[2], dtype=np.uint8)[: 32 * len(ids)].reshape(-1, 32)[:, 24:]]
    if (digits == 255).any():
        raise CredenceError("subject_id: expected 32 hex digits in every row of the store")
    low = (digits.astype(np.uint64) << np.arange(28, -1, -4, dtype=np.uint64)).sum(axis=1)
    return pa.array((low % buckets).astype(np.int16))


def _select(part: Part, dialect: Dialect) -> str:
    """The part's columns as the export writes them: ids as 32 hex digits and the attributes as
    JSON text on every store (PostgreSQL hands back uuid objects and parsed JSON)."""
    out = []
    for name in part.schema.names:
        if dialect is Dialect.POSTGRES and name in ("id", "subject_id"):
            out.append(f"replace(CAST({name} AS TEXT), '-', '') AS {name}")
        elif dialect is Dialect.POSTGRES and name == "attributes":
            out.append("CAST(attributes AS TEXT) AS attributes")
        else:
            out.append(name)
    return ", ".join(out)


def _column(values: Sequence[Any], kind: pa.DataType) -> pa.Array:
    """One column of driver values as ``kind``; SQLite hands dates and instants back as text."""
    sample = next((v for v in values if v is not None), None)
    if not isinstance(sample, str) or pa.types.is_string(kind):
        return pa.array(values, kind)
    raw = pa.array(values, pa.string())
    if pa.types.is_timestamp(kind):  # stored in UTC, without a zone
        return pc.assume_timezone(raw.cast(pa.timestamp("us")), "UTC")
    return raw.cast(kind)


def _batches(
    conn: Connection,
    part: Part,
    *,
    since: datetime | None,
    now: datetime,
    seen: set[str],
    buckets: int,
    batch: int,
    progress: Callable[[int], None] | None,
) -> Iterator[pa.RecordBatch]:
    target = Target(Dialect(dialect_of(conn.engine)))
    later = f" AND {part.stamp} > {target.instant_param('since')}" if since is not None else ""
    until = f"{part.stamp} <= {target.instant_param('now')}"
    sql = f"SELECT {_select(part, target.dialect)} FROM {part.name} WHERE {until}{later}"
    params = {"now": target.instant_value(now)} | ({"since": target.instant_value(since)} if since else {})
    # an incremental export reads records source by source: the range of each on the index
    # (source_id, recorded_at) the circuit breaker already keeps
    sources: list[str | None] = [None]
    if since is not None and part.name == "records":
        sources = [s for (s,) in conn.execute(text("SELECT id FROM sources ORDER BY id"))]
        sql += " AND source_id = :source"
    who = "subject_id" if part.name == "records" else "id"
    skip = pa.array(sorted(seen), pa.string())
    for source in sources:
        given = params | ({"source": source} if source is not None else {})
        result = conn.execute(text(sql), given, execution_options={"stream_results": True})
        while rows := result.fetchmany(batch):
            columns = list(zip(*rows, strict=True))
            arrays = [_column(c, f.type) for c, f in zip(columns, part.schema, strict=True)]
            made = pa.RecordBatch.from_arrays(arrays, schema=part.schema)
            if len(skip):
                made = made.filter(pc.invert(pc.is_in(made.column("id"), value_set=skip)))
            if made.num_rows:
                bucket = buckets_of(made.column(who), buckets)
                yield made.append_column(pa.field("bucket", pa.int16()), bucket)
            if progress is not None:
                progress(len(rows))


def _write(
    conn: Connection,
    folder: Path,
    part: Part,
    *,
    seq: int,
    since: datetime | None,
    now: datetime,
    seen: set[str],
    buckets: int,
    batch: int,
    written: list[str],
    progress: Callable[[int], None] | None,
) -> int:
    rows = 0
    base = folder / part.name

    def visit(made: Any) -> None:  # Any: pyarrow's WrittenFile
        nonlocal rows
        written.append(Path(made.path).relative_to(folder).as_posix())
        rows += made.metadata.num_rows

    schema = part.schema.append(pa.field("bucket", pa.int16()))
    ds.write_dataset(
        _batches(conn, part, since=since, now=now, seen=seen, buckets=buckets, batch=batch, progress=progress),
        base,
        schema=schema,
        format="parquet",
        partitioning=ds.partitioning(pa.schema([("bucket", pa.int16())]), flavor="hive"),
        basename_template=f"part-{seq:06d}-{{i}}.parquet",
        existing_data_behavior="overwrite_or_ignore",
        file_visitor=visit,
        max_rows_per_group=batch,
        min_rows_per_group=min(batch, 10_000),
    )
    return rows


def _seen(folder: Path, before: Manifest | None, part: Part, since: datetime | None) -> set[str]:
    """The ids of ``part``'s rows already exported with a transaction time after ``since``: the
    overlap re-reads them, and they must not be written twice."""
    if before is None or since is None:
        return set()
    listed = [str(folder / f) for f in before.files(part.name)]
    if not listed:
        return set()
    found = ds.dataset(listed, schema=part.schema, format="parquet").to_table(
        columns=["id"], filter=pc.field(part.stamp) > pa.scalar(since, pa.timestamp("us", tz="UTC"))
    )
    return {str(v) for v in found.column("id").to_pylist()}


def _sweep(folder: Path, before: Manifest | None) -> None:
    """Delete what a crashed export wrote: every Parquet file the manifest does not list."""
    kept = {folder / f for part in PARTS for f in (before.files(part.name) if before else [])}
    for part in PARTS:
        for path in (folder / part.name).glob("bucket=*/*.parquet"):
            if path not in kept:
                path.unlink()


def _commit(folder: Path, content: dict[str, Any]) -> None:
    """Write the manifest atomically: the data files first, durably, then the new manifest."""
    for name in content["exports"][-1]["files"]:
        with (folder / name).open("rb") as handle:
            os.fsync(handle.fileno())
    temporary = folder / (MANIFEST + ".tmp")
    with temporary.open("w", encoding="utf-8") as handle:
        json.dump(content, handle, indent=1)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, folder / MANIFEST)
    directory = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


def describe(files: Sequence[str]) -> tuple[int, int]:
    """Rows and bytes of the Parquet ``files``."""
    rows = ds.dataset(list(files), format="parquet").count_rows() if files else 0
    return rows, sum(os.path.getsize(f) for f in files)
