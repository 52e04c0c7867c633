"""Service providers and their API keys: issue, list, revoke (in the caller's transaction, under
the writer lock), and authenticate (what every gate request does).

A key is ``cr_<prefix>_<secret>``: ``prefix`` is 10 hex characters, public, stored in clear to
find the row; ``secret`` is 256 random bits (``secrets``). Only the SHA-256 of the whole key is
stored, and the key is shown once, when it is issued. A fast hash is enough: a slow password
hash exists to protect guessable passwords, and 256 random bits cannot be guessed, while a slow
hash on every check would cap the gate's throughput.

Each key is scoped to actions of the measure catalogue's vocabulary, has a rate (checks per
second) and an expiry, and can be revoked. Issuing and revoking write an event naming the
provider's internal id only.
"""

import hashlib
import hmac
import re
import secrets
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import Connection, Engine, func, insert, select, update

from credence import audit
from credence.audit.tags import EventTag
from credence.exc import CredenceError, FieldError, NotAuthorisedError
from credence.lists.measures import default_requests
from credence.outbox import hooks
from credence.screening.ticker import Ticker
from credence.store.db import stored_instant
from credence.store.orm import Provider

KEY = re.compile(r"cr_(?P<prefix>[0-9a-f]{10})_(?P<secret>[A-Za-z0-9_-]{43})")
DEFAULT_RATE = 100.0  # checks per second
DEFAULT_DAYS = 365
# How stale a gate process's key table may be: a revoked key is refused by every process at most
# this long (plus one query) after the revocation commits.
KEY_POLL = 0.5


class KeyRefusedError(CredenceError):
    """No key, or one that is unknown, revoked or expired (HTTP 401). The detail never says which
    of these, so a caller cannot learn whether a stolen key once existed."""

    status = 401


@dataclass(frozen=True, slots=True)
class Grant:
    """What an authenticated key may do."""

    provider: uuid.UUID
    name: str
    actions: frozenset[str]
    rate: float
    expires_at: datetime | None

    def require(self, action: str) -> None:
        """Refuse an action outside the key's scope (HTTP 403)."""
        if action not in self.actions:
            raise NotAuthorisedError(
                f"action: this key may ask about {', '.join(sorted(self.actions))}, not {action!r}"
            )


@dataclass(frozen=True, slots=True)
class Issued:
    grant: Grant
    key: str  # shown once; never stored


@dataclass(frozen=True, slots=True)
class ProviderRow:
    """A key as ``credence providers list`` shows it: never the key, only its public prefix."""

    name: str
    prefix: str
    actions: tuple[str, ...]
    rate: float
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None

    def state(self, now: datetime) -> str:
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at is not None and self.expires_at <= now:
            return "expired"
        return "active"


def _utc_or_none(value: datetime | None) -> datetime | None:
    return None if value is None else stored_instant(value)


def digest(key: str) -> str:
    return hashlib.sha256(key.encode("ascii")).hexdigest()


def _actions(actions: Iterable[str]) -> tuple[str, ...]:
    known = default_requests()
    wanted = tuple(dict.fromkeys(a.strip() for a in actions if a.strip()))
    if not wanted:
        raise FieldError("actions", f"name at least one action; expected some of {', '.join(sorted(known))}")
    for action in wanted:
        if action not in known:
            raise FieldError("actions", f"unknown action {action!r}; expected some of {', '.join(sorted(known))}")
    return wanted


def _next_seq(conn: Connection) -> int:
    return int(conn.execute(select(func.coalesce(func.max(Provider.seq), 0))).scalar_one()) + 1


def issue(
    conn: Connection,
    name: str,
    actions: Iterable[str],
    *,
    rate: float = DEFAULT_RATE,
    expires_in: timedelta | None = timedelta(days=DEFAULT_DAYS),
    actor: str,
    now: datetime,
) -> Issued:
    """A new key for provider ``name``, allowed ``actions`` at ``rate`` checks per second until
    ``now + expires_in``. A name may hold one live key at a time: revoke it first to rotate."""
    name = name.strip()
    if not name or len(name) > 100:
        raise FieldError("name", "expected a provider name of 1 to 100 characters")
    if not rate > 0 or rate > 1_000_000:
        raise FieldError("rate", f"expected checks per second above 0 and at most 1000000, got {rate}")
    scoped = _actions(actions)
    live = [row for row in rows(conn) if row.name == name and row.state(now) == "active"]
    if live:
        raise CredenceError(f"provider {name!r} already holds a live key ({live[0].prefix}); revoke it first")
    prefix, secret = secrets.token_hex(5), secrets.token_urlsafe(32)
    key = f"cr_{prefix}_{secret}"
    provider = uuid.uuid4()
    expires_at = now + expires_in if expires_in is not None else None
    conn.execute(
        insert(Provider).values(
            id=provider,
            name=name,
            key_prefix=prefix,
            key_sha256=digest(key),
            actions=list(scoped),
            rate=rate,
            created_at=now,
            expires_at=expires_at,
            revoked_at=None,
            seq=_next_seq(conn),
        )
    )
    data: dict[str, Any] = {
        "provider": str(provider),
        "actions": list(scoped),
        "rate": rate,
        "expires_at": None if expires_at is None else expires_at.isoformat(),
    }
    audit.record(conn, tag=EventTag.PROVIDER_KEY_ISSUED, subject=None, actor=actor, data=data, now=now)
    return Issued(Grant(provider, name, frozenset(scoped), rate, expires_at), key)


