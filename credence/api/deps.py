"""What a route needs, as dependencies: the gate's state and the caller's grant; the sign-in
service and the signed-in subject or officer."""

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import Engine

from credence.accounts.officers import Officer
from credence.accounts.sessions import Session
from credence.accounts.signin import Accounts
from credence.api.errors import RateLimitedError
from credence.api.metrics import Metrics
from credence.api.ratelimit import Buckets, ClientAllowance
from credence.screening.index import Follower, Index
from credence.screening.inquiries import InquiryLog
from credence.screening.providers import Grant, KeyTable
from credence.settings import Settings


@dataclass
class Gate:
    """One process's state: the store, the key table, the buckets, the index and what keeps it
    current, the inquiry log, the metrics."""

    settings: Settings
    engine: Engine
    keys: KeyTable
    buckets: Buckets
    lookup: Index
    follower: Follower
    inquiries: InquiryLog
    metrics: Metrics


async def gate(request: Request) -> Gate:
    found: Gate = request.app.state.gate
    return found


GateDep = Annotated[Gate, Depends(gate)]

bearer = HTTPBearer(
    auto_error=False,
    scheme_name="provider key",
    description="The provider's API key, `Authorization: Bearer cr_<prefix>_<secret>` (`credence providers add`).",
)


async def authenticated(
    state: GateDep, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
) -> Grant:
    """The caller's grant: a live key (401 otherwise) within its rate (429 otherwise).

    Async, like the check route: everything here is in memory (the key table is kept current by
    its own thread); a sync dependency would cost a hop to the thread pool on every request, more
    than the check itself."""
    return admit(state, credentials.credentials if credentials else None)


def admit(state: Gate, key: str | None) -> Grant:
    """The grant of ``key`` (``KeyRefusedError`` before any of its rate is spent), then one check
    of its rate (``RateLimitedError``); the route's dependency and ``api.fast`` both admit here."""
    grant = state.keys.authenticate(key, now=datetime.now(UTC))
    wait = state.buckets.take(grant.provider, grant.rate, time.monotonic())
    if wait > 0:
        raise RateLimitedError(wait)
    return grant


GrantDep = Annotated[Grant, Depends(authenticated)]


@dataclass
class AccountsState:
    """The sign-in service, the clock its routes read (a test's, or the wall's), and each client
    address's allowance of sign-in requests."""

    service: Accounts
    clock: Callable[[], datetime]
    clients: ClientAllowance


async def accounts(request: Request) -> AccountsState:
    found: AccountsState = request.app.state.accounts
    return found


AccountsDep = Annotated[AccountsState, Depends(accounts)]


def client_limited(request: Request, state: AccountsDep) -> None:
    """One sign-in request of the client address's allowance (``RateLimitedError`` past it): a
    client asking codes for many ID numbers, or guessing across accounts, is slowed whatever the
    accounts' own lock-outs. The address is the peer's as the server sees it (behind a proxy,
    serve with its forwarded-for headers trusted)."""
    wait = state.clients.take(request.client.host if request.client else "unknown")
    if wait > 0:
        raise RateLimitedError(wait, "too many sign-in requests from this address; retry after the Retry-After seconds")


ClientLimited = Depends(client_limited)

session_bearer = HTTPBearer(
    auto_error=False,
    scheme_name="session token",
    description="A subject's or officer's session, `Authorization: Bearer cs_<token>` (`POST /v1/sign-in/session`).",
)
SessionCredentials = Annotated[HTTPAuthorizationCredentials | None, Depends(session_bearer)]


def signed_in_subject(state: AccountsDep, credentials: SessionCredentials) -> Session:
    """The signed-in subject's session (401 otherwise)."""
    return state.service.subject_session(credentials.credentials if credentials else None, now=state.clock())


def signed_in_officer(state: AccountsDep, credentials: SessionCredentials) -> tuple[Session, Officer]:
    """The signed-in officer, whose account is live (401 otherwise). A route acting for an agency
    then asks ``require_agency(officer, agency)`` (403 naming the agency)."""
    return state.service.officer_session(credentials.credentials if credentials else None, now=state.clock())


SubjectDep = Annotated[Session, Depends(signed_in_subject)]
OfficerSessionDep = Annotated[tuple[Session, Officer], Depends(signed_in_officer)]


def officer(signed_in: OfficerSessionDep) -> Officer:
    return signed_in[1]


OfficerDep = Annotated[Officer, Depends(officer)]
