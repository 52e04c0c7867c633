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
import json
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


SAFE_INT = 2**53  # RFC 8785 numbers are IEEE doubles: integers up to here print as Python prints them
_dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), sort_keys=True, allow_nan=False).encode


def _plain(value: Any) -> bool:  # Any: any JSON value
    """Whether ``json`` writes ``value`` exactly as RFC 8785 does: no floats (ES6 number form
    differs), integers within a double's exact range, object keys in ASCII (sorted by code
    point, which is RFC 8785's UTF-16 order there). Strings escape alike in both. Loops, not
    generators: this runs for every entry the verifier rebuilds."""
    kind = type(value)
    if kind is str or kind is bool or value is None:
        return True
    if kind is int:
        return bool(-SAFE_INT <= value <= SAFE_INT)
    if kind is dict:
        for key, item in value.items():
            if type(key) is not str or not key.isascii():
                return False
            kind = type(item)
            if kind is str or kind is bool or item is None:
                continue
            if not _plain(item):
                return False
        return True
    if kind is list:
        return all(_plain(item) for item in value)
    return False


def canonical(value: Any) -> bytes:  # Any: any JSON value
    """RFC 8785 JSON: one byte string per value, whatever wrote it. The standard library's
    encoder (C) where its output is RFC 8785's (``_plain``, the usual event), else the
    ``rfc8785`` package; the unit tests hold the two to the same bytes."""
    if _plain(value):
        try:
            return _dumps(value).encode()
        except UnicodeEncodeError:  # a lone surrogate: rfc8785 says what is wrong
            pass
    try:
        return rfc8785.dumps(value)
    except rfc8785.CanonicalizationError as err:
        raise EntryError(f"event data has no canonical JSON form: {err}") from None


def subject_commitment(subject: uuid.UUID, salt: bytes) -> bytes:
    return hashlib.sha256(salt + subject.bytes).digest()


def instant(value: datetime) -> str:
    """An instant as an entry writes it: UTC, microseconds, ``Z`` (SQLite hands instants back
    without their zone, and every instant is written in UTC)."""
    utc = value if value.tzinfo is None else value.astimezone(UTC).replace(tzinfo=None)
    return f"{utc.isoformat(timespec='microseconds')}Z"  # as strftime's "%Y-%m-%dT%H:%M:%S.%fZ", faster


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
    committed = None if subject is None else subject_commitment(subject, salt or b"")
    entry = entry_bytes(
        index, tag=tag, actor=actor, instant=instant(recorded_at), committed=committed, salt=salt, data=data
    )
    return Leaf(entry, merkle.leaf_hash(entry), committed)


def entry_bytes(
    index: int, *, tag: str, actor: str, instant: str, committed: bytes | None, salt: bytes | None, data: Any
) -> bytes:
    """The published entry (RFC 8785) from its parts as the verifier reads them: the instant as
    ``instant`` writes it and the subject's commitment already made."""
    digest = hashlib.sha256((salt or b"") + canonical(data)).hexdigest()
    who = "null" if committed is None else f'"{committed.hex()}"'
    # RFC 8785 of {"v", "index", "tag", "actor", "recorded_at", "subject", "data"}: keys in
    # UTF-16 order, the two free strings through the encoder (test_entries checks it is rfc8785's)
    return (
        f'{{"actor":{_dumps(actor)},"data":"{digest}","index":{index},'
        f'"recorded_at":"{instant}","subject":{who},"tag":{_dumps(tag)},"v":{VERSION}}}'
    ).encode()
