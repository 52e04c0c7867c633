"""``POST /v1/checks``: may this subject do this action now? Allowed or restricted, and nothing
a provider may not see (DESIGN P8)."""

import logging
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter

from credence import logs
from credence.api.deps import Gate, GateDep, GrantDep
from credence.api.schemas import CheckAnswer, CheckRequest, ErrorResponse
from credence.exc import FieldError
from credence.lists.measures import default_requests
from credence.model.time import legal_instant
from credence.screening.check import Decision, Outcome
from credence.screening.providers import Grant

router = APIRouter(tags=["gate"])
log = logs.get_logger(__name__)

ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorResponse, "description": "No key, or an unknown, revoked or expired one"},
    403: {"model": ErrorResponse, "description": "The key is not scoped to this action"},
    413: {"model": ErrorResponse, "description": "The body is too large"},
    415: {"model": ErrorResponse, "description": "The body is not application/json"},
    422: {"model": ErrorResponse, "description": "A malformed subject, action, attribute or instant; names the field"},
    429: {
        "model": ErrorResponse,
        "description": "Over the key's rate limit",
        "headers": {"Retry-After": {"description": "seconds to wait", "schema": {"type": "integer"}}},
    },
    503: {
        "model": ErrorResponse,
        "description": "The registry's store is unavailable, or the inquiry log cannot keep up",
        "headers": {"Retry-After": {"description": "seconds to wait", "schema": {"type": "integer"}}},
    },
}


def instant(at: datetime | None, now: datetime) -> datetime:
    """The request's instant in UTC: without a zone it is Asia/Shanghai legal time, as in the CLI."""
    if at is None:
        return now
    try:
        return legal_instant(at)
    except (OverflowError, ValueError):
        raise FieldError("at", "expected an instant between 0001-01-02 and 9999-12-30") from None


def answer(decision: Decision) -> CheckAnswer:
    """The wire answer: an allowed one says nothing of a listing (an exemption included)."""
    restricted = decision.outcome is Outcome.RESTRICTED
    notice = decision.notices[0] if decision.notices else None
    basis = decision.legal_basis if restricted else (decision.notice_legal_bases or (None,))[0]
    return CheckAnswer(
        decision="restricted" if restricted else "allowed",
        reference=decision.reference,
        legal_basis_title=basis,
        appeal=decision.appeal if restricted else None,
        caller_notice=notice,
    )


@router.post("/v1/checks", response_model=CheckAnswer, responses=ERRORS)
async def post_check(request: CheckRequest, grant: GrantDep, state: GateDep) -> CheckAnswer:
    """May this subject do this action now? The answer is allowed or restricted, with a reference,
    the legal basis and where to appeal; the same shape for a subject the registry has never seen.
    Every answer is recorded in the inquiry log (who asked, about whom, the answer).
    (Async: the index is in memory, and the thread pool's hop would cost more than the check.)"""
    return check(state, grant, request)


def check(state: Gate, grant: Grant, request: CheckRequest) -> CheckAnswer:
    """The check once the caller is admitted and the body is a ``CheckRequest``: this route's and
    ``api.fast``'s (which answers most checks without FastAPI's routing), so the two cannot differ."""
    if request.action in default_requests():  # an unknown action is the vocabulary's 422, not a 403
        grant.require(request.action)
    now = datetime.now(UTC)
    at = instant(request.at, now)
    attributes = dict(request.attributes)
    decision = state.lookup(request.subject, request.action, attributes, at=at)
    state.inquiries.record(grant.provider, request.subject, request.action, attributes, decision, at=at, asked_at=now)
    if log.isEnabledFor(logging.INFO):  # structlog builds the event before the level drops it: 9 µs a check
        log.info("gate.check", provider=str(grant.provider), action=request.action, decision=str(decision.outcome))
    return answer(decision)
