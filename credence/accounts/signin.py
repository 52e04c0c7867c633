"""Signing in, as the HTTP routes ask for it: a code asked for, a code exchanged for a session,
a session checked, a session ended. Each step runs in transactions of its own here; the routes
only parse and render.

Asking for a code does the same work for every well-formed identifier in the request (the
bookkeeping row, a fresh code) and answers the same; finding the account and its contact and
sending the code happen afterwards (``deliver``, which the route runs in the background, after
the answer has gone), so neither the answer nor its timing says whether an ID number is
registered or has a contact. The code lives only in memory between the two.
"""

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import IntegrityError

from credence import audit, logs, resolve
from credence.accounts import codes, messages, officers, sessions
from credence.accounts.codes import Checked, Issued, Keyring
from credence.accounts.messages import Senders
from credence.accounts.officers import Officer
from credence.accounts.sessions import OFFICER, SUBJECT, Opened, Policy, Session, SessionRefusedError
from credence.audit.tags import EventTag
from credence.dueprocess import contacts
from credence.model.identifiers import parse_subject
from credence.outbox import claims
from credence.outbox.claims import Told

log = logs.get_logger(__name__)
ACTOR = "credence sign-in"


@dataclass(frozen=True, slots=True)
class Pending:
    """A code asked for, waiting to be sent: the identifier and the code stay in memory."""

    kind: str
    identifier: str
    issued: Issued


@dataclass
class Accounts:
    """The sign-in service of one process."""

    engine: Engine
    keyring: Keyring
    policy: Policy
    senders: Senders

    def ask(self, kind: str, given: str, *, now: datetime) -> Pending | None:
        """Book a new code for a subject's ID number (``kind`` subject; a malformed one is a
        ``FieldError`` naming ``id_number``) or an officer's name; None when none is due (locked
        out, or one was sent under a minute ago). The caller answers the same either way."""
        identifier = _identifier(kind, given)
        issued = _retrying(
            self.engine,
            lambda conn: codes.issue(conn, self.keyring, kind=kind, identifier=identifier, now=now),
        )
        return None if issued is None else Pending(kind, identifier, issued)

    def deliver(self, pending: Pending, *, now: datetime) -> list[str]:
        """Send a booked code to the account's contact (a subject's newest contact records, an
        officer's email), if the account exists and has one; record that a code was issued (with
        the channels that took it, never the code); the channels it went by."""
        subject: uuid.UUID | None = None
        officer: Officer | None = None
        addresses: dict[str, str] = {}
        with self.engine.connect() as conn:
            if pending.kind == SUBJECT:
                subject = resolve.find(conn, pending.identifier)
                if subject is not None:
                    reach = contacts.reach(conn, [subject], known_at=now).get(subject, contacts.Reach())
                    addresses = {name: a.value for name, a in reach.channels().items()}
            else:
                found = officers.live(conn, pending.identifier)
                if found is not None:
                    officer, email = found
                    addresses = {"email": email}
        taken = messages.send(self.senders, pending.issued.message, pending.issued.code, addresses, now=now)
        data: dict[str, Any] = {"challenge": str(pending.issued.challenge), "kind": pending.kind, "channels": taken}
        if officer is not None:
            data["officer"] = str(officer.id)
        with self.engine.begin() as conn:
            audit.record(conn, tag=EventTag.SIGN_IN_CODE_ISSUED, subject=subject, actor=ACTOR, data=data, now=now)
        log.info("sign_in.code_issued", challenge=str(pending.issued.challenge), kind=pending.kind, channels=taken)
        return taken

    def sign_in(self, kind: str, given: str, code: str, *, now: datetime) -> Opened:
        """Exchange a code for a session, or raise what refused it (``CodeRefusedError``,
        ``LockedOutError``) after its attempt is written down."""
        identifier = _identifier(kind, given)
        with self.engine.begin() as conn:
            subject: uuid.UUID | None = None
            officer: Officer | None = None
            if kind == SUBJECT:
                subject = resolve.find(conn, identifier)
            else:
                found = officers.live(conn, identifier)
                officer = found[0] if found else None
            known = subject is not None or officer is not None
            checked = codes.check(
                conn,
                self.keyring,
                kind=kind,
                identifier=identifier,
                code=code,
                known=known,
                now=now,
                lockout=self.policy.lockout,
            )
            opened = None
            if checked.ok:
                opened = sessions.open_session(
                    conn,
                    kind=kind,
                    subject=subject,
                    officer=officer.id if officer else None,
                    now=now,
                    policy=self.policy,
                )
            _record_attempt(conn, checked, kind=kind, subject=subject, officer=officer, opened=opened, now=now)
        if opened is None:
            assert checked.error is not None  # noqa: S101 - a refused check always says why
            raise checked.error
        return opened

    def subject_session(self, token: str | None, *, now: datetime) -> Session:
        with self.engine.begin() as conn:
            return sessions.authenticate(conn, token, kind=SUBJECT, now=now, policy=self.policy)

    def officer_session(self, token: str | None, *, now: datetime) -> tuple[Session, Officer]:
        with self.engine.begin() as conn:
            session = sessions.authenticate(conn, token, kind=OFFICER, now=now, policy=self.policy)
            officer = officers.by_id(conn, session.officer) if session.officer else None
        if officer is None:  # revoked since the session began
            raise SessionRefusedError
        return session, officer

    def sign_out(self, session: Session, *, now: datetime) -> None:
        with self.engine.begin() as conn:
            sessions.end(conn, session.id, now=now)
            data: dict[str, Any] = {"session": str(session.id), "kind": session.kind, "reason": "signed out"}
            if session.officer:
                data["officer"] = str(session.officer)
            audit.record(conn, tag=EventTag.SESSION_ENDED, subject=session.subject, actor=ACTOR, data=data, now=now)

    def notices(self, session: Session, *, limit: int = 100) -> list[Told]:
        """The signed-in subject's own notices, newest first."""
        if session.subject is None:
            raise SessionRefusedError
        with self.engine.connect() as conn:
            return claims.told(conn, session.subject, limit=limit)


