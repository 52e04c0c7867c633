"""What the registry's auditors read over HTTP (issue 10, part 5's auditor role): the alerted
events, newest first, and the gate's inquiry log. A signed-in officer account whose role may read
them (an auditor, ``model.roles``) is answered; any other officer is refused with 403 naming the
role."""

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query

from credence.api.deps import AccountsDep, OfficerDep
from credence.api.routers.sign_in import BASE, SESSION_ERRORS
from credence.api.schemas import (
    NAIVE_TIME,
    Alerts,
    AlertView,
    ErrorResponse,
    InquiryLogRead,
    LoggedInquiry,
    ProviderTally,
)
from credence.dueprocess import alerts
from credence.exc import FieldError
from credence.model.roles import Permission, require
from credence.model.time import legal_instant
from credence.screening import inquiries

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


@router.get("/v1/audit/inquiries", response_model=InquiryLogRead, responses=ERRORS)
def get_inquiries(
    officer: OfficerDep,
    state: AccountsDep,
    provider: Annotated[str | None, Query(max_length=200, description="one provider's inquiries")] = None,
    action: Annotated[str | None, Query(max_length=64)] = None,
    since: Annotated[datetime | None, Query(description=f"asked at or after. {NAIVE_TIME}")] = None,
    until: Annotated[datetime | None, Query(description=f"asked before. {NAIVE_TIME}")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> InquiryLogRead:
    """The gate's inquiry log, newest first: who asked, for what action, the answer and its
    reference, never about whom; and each provider's inquiries, distinct subjects and
    restricted answers over the window (a provider asking about far more people than it serves
    is probing the registry)."""
    require(officer.role, Permission.READ_INQUIRY_LOG)
    window = {name: _instant(name, given) for name, given in (("since", since), ("until", until))}
    with state.service.engine.connect() as conn:
        found = inquiries.audited(conn, provider=provider, action=action, limit=limit, **window)
    return InquiryLogRead(
        inquiries=[
            LoggedInquiry(
                id=i.id,
                asked_at=i.asked_at,
                provider=i.provider,
                action=i.action,
                decision=i.decision,
                reference=i.reference,
                at=i.at,
            )
            for i in found.inquiries
        ],
        providers=[
            ProviderTally(provider=t.provider, inquiries=t.inquiries, subjects=t.subjects, restricted=t.restricted)
            for t in found.providers
        ],
    )


def _instant(name: str, given: datetime | None) -> datetime | None:
    """A bound of the window in UTC: without a zone, Asia/Shanghai legal time, as everywhere."""
    try:
        return None if given is None else legal_instant(given)
    except (OverflowError, ValueError):
        raise FieldError(name, "expected an instant between 0001-01-02 and 9999-12-30") from None
