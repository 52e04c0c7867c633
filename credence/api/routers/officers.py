"""Agency officers sign in (the same one-time-code flow, to their registered email) and see who
they are signed in as; routes that act for an agency depend on ``deps.OfficerDep`` and ask
``accounts.officers.require_agency``."""

from typing import Literal

from fastapi import APIRouter, BackgroundTasks, Response

from credence.accounts.sessions import OFFICER
from credence.api.deps import AccountsDep, ClientLimited, OfficerDep, OfficerSessionDep
from credence.api.routers.sign_in import ASK_ERRORS, SESSION_ERRORS, SIGN_IN_ERRORS, ask, opened
from credence.api.schemas import CodeAsked, OfficerCodeRequest, OfficerMe, OfficerSessionRequest, SessionOpened
from credence.model.roles import Role

router = APIRouter(tags=["officers"])


@router.post(
    "/v1/officers/sign-in/code",
    status_code=202,
    response_model=CodeAsked,
    responses=ASK_ERRORS,
    dependencies=[ClientLimited],
)
def post_code(request: OfficerCodeRequest, state: AccountsDep, background: BackgroundTasks) -> CodeAsked:
    """Send a one-time code to the officer's registered email; the same answer for any name."""
    return ask(state, OFFICER, request.name, background)


@router.post(
    "/v1/officers/sign-in/session", response_model=SessionOpened, responses=SIGN_IN_ERRORS, dependencies=[ClientLimited]
)
def post_session(request: OfficerSessionRequest, state: AccountsDep) -> SessionOpened:
    """Exchange the code for an officer's session token."""
    return opened(state, OFFICER, request.name, request.code)


@router.get("/v1/officers/me", response_model=OfficerMe, responses=SESSION_ERRORS)
def get_me(officer: OfficerDep) -> OfficerMe:
    """The signed-in officer and the agency they act for (and only for)."""
    roles: dict[Role, Literal["officer", "second_officer", "auditor"]] = {
        Role.SECOND_OFFICER: "second_officer",
        Role.AUDITOR: "auditor",
    }
    return OfficerMe(name=officer.name, agency=officer.agency, role=roles.get(officer.role, "officer"))


@router.post("/v1/officers/sign-out", status_code=204, response_class=Response, responses=SESSION_ERRORS)
def post_sign_out(signed_in: OfficerSessionDep, state: AccountsDep) -> Response:
    """End the officer's session."""
    state.service.sign_out(signed_in[0], now=state.clock())
    return Response(status_code=204)
