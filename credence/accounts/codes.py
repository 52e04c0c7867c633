"""One-time codes: issued, checked, locked out.

Every account (a subject's normalised ID number, an officer's name) has one bookkeeping row in
``sign_in_challenges``, keyed by ``HMAC(key, kind|identifier)``, whether or not the registry holds
the account: an unregistered ID number gets a code (sent nowhere), counts its wrong answers and is
locked out exactly as a registered one is, so nothing a caller sees, nor the table's shape, tells
the two apart.

A code is 6 digits from ``secrets``. Only ``HMAC(key, challenge id|code)`` is stored: with a plain
or salted hash, anyone who can read the table could try the million codes offline in a second;
with the key (from the environment, not the store) they cannot, and online the attempt limit
bounds them. A code lasts ``CODE_TTL`` and works once. Wrong answers count across codes until a
success or a lock-out (asking for a new code gives no new attempts); the ``ATTEMPTS``-th wrong one
locks the account for the policy's lock-out, during which no code is sent and none is accepted,
the right one included. A new code is sent at most once per ``RESEND`` (an earlier one stands),
so the endpoint cannot be used to flood someone's mailbox.
"""

import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Row, insert, select, update

from credence.exc import CredenceError, FieldError
from credence.store.db import stored_instant
from credence.store.orm import SignInChallenge

CODE_TTL = timedelta(minutes=10)
ATTEMPTS = 5
RESEND = timedelta(seconds=60)
DIGITS = 6
_NO_CODE = "no live code for this account: ask for a new one (a code works once and lasts 10 minutes)"


class CodeRefusedError(FieldError):
    """A wrong, expired, used or never-sent code (HTTP 422, field ``code``)."""

    def __init__(self, reason: str) -> None:
        super().__init__("code", reason)


class LockedOutError(CredenceError):
    """Too many wrong codes: the account is locked until ``until`` (HTTP 429, field ``code``)."""

    status = 429
    field = "code"

    def __init__(self, until: datetime, now: datetime) -> None:
        super().__init__(f"code: too many attempts, try again after {until:%Y-%m-%dT%H:%M:%SZ}")
        self.until = until
        self.wait = max(1.0, (until - now).total_seconds())


class Keyring:
    """The HMAC key: an account's row key and a code's stored form."""

    def __init__(self, secret: bytes) -> None:
        if len(secret) < 16:
            raise ValueError("CREDENCE_SIGN_IN_KEY: expected at least 16 bytes")
        self._secret = secret

    def _mac(self, text: str) -> str:
        return hmac.new(self._secret, text.encode("utf-8"), hashlib.sha256).hexdigest()

    def account(self, kind: str, identifier: str) -> str:
        return self._mac(f"account|{kind}|{identifier}")

    def code(self, challenge: uuid.UUID, code: str) -> str:
        return self._mac(f"code|{challenge}|{code}")


@dataclass(frozen=True, slots=True)
class Issued:
    challenge: uuid.UUID
    code: str  # in memory only, on its way to the contact: never stored, never logged
    message: uuid.UUID = field(default_factory=uuid.uuid4)  # the mail's Message-ID: new for every code


@dataclass(frozen=True, slots=True)
class Checked:
    """What a code attempt came to; the caller commits the bookkeeping, then raises ``error``."""

    challenge: uuid.UUID | None
    ok: bool
    error: CredenceError | None = None
    failures: int = 0
    locked_until: datetime | None = None
    reason: str = ""  # wrong | expired | no_code | locked (during a lock-out) | locking (the last attempt allowed)


def _row(conn: Connection, account: str) -> Row[Any] | None:
    query = select(SignInChallenge.__table__).where(SignInChallenge.account == account).with_for_update()
    return conn.execute(query).first()


def _utc(value: datetime | None) -> datetime | None:
    return None if value is None else stored_instant(value)


