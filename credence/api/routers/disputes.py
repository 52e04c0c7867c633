"""Disputes over HTTP: a signed-in subject files one against a record about them and follows it;
the signed-in officer of the record's agency lists its disputes and answers them. The routes
parse and render; ``dueprocess.disputes`` files and decides."""

import uuid
from datetime import date

from fastapi import APIRouter

from credence.api.deps import AccountsDep, OfficerDep, SubjectDep
from credence.api.routers.sign_in import BASE, SESSION_ERRORS
from credence.api.schemas import DecisionRequest, DisputeRequest, Disputes, DisputeView, ErrorResponse
from credence.disputes import rows
from credence.disputes.rows import Filed
from credence.dueprocess import disputes
from credence.dueprocess.disputes import Correction
from credence.exc import NotFoundError
from credence.model.time import legal_date
from credence.screening.providers import KeyRefusedError

router = APIRouter(tags=["disputes"])

FILE_ERRORS = SESSION_ERRORS | {
    422: {
        "model": ErrorResponse,
        "description": "A record not yours (or none), an empty statement, evidence refused, "
        "or a dispute of the record already open; names the field",
    },
}
DECIDE_ERRORS = SESSION_ERRORS | {
    403: {"model": ErrorResponse, "description": "The dispute is for another agency"},
    404: {"model": ErrorResponse, "description": "No such dispute"},
    422: {"model": ErrorResponse, "description": "A closed or lapsed dispute, or a correction that does not fit"},
}


def view(d: Filed, today: date) -> DisputeView:
    return DisputeView(
        id=str(d.id),
        receipt=d.receipt,
        record_id=str(d.record),
        agency=d.source,
        kind=d.kind,
        filed_at=d.filed_at,
        respond_by=d.respond_by.isoformat(),
        suspends=d.suspends,
        state="lapsed" if d.lapsed(today) else d.state,
        correction_record_id=str(d.correction) if d.correction else None,
    )


@router.post("/v1/disputes", status_code=201, response_model=DisputeView, responses=FILE_ERRORS)
def post_dispute(request: DisputeRequest, session: SubjectDep, state: AccountsDep) -> DisputeView:
    """Dispute a record about you: acknowledged at once with a receipt number, routed to the
    record's agency with its deadline."""
    now = state.clock()
    if session.subject is None:  # a subject's session always names its subject
        raise KeyRefusedError("no subject's session")
    filed = disputes.file(
        state.service.engine,
        subject=session.subject,
        record=request.record_id,
        statement=request.statement,
        evidence=request.evidence,
        now=now,
    )
    return view(filed, legal_date(now))


@router.get("/v1/me/disputes", response_model=Disputes, responses=SESSION_ERRORS | BASE)
def get_my_disputes(session: SubjectDep, state: AccountsDep) -> Disputes:
    """Your disputes, newest first."""
    with state.service.engine.connect() as conn:
        found = rows.listed(conn, subject=session.subject)
    today = legal_date(state.clock())
    return Disputes(disputes=[view(d, today) for d in found])


@router.get("/v1/officers/disputes", response_model=Disputes, responses=SESSION_ERRORS | BASE)
def get_agency_disputes(officer: OfficerDep, state: AccountsDep) -> Disputes:
    """The disputes routed to your agency, newest first."""
    with state.service.engine.connect() as conn:
        found = rows.listed(conn, agency=officer.agency)
    today = legal_date(state.clock())
    return Disputes(disputes=[view(d, today) for d in found])


@router.post("/v1/disputes/{dispute_id}/decision", response_model=DisputeView, responses=DECIDE_ERRORS)
def post_decision(
    dispute_id: uuid.UUID, request: DecisionRequest, officer: OfficerDep, state: AccountsDep
) -> DisputeView:
    """Answer a dispute routed to your agency before its deadline: upheld with the correction it
    makes (the record withdrawn, or attributes corrected), or rejected."""
    now = state.clock()
    given = request.correction
    correction = Correction(retract=given.retract, attributes=given.attributes) if given is not None else None
    try:
        decided = disputes.decide(
            state.service.engine,
            dispute_id,
            agency=officer.agency,
            officer=officer.name,
            officer_id=officer.id,
            upheld=request.upheld,
            note=request.note,
            correction=correction,
            now=now,
        )
    except NotFoundError:
        raise NotFoundError("dispute_id: no such dispute") from None
    return view(decided, legal_date(now))
