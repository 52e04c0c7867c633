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
  lock; an export runs under that lock, so no writer is part-way through a transaction.
- ``manifest.json`` is written last, atomically (a temporary file, fsync, rename). Readers read
  only the files it lists. A crash mid-export leaves the previous manifest true; the next export
  deletes the unlisted files and redoes the part.
"""

import json
import os
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
from sqlalchemy import Connection, Table, select

from credence.exc import CredenceError
from credence.store.orm import Record, Subject

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
    """One table of the snapshot: its schema, the store's table, its transaction-time column."""

    name: str
    schema: pa.Schema
    table: Table
    stamp: str


PARTS = (
    Part("records", RECORDS, Record.__table__, "recorded_at"),  # type: ignore[arg-type]  # ORM tables are Tables
    Part("subjects", SUBJECTS, Subject.__table__, "created_at"),  # type: ignore[arg-type]
)


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


def files(folder: Path, part: str) -> list[str]:
    """The absolute paths of ``part``'s files that ``folder``'s manifest lists."""
    found = manifest(folder)
    if found is None:
        raise CredenceError(f"--snapshot {folder}: expected a snapshot folder (credence snapshot export), found none")
    return [str(folder / f) for f in found.files(part)]


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


def _instant(value: datetime) -> datetime:
    # SQLite hands DateTime(timezone=True) back naive; the store keeps UTC
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def _hex(value: uuid.UUID | str) -> str:
    return value.hex if isinstance(value, uuid.UUID) else uuid.UUID(value).hex


def _bucket(value: uuid.UUID | str, buckets: int) -> int:
    ident = value if isinstance(value, uuid.UUID) else uuid.UUID(value)
    return (ident.int & 0xFFFFFFFF) % buckets


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
    table = part.table
    stamp = table.c[part.stamp]
    query = select(*(table.c[n] for n in part.schema.names)).where(stamp <= now)
    if since is not None:
        query = query.where(stamp > since)
    result = conn.execute(query, execution_options={"stream_results": True, "yield_per": batch})
    who = "subject_id" if part.name == "records" else "id"
    schema = part.schema.append(pa.field("bucket", pa.int16()))
    while rows := result.fetchmany(batch):
        columns: dict[str, list[Any]] = {n: [] for n in schema.names}
        for row in rows:
            values = row._mapping
            ident = _hex(values["id"])
            if ident in seen:
                continue
            for name in part.schema.names:
                value = values[name]
                if name == "id" or name == "subject_id":
                    value = _hex(value)
                elif name == part.stamp:
                    value = _instant(value)
                elif name == "attributes":
                    value = json.dumps(value, sort_keys=True, ensure_ascii=False)
                elif isinstance(value, str) and part.schema.field(name).type == pa.date32():
                    value = date.fromisoformat(value)
                columns[name].append(value)
            columns["bucket"].append(_bucket(values[who], buckets))
        if columns["bucket"]:
            yield pa.RecordBatch.from_pydict(columns, schema=schema)
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
