"""Agencies' public keys for signed submissions, registered and revoked by an administrator
(``credence agencies key add|list|revoke``), each in the caller's transaction with its event.

A source may hold several live keys (a new one registered before the old is revoked, so a key
can be rotated without a gap); a key belongs to one source, and a revoked key never comes back:
the same key registered again is refused, so a stolen key stays dead.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import Connection, insert, select, update

from credence import audit
from credence.audit.tags import EventTag
from credence.exc import CredenceError, FieldError
from credence.ingest import signatures
from credence.store.db import stored_instant
from credence.store.orm import AgencyKey, Source


@dataclass(frozen=True, slots=True)
class KeyRow:
    id: str
    source: str
    public: bytes
    added_at: datetime
    revoked_at: datetime | None

    @property
    def state(self) -> str:
        return "revoked" if self.revoked_at else "active"


def add(conn: Connection, source: str, public: Ed25519PublicKey, *, actor: str, now: datetime) -> KeyRow:
    """Register ``public`` as a key of ``source`` (a source id of ``catalogue/sources.yaml``)."""
    sources = sorted(conn.scalars(select(Source.id)))
    if source not in sources:
        raise FieldError("source", f"unknown source {source!r}; expected one of {', '.join(sources)}")
    kid = signatures.key_id(public)
    known = find(conn, kid)
    if known is not None:
        state = "revoked: a revoked key is never registered again" if known.revoked_at else "active"
        raise CredenceError(f"key {kid} is already registered for source {known.source} ({state})")
    raw = signatures.raw_public(public)
    conn.execute(
        insert(AgencyKey).values(
            id=kid, source_id=source, public_key=raw, added_at=now, added_by=actor[:100], revoked_at=None
        )
    )
    data = {"key": kid, "source": source}
    audit.record(conn, tag=EventTag.AGENCY_KEY_ISSUED, subject=None, actor=actor, data=data, now=now)
    return KeyRow(kid, source, raw, now, None)


def find(conn: Connection, kid: str) -> KeyRow | None:
    """The key of id ``kid``, live or revoked, or None."""
    row = conn.execute(
        select(AgencyKey.id, AgencyKey.source_id, AgencyKey.public_key, AgencyKey.added_at, AgencyKey.revoked_at).where(
            AgencyKey.id == kid
        )
    ).one_or_none()
    return None if row is None else _row(row)


def rows(conn: Connection, *, source: str | None = None) -> list[KeyRow]:
    """Every key registered (of ``source`` only, if given), oldest first."""
    query = select(AgencyKey.id, AgencyKey.source_id, AgencyKey.public_key, AgencyKey.added_at, AgencyKey.revoked_at)
    if source:
        query = query.where(AgencyKey.source_id == source)
    return [_row(r) for r in conn.execute(query.order_by(AgencyKey.added_at, AgencyKey.id))]


def revoke(conn: Connection, kid: str, *, actor: str, now: datetime) -> KeyRow:
    """Revoke the live key ``kid``: every submission it signs is refused from now on."""
    known = find(conn, kid.strip().lower())
    if known is None:
        raise CredenceError(f"no agency key {kid!r}; `credence agencies key list` shows them")
    if known.revoked_at is not None:
        raise CredenceError(f"key {known.id} of source {known.source} is already revoked")
    conn.execute(update(AgencyKey).where(AgencyKey.id == known.id).values(revoked_at=now, revoked_by=actor[:100]))
    data = {"key": known.id, "source": known.source}
    audit.record(conn, tag=EventTag.AGENCY_KEY_REVOKED, subject=None, actor=actor, data=data, now=now)
    return KeyRow(known.id, known.source, known.public, known.added_at, now)


def _row(row: Any) -> KeyRow:  # Any: a Row of the select above
    revoked = row.revoked_at
    return KeyRow(
        id=row.id,
        source=row.source_id,
        public=bytes(row.public_key),
        added_at=stored_instant(row.added_at),
        revoked_at=stored_instant(revoked) if revoked is not None else None,
    )
