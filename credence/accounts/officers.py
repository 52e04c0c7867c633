"""Agency officers: accounts that act for one agency (a source of ``catalogue/sources.yaml``).

``credence officers add|list|revoke`` manage them (in the caller's transaction, with an event
naming the officer's internal id and agency, never the address); they sign in with a one-time
code sent to their registered email (``accounts.signin``). ``require_agency`` is what a route
acting for an agency (a dispute's decision) asks before it acts.
"""

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, insert, select, update

from credence import audit
from credence.accounts import sessions
from credence.audit.tags import EventTag
from credence.exc import CredenceError, FieldError, NotAuthorisedError
from credence.model.contacts import normal_email
from credence.model.roles import Role
from credence.store.db import stored_instant
from credence.store.orm import Officer as OfficerTable
from credence.store.orm import Source


class AgencyRefusedError(NotAuthorisedError):
    """An officer acting for an agency not their own (HTTP 403, field ``agency``)."""

    field = "agency"


@dataclass(frozen=True, slots=True)
class Officer:
    id: uuid.UUID
    name: str
    agency: str
    role: Role = Role.OFFICER


@dataclass(frozen=True, slots=True)
class OfficerRow:
    name: str
    agency: str
    email: str
    created_at: datetime
    revoked_at: datetime | None
    role: str = Role.OFFICER.value

    @property
    def state(self) -> str:
        return "revoked" if self.revoked_at else "active"


def require_agency(officer: Officer, agency: str) -> None:
    """Refuse (``AgencyRefusedError``, naming both agencies) an officer acting for ``agency``
    when it is not their own."""
    if officer.agency != agency:
        raise AgencyRefusedError(f"agency: officer {officer.name!r} acts for {officer.agency!r}, not {agency!r}")


def check_name(name: str) -> str:
    name = name.strip()
    if not name or len(name) > 100 or any(c.isspace() for c in name):
        raise FieldError("name", "expected an officer name of 1 to 100 characters without spaces")
    return name


OFFICER_ROLES = (Role.OFFICER, Role.SECOND_OFFICER, Role.AUDITOR)
# auditors work for the registry itself, whose own records come from its due process, never by hand
REGISTRY = "registry"


def add(
    conn: Connection,
    name: str,
    *,
    agency: str,
    email: str,
    actor: str,
    now: datetime,
    role: Role = Role.OFFICER,
) -> Officer:
    """A new officer of ``agency`` in ``role`` (an officer, who may request manual actions, a
    second officer, who may approve them, or an auditor of the registry, who is told of its
    alerts); a name may hold one live account at a time."""
    name = check_name(name)
    if role not in OFFICER_ROLES:
        expected = " or ".join(r.value for r in OFFICER_ROLES)
        raise FieldError("role", f"expected {expected}, got {role.value!r}")
    if (role is Role.AUDITOR) != (agency == REGISTRY):
        wanted = "an auditor acts for the registry (--agency registry)"
        raise FieldError("agency", f"{wanted}, and only an auditor does; got {agency!r} for a {role.value}")
    agencies = sorted(conn.scalars(select(Source.id)))
    if agency not in agencies:
        raise FieldError("agency", f"unknown agency {agency!r}; expected one of {', '.join(agencies)}")
    address = normal_email(email.strip(), field="email")
    if live(conn, name) is not None:
        raise CredenceError(f"officer {name!r} already has a live account; revoke it first")
    officer = Officer(uuid.uuid4(), name, agency, role)
    conn.execute(
        insert(OfficerTable).values(
            id=officer.id, name=name, agency=agency, email=address, created_at=now, revoked_at=None, role=role.value
        )
    )
    data = {"officer": str(officer.id), "agency": agency, "role": role.value}
    audit.record(conn, tag=EventTag.OFFICER_ADDED, subject=None, actor=actor, data=data, now=now)
    return officer


def rows(conn: Connection) -> list[OfficerRow]:
    """Every officer account, oldest first."""
    found = conn.execute(
        select(
            OfficerTable.name,
            OfficerTable.agency,
            OfficerTable.email,
            OfficerTable.created_at,
            OfficerTable.revoked_at,
            OfficerTable.role,
        ).order_by(OfficerTable.created_at, OfficerTable.name)
    )
    return [
        OfficerRow(
            r.name,
            r.agency,
            r.email,
            stored_instant(r.created_at),
            r.revoked_at and stored_instant(r.revoked_at),
            r.role,
        )
        for r in found
    ]


def revoke(conn: Connection, name: str, *, actor: str, now: datetime) -> int:
    """Revoke the officer's live account and end its sessions; how many were revoked."""
    ids = list(
        conn.scalars(
            select(OfficerTable.id).where(OfficerTable.name == name.strip(), OfficerTable.revoked_at.is_(None))
        )
    )
    if not ids:
        return 0
    conn.execute(update(OfficerTable).where(OfficerTable.id.in_(ids)).values(revoked_at=now))
    for officer in ids:
        ended = sessions.end_for_officer(conn, officer, now=now)
        data = {"officer": str(officer), "sessions_ended": ended}
        audit.record(conn, tag=EventTag.OFFICER_REVOKED, subject=None, actor=actor, data=data, now=now)
    return len(ids)


def live(conn: Connection, name: str) -> tuple[Officer, str] | None:
    """The live officer called ``name`` and their email, or None."""
    row = conn.execute(
        select(OfficerTable.id, OfficerTable.name, OfficerTable.agency, OfficerTable.role, OfficerTable.email).where(
            OfficerTable.name == name.strip(), OfficerTable.revoked_at.is_(None)
        )
    ).first()
    return None if row is None else (Officer(row.id, row.name, row.agency, Role(row.role)), row.email)


def by_id(conn: Connection, officer: uuid.UUID) -> Officer | None:
    """The officer of an internal id, if their account is live."""
    row = conn.execute(
        select(OfficerTable.id, OfficerTable.name, OfficerTable.agency, OfficerTable.role).where(
            OfficerTable.id == officer, OfficerTable.revoked_at.is_(None)
        )
    ).first()
    return None if row is None else Officer(row.id, row.name, row.agency, Role(row.role))
