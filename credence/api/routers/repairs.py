"""Credit repair over HTTP: a signed-in subject applies for repair of a record about them and
follows the application; the signed-in officer of the record's agency lists its applications by
deadline and decides them. The routes parse and render; ``dueprocess.repairs`` files and decides."""

import uuid

from fastapi import APIRouter

from credence.api.deps import AccountsDep, OfficerDep, SubjectDep
from credence.api.routers.disputes import DECIDE_ERRORS, FILE_ERRORS
from credence.api.routers.sign_in import BASE, SESSION_ERRORS
from credence.api.schemas import RepairDecisionRequest, RepairRequest, Repairs, RepairView
from credence.disputes import repairs as rows
from credence.disputes.repairs import Application
from credence.dueprocess import repairs
from credence.exc import NotFoundError
from credence.screening.providers import KeyRefusedError

router = APIRouter(tags=["repairs"])


def view(a: Application, conditions: list[str]) -> RepairView:
    return RepairView(
        id=str(a.id),
        receipt=a.receipt,
        record_id=str(a.record),
        agency=a.source,
        kind=a.kind,
        scheme=a.scheme,
        rule=a.rule,
        conditions=conditions,
        filed_at=a.filed_at,
        respond_by=a.respond_by.isoformat(),
        state=a.state,
        note=a.note,
        repair_record_id=str(a.repair_record) if a.repair_record else None,
    )


def _views(state: AccountsDep, found: list[Application]) -> Repairs:
    with state.service.engine.connect() as conn:
        wanted = repairs.conditions(conn, found)
    return Repairs(repairs=[view(a, wanted[a.id]) for a in found])


@router.post("/v1/repairs", status_code=201, response_model=RepairView, responses=FILE_ERRORS)
def post_repair(request: RepairRequest, session: SubjectDep, state: AccountsDep) -> RepairView:
    """Apply for credit repair of a record about you, once its rule's minimum period has run:
    acknowledged at once with a receipt number, routed to the record's agency with its deadline."""
    if session.subject is None:  # a subject's session always names its subject
        raise KeyRefusedError("no subject's session")
    filed = repairs.file(
        state.service.engine,
        subject=session.subject,
        record=request.record_id,
        statement=request.statement,
        evidence=request.evidence,
        now=state.clock(),
    )
    return _views(state, [filed]).repairs[0]


@router.get("/v1/me/repairs", response_model=Repairs, responses=SESSION_ERRORS | BASE)
def get_my_repairs(session: SubjectDep, state: AccountsDep) -> Repairs:
    """Your credit-repair applications, newest first."""
    with state.service.engine.connect() as conn:
        found = rows.listed(conn, subject=session.subject)
    return _views(state, found)


@router.get("/v1/officers/repairs", response_model=Repairs, responses=SESSION_ERRORS | BASE)
def get_agency_repairs(officer: OfficerDep, state: AccountsDep) -> Repairs:
    """The credit-repair applications routed to your agency: open ones first, by deadline."""
    with state.service.engine.connect() as conn:
        found = rows.listed(conn, agency=officer.agency)
    return _views(state, found)


@router.post("/v1/repairs/{application_id}/decision", response_model=RepairView, responses=DECIDE_ERRORS)
def post_repair_decision(
    application_id: uuid.UUID, request: RepairDecisionRequest, officer: OfficerDep, state: AccountsDep
) -> RepairView:
    """Decide an application routed to your agency: granted with every condition of its rule
    confirmed (the record stops counting from today), or refused with reasons."""
    try:
        decided = repairs.decide(
            state.service.engine,
            application_id,
            agency=officer.agency,
            officer=officer.name,
            officer_id=officer.id,
            granted=request.granted,
            note=request.note,
            confirmed=request.confirmed,
            now=state.clock(),
        )
    except NotFoundError:
        raise NotFoundError("application_id: no such application") from None
    return _views(state, [decided]).repairs[0]
