"""Integrate the committed events into the tree and sign a checkpoint: ``advance``.

Writers only append events (``audit.record``). ``advance`` is the log's sequencer: it gives the
events that have committed since the last call contiguous leaf indices in a deterministic order,
writes their leaf hashes, the perfect nodes they complete and the salts of new subjects, and
signs a checkpoint of the new size. Order (docs/decisions/0003-log-sequencing.md):

* SQLite has one writer at a time, so ``seq`` is commit order: events after the last leaf's seq.
* PostgreSQL hands out ``seq`` when a row is inserted, not when it commits, so a lower seq can
  commit after a higher one has been integrated. Each event carries its transaction's id
  (``xact``); events are taken in ``(xact, seq)`` order, and only from transactions older than
  the oldest still running (``pg_snapshot_xmin``): no such transaction can commit a new row, so
  nothing is ever added before the last leaf. A long transaction delays integration; it never
  reorders it.

One call at a time (a transaction-level advisory lock on PostgreSQL; the writer lock or the one
SQLite writer elsewhere). The caller commits.
"""

import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, func, select, text, tuple_

from credence import logs
from credence.audit import entries, merkle, notes, tree
from credence.store import bulk
from credence.store.orm import Checkpoint, Event, LogLeaf, LogSalt

CHUNK = 20_000  # events per read: bounds memory on a first integration of millions
LOCK = 0x6C6F67  # "log": the advisory lock id of the sequencer on PostgreSQL
SALT_BYTES = 32
log = logs.get_logger(__name__)


@dataclass(frozen=True)
class Advanced:
    integrated: int  # leaves added by this call
    size: int
    root: bytes
    note: str | None  # the checkpoint signed by this call, None if the tree did not grow


def _horizon(conn: Connection) -> int | None:
    """On PostgreSQL, the oldest transaction id still running: events of older ones are final."""
    if conn.dialect.name != "postgresql":
        return None
    value = conn.execute(text("SELECT (pg_snapshot_xmin(pg_current_snapshot())::text)::bigint")).scalar_one()
    return int(value)


def _pending(conn: Connection, last: Row[Any] | None, horizon: int | None, limit: int) -> Sequence[Row[Any]]:
    columns = (Event.seq, Event.xact, Event.tag, Event.subject_id, Event.actor, Event.data, Event.recorded_at)
    query = select(*columns).limit(limit)
    if horizon is None:
        if last is not None:
            query = query.where(Event.seq > last.seq)
        return conn.execute(query.order_by(Event.seq)).all()
    query = query.where(Event.xact < horizon)
    if last is not None:
        query = query.where(tuple_(Event.xact, Event.seq) > tuple_(last.xact, last.seq))
    return conn.execute(query.order_by(Event.xact, Event.seq)).all()


def salts(conn: Connection, subjects: set[uuid.UUID], *, now: datetime, create: bool) -> dict[uuid.UUID, bytes]:
    """The salts of ``subjects``; with ``create``, new ones for those without (in this transaction)."""
    found: dict[uuid.UUID, bytes] = {}
    for condition in bulk.matching(LogSalt.subject_id, subjects, conn):
        found.update((s, bytes(v)) for s, v in conn.execute(select(LogSalt.subject_id, LogSalt.salt).where(condition)))
    if create:
        new = [(s, secrets.token_bytes(SALT_BYTES), now) for s in subjects - found.keys()]
        bulk.insert_rows(conn, LogSalt, ("subject_id", "salt", "created_at"), new)
        found.update((s, v) for s, v, _ in new)
    return found


@dataclass(frozen=True)
class Signed:
    size: int
    root: bytes
    note: str


def latest(conn: Connection) -> Signed | None:
    """The newest signed checkpoint."""
    row = conn.execute(
        select(Checkpoint.size, Checkpoint.root, Checkpoint.note).order_by(Checkpoint.size.desc()).limit(1)
    ).first()
    return None if row is None else Signed(int(row.size), bytes(row.root), row.note)


def advance(conn: Connection, signer: notes.Signer, *, now: datetime, origin: str, chunk: int = CHUNK) -> Advanced:
    """Integrate every event final by now and sign a checkpoint if the tree grew.

    Args:
        conn: the caller's transaction (committed by the caller).
        signer: the log's key (``audit.keys.log_signer``).
        now: the checkpoint's time.
        origin: the log's name, the checkpoint's first line (``CREDENCE_LOG_ORIGIN``).

    Returns:
        How many leaves were added, the tree's size and root, and the note signed (if any).
    """
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": LOCK})
    size = tree.size(conn)
    compact = tree.compact(conn, size)
    last: Row[Any] | None = None
    if size:
        last = conn.execute(select(LogLeaf.seq, LogLeaf.xact).where(LogLeaf.idx == size - 1)).first()  # type: ignore[assignment]
    horizon = _horizon(conn)
    added = 0
    while True:
        events = _pending(conn, last, horizon, chunk)
        if not events:
            break
        subjects = {e.subject_id for e in events if e.subject_id is not None}
        salted = salts(conn, subjects, now=now, create=True)
        leaves: list[tuple[int, int, int | None, bytes, bytes | None]] = []
        made: list[tuple[merkle.Node, bytes]] = []
        for event in events:
            index = compact.size
            salt = None if event.subject_id is None else salted[event.subject_id]
            found = entries.leaf(
                index,
                tag=event.tag,
                actor=event.actor,
                recorded_at=event.recorded_at,
                subject=event.subject_id,
                salt=salt,
                data=event.data,
            )
            leaves.append((index, event.seq, event.xact, found.hash, found.subject_hash))
            made.extend(compact.append(found.hash))
        bulk.insert_rows(conn, LogLeaf, ("idx", "seq", "xact", "hash", "subject_hash"), leaves)
        tree.write_nodes(conn, made)
        added += len(events)
        last = events[-1]
    root = compact.root()
    if added == 0:
        return Advanced(0, compact.size, root, None)
    checkpoint = notes.Checkpoint(origin, compact.size, root, int(now.timestamp()))
    note = notes.sign_checkpoint(checkpoint, signer)
    bulk.insert_rows(conn, Checkpoint, ("size", "root", "note", "signed_at"), [(compact.size, root, note, now)])
    log.info("log.checkpoint", size=compact.size, integrated=added)
    return Advanced(added, compact.size, root, note)


def checkpoint_count(conn: Connection) -> int:
    return int(conn.execute(select(func.count()).select_from(Checkpoint)).scalar_one())
