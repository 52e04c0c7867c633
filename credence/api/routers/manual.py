"""Manual actions over HTTP (issue 10, part 6): an officer asks for a record by hand, a second
officer of the same agency approves or refuses it; an officer declares a relation to a subject
and stands aside from them. The routes parse and render; ``dueprocess.manual`` checks and writes."""

import uuid

from fastapi import APIRouter, Response

from credence.accounts import manual
from credence.accounts.manual import Action
from credence.api.deps import AccountsDep, OfficerDep
from credence.api.routers.sign_in import BASE, SESSION_ERRORS
from credence.api.schemas import (
    ErrorResponse,
    ManualActionRequest,
    ManualActions,
    ManualActionView,
    ManualDecisionRequest,
    RelationRequest,
)

router = APIRouter(tags=["manual actions"])

REFUSED = {
    "model": ErrorResponse,
    "description": "The officer's role may not do this, the action is another agency's, the officer "
    "(or the requester) declared a relation to the subject, or it is their own request; an event records it",
}
REQUEST_ERRORS = SESSION_ERRORS | {
    403: REFUSED,
    422: {"model": ErrorResponse, "description": "A field the agency's feed would refuse; names the field"},
}
DECIDE_ERRORS = SESSION_ERRORS | {
    403: REFUSED,
    404: {"model": ErrorResponse, "description": "No such manual action"},
    422: {"model": ErrorResponse, "description": "Decided already, or a refusal without reasons"},
}


def view(a: Action) -> ManualActionView:
    return ManualActionView(
        id=str(a.id),
        receipt=a.receipt,
        agency=a.agency,
        requested_by=a.requested_by,
        subject=a.masked,
        op="retract" if a.op == manual.RETRACT else "assert",
        kind=a.kind,
        source_record_id=a.source_record_id,
        valid_date=a.valid_date.isoformat(),
        jurisdiction=a.jurisdiction,
        attributes=a.attributes,
        legal_basis=a.legal_basis,
        reason=a.reason,
        requested_at=a.requested_at,
        state="pending" if a.state == manual.PENDING else "approved" if a.state == manual.APPROVED else "refused",
        decided_by=a.decided_by,
        decided_at=a.decided_at,
        note=a.note,
        record_id=str(a.record) if a.record else None,
    )


@router.post("/v1/manual-actions", status_code=202, response_model=ManualActionView, responses=REQUEST_ERRORS)
def post_action(request: ManualActionRequest, officer: OfficerDep, state: AccountsDep) -> ManualActionView:
    """Ask for a record to be written by hand for your agency, or withdrawn: accepted as pending
    (202); nothing about the subject changes until a second officer of your agency approves."""
    action = manual.request(
        state.service.engine,
        officer,
        kind=request.kind,
        id_number=request.id_number,
        valid_date=request.valid_date,
        jurisdiction=request.jurisdiction,
        attributes=request.attributes,
        legal_basis=request.legal_basis,
        reason=request.reason,
        retract=request.retract,
        now=state.clock(),
    )
    return view(action)


@router.get("/v1/officers/manual-actions", response_model=ManualActions, responses=SESSION_ERRORS | BASE)
def get_actions(officer: OfficerDep, state: AccountsDep) -> ManualActions:
    """Your agency's manual actions: those pending a second officer first, then the newest."""
    with state.service.engine.connect() as conn:
        found = manual.listed(conn, agency=officer.agency)
    return ManualActions(actions=[view(a) for a in found])


@router.post("/v1/manual-actions/{action_id}/decision", response_model=ManualActionView, responses=DECIDE_ERRORS)
def post_decision(
    action_id: uuid.UUID, request: ManualDecisionRequest, officer: OfficerDep, state: AccountsDep
) -> ManualActionView:
    """As a second officer of the action's agency, approve it (the record is written then, as
    the agency's own) or refuse it with reasons. Never your own request."""
    decided = manual.decide(
        state.service.engine, action_id, officer, approved=request.approved, note=request.note, now=state.clock()
    )
    return view(decided)


@router.post(
    "/v1/officers/me/relations", status_code=204, response_class=Response, responses=SESSION_ERRORS | REQUEST_ERRORS
)
def post_relation(request: RelationRequest, officer: OfficerDep, state: AccountsDep) -> Response:
    """Declare a relation to a subject (kin, a business partner, an adversary): from now on you
    may not request, approve or decide anything about them."""
    manual.declare_relation(state.service.engine, officer, request.id_number, request.relation, now=state.clock())
    return Response(status_code=204)
