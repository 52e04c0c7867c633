"""What the log serves: its checkpoint, inclusion and consistency proofs, and a subject's entries.

Every proof is against a tree size the log has signed a checkpoint for, so a reader can check
it against a note they trust; the hashes come from the stored nodes (``audit.tree``).
"""

import base64
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, func, select

from credence.audit import checkpoints, entries, merkle, tree
from credence.exc import FieldError, NotFoundError
from credence.store.orm import Checkpoint, Event, LogLeaf, LogSalt


def b64(value: bytes) -> str:
    return base64.b64encode(value).decode()


def latest_note(conn: Connection) -> str:
    found = checkpoints.latest(conn)
    if found is None:
        raise NotFoundError("the log has no checkpoint yet")
    return found.note


def _within(conn: Connection, size: int, field: str) -> None:
    """Proofs are served for any size up to the latest checkpoint's (a reader holds some
    checkpoint; sizes past the newest signed one would prove nothing anyone can check)."""
    signed = conn.execute(select(func.max(Checkpoint.size))).scalar()
    if signed is None:
        raise NotFoundError("the log has no checkpoint yet")
    if size > signed:
        raise FieldError(field, f"{size} is past the latest checkpoint's size, {signed}")


def inclusion(conn: Connection, index: int, size: int) -> list[bytes]:
    """PATH(index, D[size]), for a size up to the latest checkpoint's."""
    _within(conn, size, "size")
    if not 0 <= index < size:
        raise FieldError("index", f"leaf {index} is not in the tree of {size}")
    return tree.hashes(conn, merkle.inclusion_ranges(index, size))


def consistency(conn: Connection, first: int, second: int) -> list[bytes]:
    """PROOF(first, D[second]), for sizes up to the latest checkpoint's."""
    if not 0 < first <= second:
        raise FieldError("first", f"expected 0 < first <= second, got {first} and {second}")
    _within(conn, second, "second")
    return tree.hashes(conn, merkle.consistency_ranges(first, second))


@dataclass(frozen=True)
class Published:
    index: int
    leaf_hash: bytes
    entry: bytes | None  # None once the subject's salt is erased: the leaf stands, the entry cannot be rebuilt


def published(conn: Connection, index: int) -> Published:
    """Leaf ``index`` and its entry as published (rebuilt from the event and its salt)."""
    row = conn.execute(
        select(LogLeaf.hash, Event.tag, Event.actor, Event.recorded_at, Event.subject_id, Event.data)
        .join(Event, Event.seq == LogLeaf.seq)
        .where(LogLeaf.idx == index)
    ).first()
    if row is None:
        raise NotFoundError(f"the log has no leaf {index}")
    salt: bytes | None = None
    if row.subject_id is not None:
        salt = conn.execute(select(LogSalt.salt).where(LogSalt.subject_id == row.subject_id)).scalar()
        if salt is None:
            return Published(index, bytes(row.hash), None)
    built = entries.leaf(
        index,
        tag=row.tag,
        actor=row.actor,
        recorded_at=row.recorded_at,
        subject=row.subject_id,
        salt=None if salt is None else bytes(salt),
        data=row.data,
    )
    return Published(index, bytes(row.hash), built.entry)


def commitment_of(conn: Connection, subject: uuid.UUID) -> bytes | None:
    """A subject's commitment (what their notice would give them), None without a salt."""
    salt = conn.execute(select(LogSalt.salt).where(LogSalt.subject_id == subject)).scalar()
    return None if salt is None else entries.subject_commitment(subject, bytes(salt))


def bundle(conn: Connection, commitment: bytes, *, limit: int = 1000) -> dict[str, Any]:  # Any: JSON
    """Every entry about the subject of ``commitment`` up to the latest checkpoint, each with its
    inclusion proof, and that checkpoint: what ``credence audit prove`` checks offline."""
    signed = checkpoints.latest(conn)
    if signed is None:
        raise NotFoundError("the log has no checkpoint yet")
    note, size = signed.note, signed.size
    indices = conn.execute(
        select(LogLeaf.idx)
        .where(LogLeaf.subject_hash == commitment, LogLeaf.idx < size)
        .order_by(LogLeaf.idx)
        .limit(limit)
    ).scalars()
    found = []
    for index in indices:
        item = published(conn, int(index))
        found.append(
            {
                "index": item.index,
                "entry": None if item.entry is None else item.entry.decode(),
                "leaf_hash": b64(item.leaf_hash),
                "proof": [b64(h) for h in inclusion(conn, item.index, size)],
            }
        )
    return {"checkpoint": note, "subject": commitment.hex(), "entries": found}
