"""What a leaf of the log says: an entry as published, with commitments in place of ids.

An entry is the RFC 8785 canonical JSON of::

    {"v": 1, "index": 7, "tag": "listing.start", "actor": "rules",
     "recorded_at": "2026-12-02T18:00:00.000000Z", "subject": "<hex>" | null, "data": "<hex>"}

``subject`` is SHA-256(salt ‖ the subject's 16 uuid bytes) and ``data`` SHA-256(salt ‖ RFC 8785
JSON of the event's data), with the subject's own salt (``log_salts``), or no salt for an entry
without a subject (a rulebook version, a provider key: no one's data). The published tree thus
holds no id a reader could follow; a subject who is given their salt can find and open their
own entries; deleting a salt (erasure) leaves every leaf hash, so the tree, as it was.
"""

import hashlib
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import rfc8785

from credence.audit import merkle
from credence.exc import CredenceError

VERSION = 1


class EntryError(CredenceError):
    """An event that cannot be made an entry (its data has no canonical JSON form)."""

    status = 422


@dataclass(frozen=True, slots=True)
class Leaf:
    """A leaf as the integrator and the verifier compute it."""

    entry: bytes  # the canonical JSON published
    hash: bytes  # SHA-256(0x00 ‖ entry)
    subject_hash: bytes | None


def canonical(value: Any) -> bytes:  # Any: any JSON value
    """RFC 8785 JSON (the ``rfc8785`` package): one byte string per value, whatever wrote it."""
    try:
        return rfc8785.dumps(value)
    except rfc8785.CanonicalizationError as err:
        raise EntryError(f"event data has no canonical JSON form: {err}") from None


def subject_commitment(subject: uuid.UUID, salt: bytes) -> bytes:
    return hashlib.sha256(salt + subject.bytes).digest()


def instant(value: datetime) -> str:
    """An instant as an entry writes it: UTC, microseconds, ``Z`` (SQLite hands instants back
    without their zone, and every instant is written in UTC)."""
    utc = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def leaf(
    index: int,
    *,
    tag: str,
    actor: str,
    recorded_at: datetime,
    subject: uuid.UUID | None,
    salt: bytes | None,
    data: dict[str, Any],  # the event's JSON
) -> Leaf:
    """The leaf of the event at leaf ``index``; ``salt`` is its subject's (None without a subject)."""
    if subject is not None and salt is None:
        raise EntryError(f"leaf {index}: the subject has no salt")
    key = salt or b""
    committed = None if subject is None else subject_commitment(subject, key)
    body = {
        "v": VERSION,
        "index": index,
        "tag": tag,
        "actor": actor,
        "recorded_at": instant(recorded_at),
        "subject": None if committed is None else committed.hex(),
        "data": hashlib.sha256(key + canonical(data)).hexdigest(),
    }
    entry = canonical(body)
    return Leaf(entry, merkle.leaf_hash(entry), committed)
