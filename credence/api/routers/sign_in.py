"""Subjects sign in: a one-time code to their registered contact, exchanged for a session; the
signed-in subject's own notices; signing out. The logic is ``accounts.signin``'s."""

from typing import Any

from fastapi import APIRouter, BackgroundTasks, Response

from credence.accounts import codes
from credence.accounts.sessions import SUBJECT
from credence.api.deps import AccountsDep, AccountsState, ClientLimited, SubjectDep
from credence.api.schemas import (
    CodeAsked,
    ErrorResponse,
    MyNotice,
    MyNotices,
    SessionOpened,
    SubjectCodeRequest,
    SubjectSessionRequest,
)

router = APIRouter(tags=["sign-in"])

RETRY = {"Retry-After": {"description": "seconds to wait", "schema": {"type": "integer"}}}
BASE: dict[int | str, dict[str, Any]] = {
    413: {"model": ErrorResponse, "description": "The body is too large"},
    415: {"model": ErrorResponse, "description": "The body is not application/json"},
    503: {"model": ErrorResponse, "description": "The registry's store is unavailable", "headers": RETRY},
}
TOO_MANY = {
    429: {
        "model": ErrorResponse,
        "description": "Too many sign-in requests from this client address (CREDENCE_SIGN_IN_PER_MINUTE)",
        "headers": RETRY,
    }
}
ASK_ERRORS = (
    BASE | TOO_MANY | {422: {"model": ErrorResponse, "description": "A malformed ID number or name; names the field"}}
)
SIGN_IN_ERRORS = BASE | {
    422: {"model": ErrorResponse, "description": "A malformed field, or a wrong, expired or used code (field `code`)"},
    429: {
        "model": ErrorResponse,
        "description": "Too many wrong codes: locked out (field `code`); or too many sign-in requests from this "
        "client address",
        "headers": RETRY,
    },
}
SESSION_ERRORS = BASE | {
    401: {"model": ErrorResponse, "description": "No session token, or an unknown, ended or expired one"},
}
ASKED = (
    "if the account is registered with a contact, a code is on its way; it works once and lasts "
    f"{int(codes.CODE_TTL.total_seconds() // 60)} minutes"
)


def asked() -> CodeAsked:
    return CodeAsked(detail=ASKED, expires_in=int(codes.CODE_TTL.total_seconds()))


def ask(state: AccountsState, kind: str, given: str, background: BackgroundTasks) -> CodeAsked:
    """Book a code now; send it after the answer has gone (the same answer whatever the account)."""
    now = state.clock()
    pending = state.service.ask(kind, given, now=now)
    if pending is not None:
        background.add_task(state.service.deliver, pending, now=now)
    return asked()


def opened(state: AccountsState, kind: str, given: str, code: str) -> SessionOpened:
    done = state.service.sign_in(kind, given, code, now=state.clock())
    return SessionOpened(
        token=done.token,
        expires_at=done.session.expires_at,
        idle_timeout=int(state.service.policy.idle.total_seconds()),
    )


@router.post(
    "/v1/sign-in/code", status_code=202, response_model=CodeAsked, responses=ASK_ERRORS, dependencies=[ClientLimited]
)
def post_code(request: SubjectCodeRequest, state: AccountsDep, background: BackgroundTasks) -> CodeAsked:
    """Send a one-time code to the subject's registered contact. The answer is the same whether or
    not the ID number is registered or has a contact; at most one code a minute is sent."""
    return ask(state, SUBJECT, request.id_number, background)


@router.post(
    "/v1/sign-in/session", response_model=SessionOpened, responses=SIGN_IN_ERRORS, dependencies=[ClientLimited]
)
def post_session(request: SubjectSessionRequest, state: AccountsDep) -> SessionOpened:
    """Exchange the code for a session token. Five wrong codes lock the ID number out for a while."""
    return opened(state, SUBJECT, request.id_number, request.code)


@router.get("/v1/me/notices", response_model=MyNotices, responses=SESSION_ERRORS)
def get_my_notices(session: SubjectDep, state: AccountsDep) -> MyNotices:
    """The signed-in subject's own notices, newest first, with where each one's delivery stands."""
    told = state.service.notices(session)
    return MyNotices(
        notices=[
            MyNotice(
                id=str(n.id),
                kind=n.kind,
                created_at=n.created_at,
                respond_by=n.respond_by.isoformat() if n.respond_by else None,
                state=n.state,
                channels=list(n.channels),
            )
            for n in told
        ]
    )


@router.post("/v1/sign-out", status_code=204, response_class=Response, responses=SESSION_ERRORS)
def post_sign_out(session: SubjectDep, state: AccountsDep) -> Response:
    """End the subject's session: its token is refused from now on."""
    state.service.sign_out(session, now=state.clock())
    return Response(status_code=204)