def _identifier(kind: str, given: str) -> str:
    if kind == SUBJECT:
        return parse_subject(given, field="id_number").number
    return officers.check_name(given)


def _retrying(engine: Engine, step: Callable[[Connection], Issued | None]) -> Issued | None:
    """``step`` in a transaction, once more if a concurrent first request for the same account
    inserted its row first (the row then exists, and the second try updates it)."""
    try:
        with engine.begin() as conn:
            return step(conn)
    except IntegrityError:
        with engine.begin() as conn:
            return step(conn)


def _record_attempt(
    conn: Connection,
    checked: Checked,
    *,
    kind: str,
    subject: uuid.UUID | None,
    officer: Officer | None,
    opened: Opened | None,
    now: datetime,
) -> None:
    if checked.challenge is None:
        return  # no code was ever asked for: nothing was guessed at
    data: dict[str, Any] = {"challenge": str(checked.challenge), "kind": kind}
    if opened is not None:
        data["session"] = str(opened.session.id)
        if officer is not None:
            data["officer"] = str(officer.id)
        tag = EventTag.SIGN_IN_SUCCEEDED
    else:
        data |= {"reason": checked.reason, "failures": checked.failures}
        if checked.locked_until is not None:
            data["until"] = checked.locked_until.isoformat()
        tag = EventTag.SIGN_IN_LOCKED if checked.reason == "locking" else EventTag.SIGN_IN_FAILED
    # a failure names no subject: it may be someone else's guess at their number
    audit.record(conn, tag=tag, subject=subject if opened else None, actor=ACTOR, data=data, now=now)
    log.info(str(tag), challenge=str(checked.challenge), kind=kind)
