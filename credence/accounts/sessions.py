"""Sessions: what a code is exchanged for, sent as ``Authorization: Bearer cs_<token>``.

A token is 256 random bits (``secrets``); only its SHA-256 is stored, as for provider keys: a
random token cannot be guessed, so a fast hash is enough and the lookup by hash leaks nothing.
A session ends when its holder signs out, after ``idle`` without a request, after ``max_age``
however active, and (for an officer) when the officer is revoked. Its last request is written
at most once a ``TOUCH``, so the idle limit holds to within that.
"""

import hashlib
import re
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, insert, select, update

from credence.exc import CredenceError
from credence.store.db import stored_instant
from credence.store.orm import AccountSession

TOKEN = re.compile(r"cs_[A-Za-z0-9_-]{43}")
TOUCH = timedelta(seconds=60)
SUBJECT, OFFICER = "subject", "officer"


class SessionRefusedError(CredenceError):
    """No session token, or one that is unknown, ended or expired (HTTP 401); never says which."""

    status = 401

    def __init__(self) -> None:
        super().__init__("expected a live session token: Authorization: Bearer cs_<token> (sign in first)")


@dataclass(frozen=True, slots=True)
class Policy:
    lockout: timedelta = timedelta(minutes=15)
    idle: timedelta = timedelta(minutes=30)
    max_age: timedelta = timedelta(hours=12)


@dataclass(frozen=True, slots=True)
class Session:
    id: uuid.UUID
    kind: str
    subject: uuid.UUID | None
    officer: uuid.UUID | None
    expires_at: datetime  # the latest it can live


@dataclass(frozen=True, slots=True)
class Opened:
    session: Session
    token: str  # given once to its holder; never stored


def digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


def open_session(
    conn: Connection,
    *,
    kind: str,
    subject: uuid.UUID | None = None,
    officer: uuid.UUID | None = None,
    now: datetime,
    policy: Policy,
) -> Opened:
    token = f"cs_{secrets.token_urlsafe(32)}"
    session = Session(uuid.uuid4(), kind, subject, officer, now + policy.max_age)
    conn.execute(
        insert(AccountSession).values(
            token_sha256=digest(token),
            id=session.id,
            kind=kind,
            subject_id=subject,
            officer_id=officer,
            created_at=now,
            last_seen_at=now,
            expires_at=session.expires_at,
            ended_at=None,
        )
    )
    return Opened(session, token)


def authenticate(conn: Connection, token: str | None, *, kind: str, now: datetime, policy: Policy) -> Session:
    """The live session of ``token`` of this ``kind`` (a subject's token is no officer's), its last
    request moved to ``now``; ``SessionRefusedError`` otherwise."""
    if not token or not TOKEN.fullmatch(token):
        raise SessionRefusedError
    row = conn.execute(select(AccountSession.__table__).where(AccountSession.token_sha256 == digest(token))).first()
    if row is None or row.kind != kind or row.ended_at is not None:
        raise SessionRefusedError
    expires, seen = stored_instant(row.expires_at), stored_instant(row.last_seen_at)
    if now >= expires or now >= seen + policy.idle:
        raise SessionRefusedError
    if now - seen >= TOUCH:
        conn.execute(update(AccountSession).where(AccountSession.id == row.id).values(last_seen_at=now))
    return Session(row.id, row.kind, row.subject_id, row.officer_id, expires)


def end(conn: Connection, session: uuid.UUID, *, now: datetime) -> None:
    conn.execute(
        update(AccountSession)
        .where(AccountSession.id == session, AccountSession.ended_at.is_(None))
        .values(ended_at=now)
    )


def end_for_officer(conn: Connection, officer: uuid.UUID, *, now: datetime) -> int:
    done = conn.execute(
        update(AccountSession)
        .where(AccountSession.officer_id == officer, AccountSession.ended_at.is_(None))
        .values(ended_at=now)
    )
    return int(done.rowcount or 0)
