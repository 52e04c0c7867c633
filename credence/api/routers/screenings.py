"""``POST /v1/screenings``: a manifest's entries answered in one request, each as a check would
answer it; an entry refused on its own (a malformed ID, an unknown action, an action outside the
key's scope) gets its error in place and the rest are answered.

The answer is written as JSON bytes directly, not through a response model: validating 100,000
answers through pydantic would cost more than screening them. ``ScreenedEntry`` is still the
contract (the OpenAPI spec and the tests hold the bytes to it).
"""

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response, StreamingResponse

from credence import logs
from credence.api.deps import GateDep, GrantDep
from credence.api.routers.checks import ERRORS, instant
from credence.api.schemas import MAX_ENTRIES, ScreeningAnswer, ScreeningRequest
from credence.exc import CredenceError, FieldError
from credence.lists.measures import default_requests
from credence.screening.screen import REFUSED, RESTRICTED, Entry, Manifest, Screened, screen

router = APIRouter(tags=["gate"])
log = logs.get_logger(__name__)
NDJSON = "application/x-ndjson"
CHUNK = 2_000  # entries per streamed write


class ManifestTooLargeError(CredenceError):
    status = 413


def _refused(i: int, error: FieldError) -> dict[str, Any]:
    return {
        "index": i,
        "decision": None,
        "reference": None,
        "legal_basis_title": None,
        "appeal": None,
        "caller_notice": None,
        "error": {"detail": " ".join(error.detail.split()), "field": error.field},
    }


def entry_answer(screened: Screened, references: list[str], i: int) -> dict[str, Any]:
    """Entry ``i``'s answer as ``ScreenedEntry`` says: only what a check may say."""
    outcome = int(screened.outcomes[i])
    if outcome == REFUSED:
        return _refused(i, screened.errors[i])
    decided = screened.decisions.get(i)
    restricted = outcome == RESTRICTED
    notice = decided.notices[0] if decided is not None and decided.notices else None
    basis = None
    if decided is not None:
        basis = decided.legal_basis if restricted else (decided.notice_legal_bases or (None,))[0]
    return {
        "index": i,
        "decision": "restricted" if restricted else "allowed",
        "reference": references[i],
        "legal_basis_title": basis,
        "appeal": decided.appeal if restricted and decided is not None else None,
        "caller_notice": notice,
        "error": None,
    }


def _lines(screened: Screened) -> Iterator[bytes]:
    references = screened.references()
    for start in range(0, len(screened), CHUNK):
        stop = min(start + CHUNK, len(screened))
        text = "".join(
            json.dumps(entry_answer(screened, references, i), ensure_ascii=False) + "\n" for i in range(start, stop)
        )
        yield text.encode()


@router.post(
    "/v1/screenings",
    response_class=Response,
    responses={
        200: {
            "model": ScreeningAnswer,
            "description": "Every entry's answer in manifest order; NDJSON lines of `ScreenedEntry` when "
            "the request's Accept asks for application/x-ndjson",
            "content": {NDJSON: {"schema": {"type": "string"}}},
        },
        **ERRORS,
    },
)
def post_screening(body: ScreeningRequest, request: Request, grant: GrantDep, state: GateDep) -> Response:
    """Screen a manifest (up to 100,000 entries) at one instant: each entry is answered as
    `POST /v1/checks` would answer it, in the same order, in the same shape for known and
    unknown subjects. The whole manifest counts as one request against the key's rate; every
    entry is recorded in the inquiry log, the refused ones included."""
    if len(body.entries) > MAX_ENTRIES:
        raise ManifestTooLargeError(f"entries: expected at most {MAX_ENTRIES:,}, got {len(body.entries):,}")
    now = datetime.now(UTC)
    at = instant(body.at, now)
    vocabulary = default_requests()
    out_of_scope: dict[int, FieldError] = {}
    entries: list[Entry] = []
    for i, given in enumerate(body.entries):
        # an unknown action is the vocabulary's error, not the scope's
        if given.action in vocabulary and given.action not in grant.actions:
            scope = ", ".join(sorted(grant.actions))
            out_of_scope[i] = FieldError(f"entries.{i}.action", f"this key may ask about {scope}, not {given.action!r}")
        entries.append(Entry(given.subject, given.action, dict(given.attributes)))
    manifest = Manifest.of(entries)
    screened = screen(state.lookup, manifest, at=at, refused=out_of_scope)
    for i, error in list(screened.errors.items()):
        if not error.field.startswith("entries."):
            screened.errors[i] = FieldError(f"entries.{i}.{error.field}", error.reason)
    state.inquiries.record_screening(grant.provider, manifest, screened, at=at, asked_at=now)
    restricted = int((screened.outcomes == RESTRICTED).sum())
    log.info("gate.screening", provider=str(grant.provider), entries=len(screened), restricted=restricted)
    if NDJSON in request.headers.get("accept", ""):
        return StreamingResponse(_lines(screened), media_type=NDJSON)
    references = screened.references()
    results = ",".join(
        json.dumps(entry_answer(screened, references, i), ensure_ascii=False) for i in range(len(screened))
    )
    return Response(f'{{"results":[{results}]}}'.encode(), media_type="application/json")
