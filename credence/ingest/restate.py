"""The registry restating records it holds, through the one write path: a record withdrawn (an
undone link) or moved to another subject (a merge, a split) is written as its next version by
``loader.write_batch``, with a new transaction time, so that the history keeps what the registry
knew before, the subjects touched wait in ``pending_subjects``, and an adverse record's notice
goes out as for any correction. Everything runs in the caller's transaction."""

import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select

from credence import resolve
from credence.exc import FieldError
from credence.ingest.loader import LoadResult, write_batch
from credence.ingest.records import Candidate, subject_ref
from credence.model.catalogue import Catalogue, default_catalogue
from credence.store.orm import Record

Key = tuple[str, str]  # (source, source record id)


def newest(conn: Connection, keys: Iterable[Key]) -> dict[Key, Any]:  # Any: a Record row
    """The newest version of each record named."""
    found: dict[Key, Any] = {}
    for source, record_id in dict.fromkeys(keys):
        row = conn.execute(
            select(Record)
            .where(Record.source_id == source, Record.source_record_id == record_id)
            .order_by(Record.version.desc())
            .limit(1)
        ).one_or_none()
        if row is not None:
            found[(source, record_id)] = row
    return found


def held_by(conn: Connection, subject: uuid.UUID) -> list[Key]:
    """The records whose newest version stands (is not withdrawn) and is about ``subject``."""
    keys = conn.execute(
        select(Record.source_id, Record.source_record_id).where(Record.subject_id == subject).distinct()
    ).all()
    rows = newest(conn, [(source, record_id) for source, record_id in keys])
    return sorted(key for key, row in rows.items() if row.subject_id == subject and row.op == "assert")


def restate(
    conn: Connection,
    rows: Iterable[Any],  # Any: Record rows, newest versions
    *,
    to: uuid.UUID | None = None,
    withdraw: bool = False,
    file: str,
    now: datetime,
    result: LoadResult,
    catalogue: Catalogue | None = None,
) -> list[uuid.UUID]:
    """Write each record's next version: about subject ``to`` (a move), or withdrawn; returns
    the versions written."""
    catalogue = catalogue or default_catalogue()
    by_source: dict[str, list[tuple[int, Candidate]]] = {}
    for row in rows:
        number = resolve.number_of(conn, to if to is not None else row.subject_id)
        if number is None:
            raise FieldError("subject", "the record's subject is gone")
        kind = catalogue.kinds[row.kind]
        related = tuple(
            subject_ref(row.attributes[name], field=f"attributes.{name}")
            for name, attribute in kind.attributes.items()
            if attribute.type.value == "id" and row.attributes.get(name)
        )
        candidate = Candidate(
            op="retract" if withdraw else row.op,
            source_record_id=row.source_record_id,
            subject=subject_ref(number, field="id_number"),
            kind=row.kind,
            valid_date=row.valid_date,
            jurisdiction=row.jurisdiction,
            legal_basis=row.legal_basis,
            attributes=dict(row.attributes),
            related=related,
        )
        by_source.setdefault(row.source_id, []).append((0, candidate))
    written: list[uuid.UUID] = []
    for source, candidates in sorted(by_source.items()):
        written += write_batch(
            conn,
            source=source,
            file=file,
            candidates=candidates,
            rejected=[],
            now=now,
            result=result,
            catalogue=catalogue,
        )
    return written