def issue(conn: Connection, keyring: Keyring, *, kind: str, identifier: str, now: datetime) -> Issued | None:
    """A new code for the account, or None while it is locked out or its last code is under
    ``RESEND`` old (the caller answers the same either way)."""
    account = keyring.account(kind, identifier)
    code = f"{secrets.randbelow(10**DIGITS):0{DIGITS}d}"
    row = _row(conn, account)
    if row is None:
        challenge = uuid.uuid4()
        conn.execute(
            insert(SignInChallenge).values(
                id=challenge,
                account=account,
                kind=kind,
                code_hmac=keyring.code(challenge, code),
                issued_at=now,
                expires_at=now + CODE_TTL,
                failures=0,
                locked_until=None,
            )
        )
        return Issued(challenge, code)
    failures = row.failures
    locked = _utc(row.locked_until)
    if locked is not None and locked > now:
        return None
    if locked is not None:  # the lock-out is over: a clean slate
        failures = 0
    issued = _utc(row.issued_at)
    if row.code_hmac is not None and issued is not None and now - issued < RESEND and locked is None:
        return None
    conn.execute(
        update(SignInChallenge)
        .where(SignInChallenge.id == row.id)
        .values(
            code_hmac=keyring.code(row.id, code),
            issued_at=now,
            expires_at=now + CODE_TTL,
            failures=failures,
            locked_until=None,
        )
    )
    return Issued(row.id, code)


def check(
    conn: Connection,
    keyring: Keyring,
    *,
    kind: str,
    identifier: str,
    code: str,
    known: bool,
    now: datetime,
    lockout: timedelta,
) -> Checked:
    """Check ``code`` for the account and write down what came of it. ``known`` says whether the
    account exists: for one that does not, even the right code (which was sent nowhere) is wrong.
    Wrong, expired and locked-out answers read the same for known and unknown accounts."""
    if len(code) != DIGITS or not code.isascii() or not code.isdigit():
        return Checked(None, ok=False, error=CodeRefusedError(f"expected the {DIGITS} digits of the code sent"))
    row = _row(conn, keyring.account(kind, identifier))
    if row is None:
        return Checked(None, ok=False, error=CodeRefusedError(_NO_CODE))
    locked = _utc(row.locked_until)
    if locked is not None and locked > now:
        return Checked(
            row.id,
            ok=False,
            error=LockedOutError(locked, now),
            failures=row.failures,
            locked_until=locked,
            reason="locked",
        )
    values: dict[str, object] = {}
    failures = row.failures
    if locked is not None:
        failures = 0
        values |= {"failures": 0, "locked_until": None}
    expires = _utc(row.expires_at)
    if row.code_hmac is None or expires is None:
        _save(conn, row.id, values)
        return Checked(row.id, ok=False, error=CodeRefusedError(_NO_CODE), failures=failures, reason="no_code")
    if expires <= now:
        _save(conn, row.id, values | {"code_hmac": None})
        minutes = int(CODE_TTL.total_seconds() // 60)
        error = CodeRefusedError(f"the code has expired (a code lasts {minutes} minutes); ask for a new one")
        return Checked(row.id, ok=False, error=error, failures=failures, reason="expired")
    right = hmac.compare_digest(keyring.code(row.id, code), row.code_hmac)
    # each write below is conditional or relative, so two attempts at once (SQLite reads outside
    # the writing transaction) can neither both use one code nor both count as one failure
    if right and known:
        used = conn.execute(
            update(SignInChallenge)
            .where(SignInChallenge.id == row.id, SignInChallenge.code_hmac == row.code_hmac)
            .values(code_hmac=None, failures=0, locked_until=None)
        )
        if used.rowcount == 1:
            return Checked(row.id, ok=True)
        return Checked(row.id, ok=False, error=CodeRefusedError(_NO_CODE), failures=failures, reason="no_code")
    counted = SignInChallenge.failures + 1 if locked is None else 1
    failures = conn.execute(
        update(SignInChallenge)
        .where(SignInChallenge.id == row.id)
        .values(failures=counted, locked_until=None)
        .returning(SignInChallenge.failures)
    ).scalar_one()
    if failures >= ATTEMPTS:
        until = now + lockout
        _save(conn, row.id, {"code_hmac": None, "locked_until": until})
        locking = LockedOutError(until, now)
        return Checked(row.id, ok=False, error=locking, failures=failures, locked_until=until, reason="locking")
    left = ATTEMPTS - failures
    return Checked(
        row.id,
        ok=False,
        error=CodeRefusedError(f"wrong code; {left} attempt{'s' if left > 1 else ''} left before a lock-out"),
        failures=failures,
        reason="wrong",
    )


def _save(conn: Connection, challenge: uuid.UUID, values: dict[str, object]) -> None:
    if values:
        conn.execute(update(SignInChallenge).where(SignInChallenge.id == challenge).values(**values))
