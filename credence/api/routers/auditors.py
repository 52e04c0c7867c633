"""What the registry's auditors read over HTTP (issue 10, part 5's auditor role): the alerted
events, newest first. A signed-in officer account whose role may read the event log (an
auditor, ``model.roles``) is answered; any other officer is refused with 403 naming the role."""

from typing import Annotated

from fastapi import APIRouter, Query

from credence.api.deps import AccountsDep, OfficerDep
from credence.api.routers.sign_in import BASE, SESSION_ERRORS
from credence.api.schemas import Alerts, AlertView, ErrorResponse
from credence.dueprocess import alerts
from credence.model.roles import Permission, require

router = APIRouter(tags=["auditors"])

ERRORS = SESSION_ERRORS | BASE | {403: {"model": ErrorResponse, "description": "Not an auditor's session"}}


@router.get("/v1/audit/alerts", response_model=Alerts, responses=ERRORS)
def get_alerts(officer: OfficerDep, state: AccountsDep, limit: Annotated[int, Query(ge=1, le=500)] = 100) -> Alerts:
    """The newest tripped circuit breakers and refused manual actions, as auditors are mailed
    them: counts and internal ids only."""
    require(officer.role, Permission.READ_EVENT_LOG)
    with state.service.engine.connect() as conn:
        found = alerts.recent(conn, limit=limit)
    shown = [
        AlertView(
            seq=a.seq,
            tag="breaker.tripped" if a.tag == "breaker.tripped" else "manual.denied",
            recorded_at=a.recorded_at,
            data={k: v for k, v in a.data.items() if isinstance(v, str | int | bool) or v is None},
        )
        for a in found
    ]
    return Alerts(alerts=shown)