def rows(conn: Connection) -> list[ProviderRow]:
    """Every key ever issued, oldest first."""
    found = conn.execute(
        select(
            Provider.name,
            Provider.key_prefix,
            Provider.actions,
            Provider.rate,
            Provider.created_at,
            Provider.expires_at,
            Provider.revoked_at,
        ).order_by(Provider.created_at, Provider.name)
    )
    return [
        ProviderRow(
            r.name,
            f"cr_{r.key_prefix}_…",
            tuple(r.actions),
            r.rate,
            stored_instant(r.created_at),
            _utc_or_none(r.expires_at),
            _utc_or_none(r.revoked_at),
        )
        for r in found
    ]


def revoke(conn: Connection, name: str, *, actor: str, now: datetime) -> int:
    """Revoke every live key of provider ``name``; how many were revoked (0: none was live)."""
    live = conn.execute(select(Provider.id).where(Provider.name == name.strip(), Provider.revoked_at.is_(None)))
    ids = list(live.scalars())
    if not ids:
        return 0
    conn.execute(update(Provider).where(Provider.id.in_(ids)).values(revoked_at=now, seq=_next_seq(conn)))
    for provider in ids:
        data = {"provider": str(provider)}
        audit.record(conn, tag=EventTag.PROVIDER_KEY_REVOKED, subject=None, actor=actor, data=data, now=now)
    return len(ids)


def webhook(conn: Connection, name: str, url: str, *, key: bytes, actor: str, now: datetime) -> bytes:
    """Register where provider ``name`` is told of corrections (every key it holds or held);
    returns its signing secret, which the registry derives again for each call and never stores."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or len(url) > 500:
        raise FieldError("url", "expected http(s)://host[:port]/path, at most 500 characters")
    ids = list(conn.scalars(select(Provider.id).where(Provider.name == name.strip())))
    if not ids:
        raise FieldError("name", f"no provider {name!r}")
    hooks.register(conn, ids, url, now=now)
    data = {"providers": [str(i) for i in ids]}
    audit.record(conn, tag=EventTag.PROVIDER_WEBHOOK, subject=None, actor=actor, data=data, now=now)
    return hooks.secret(key, name.strip())


@dataclass(frozen=True, slots=True)
class _Key:
    sha256: bytes
    grant: Grant
    revoked: bool


class KeyTable:
    """Every key the registry holds, cached in this process and refreshed when it may be stale.

    Started (``start``, as the gate does), a thread reads ``max(seq)`` of ``providers`` every
    ``poll`` seconds and reloads the keys only when that number moved, so ``authenticate`` reads
    memory alone and never waits on the store on the event loop: each gate process costs the store
    one indexed read per ``poll`` seconds, and a key revoked in any process is refused by every
    process within ``poll`` seconds (plus that read) of the commit. If the store does not answer,
    the table keeps the keys it has and the thread tries again at the next poll. Not started (a
    table used once), ``authenticate`` refreshes first when ``poll`` seconds have passed.
    Expiry needs no refresh: it is compared with the request's time.
    """

    def __init__(self, engine: Engine, *, poll: float = KEY_POLL, clock: Callable[[], float] = time.monotonic) -> None:
        self.engine = engine
        self.poll = poll
        self.clock = clock
        self.version: int | None = None  # max(seq) the table was loaded at
        self._keys: dict[str, _Key] = {}
        self._checked = float("-inf")
        self._lock = threading.Lock()
        self._ticker = Ticker(lambda: self.refresh(force=True), every=poll, name="keys")

    def start(self) -> None:
        """Load the keys now, then keep them current in a background thread."""
        self.refresh(force=True)
        self._ticker.start()

    def close(self) -> None:
        self._ticker.close()

    def refresh(self, *, force: bool = False) -> None:
        """Re-read the keys if the table changed, when ``poll`` seconds have passed (or ``force``)."""
        if not force and self.clock() - self._checked < self.poll:
            return
        with self._lock:
            started = self.clock()
            if not force and started - self._checked < self.poll:
                return  # another thread refreshed while this one waited
            with self.engine.connect() as conn:
                version = int(conn.execute(select(func.coalesce(func.max(Provider.seq), 0))).scalar_one())
                if version != self.version:
                    self._keys = self._load(conn)
                    self.version = version
            # from when the read started: the table is at least that fresh
            self._checked = started

    @staticmethod
    def _load(conn: Connection) -> dict[str, _Key]:
        keys: dict[str, _Key] = {}
        columns = (Provider.id, Provider.name, Provider.actions, Provider.rate, Provider.expires_at)
        for r in conn.execute(select(*columns, Provider.key_prefix, Provider.key_sha256, Provider.revoked_at)):
            grant = Grant(r.id, r.name, frozenset(r.actions), r.rate, _utc_or_none(r.expires_at))
            keys[r.key_prefix] = _Key(bytes.fromhex(r.key_sha256), grant, r.revoked_at is not None)
        return keys

    def authenticate(self, key: str | None, *, now: datetime) -> Grant:
        """The grant of a live key, or ``KeyRefusedError``."""
        if not self._ticker.running:
            self.refresh()
        found = KEY.fullmatch(key or "")
        entry = self._keys.get(found["prefix"]) if found else None
        given = hashlib.sha256((key or "").encode("utf-8", "replace")).digest()
        # compared even for an unknown prefix, so the time taken does not say whether it exists
        matches = hmac.compare_digest(given, entry.sha256 if entry else bytes(32))
        if entry is None or not matches or entry.revoked:
            raise KeyRefusedError("expected a live API key: Authorization: Bearer cr_<prefix>_<secret>")
        expires = entry.grant.expires_at
        if expires is not None and expires <= now:
            raise KeyRefusedError("expected a live API key: Authorization: Bearer cr_<prefix>_<secret>")
        return entry.grant
