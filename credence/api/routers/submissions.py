"""``POST /v1/submissions``: an agency pushes records, a batch signed with its registered key
(docs/submissions.md). The route parses and renders; ``ingest.submissions`` checks the batch
whole and loads its rows through the feed loader.

Its wire models live here rather than in ``api.schemas``: they are this route's alone.
"""

from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from credence.api.deps import GateDep
from credence.api.errors import error
from credence.api.schemas import ErrorResponse
from credence.exc import WriterBusyError
from credence.ingest import submissions
from credence.ingest.mapping import Mapping, load_mappings
from credence.settings import Settings

router = APIRouter(tags=["submissions"])

MAX_ROWS = 100_000


class Batch(BaseModel):
    """What the agency signs: its RFC 8785 canonical JSON is the signed message."""

    model_config = ConfigDict(extra="forbid")

    source: Annotated[
        str, Field(pattern=r"^[a-z0-9_-]{1,64}$", description="The agency's source id.", examples=["police"])
    ]
    key: Annotated[
        str,
        Field(
            pattern=r"^[0-9a-f]{32}$",
            description="The signing key's id (`credence agencies key list`).",
            examples=["3f7c0a9d2b1e4c5f8a6b7d9e0f1a2b3c"],
        ),
    ]
    timestamp: Annotated[
        str,
        Field(
            min_length=1,
            max_length=40,
            description="When it was signed, RFC 3339 with its zone; taken within CREDENCE_SUBMISSION_WINDOW.",
            examples=["2026-12-03T14:00:00Z"],
        ),
    ]
    nonce: Annotated[
        str,
        Field(
            pattern=r"^[A-Za-z0-9_-]{16,64}$",
            description="Random, once per batch: a batch whose nonce was used is a replay.",
            examples=["9b2f4c1d8e7a6b5c4d3e2f1a0b9c8d7e"],
        ),
    ]
    rows: Annotated[
        list[dict[str, Any]],  # Any: each row in the shape of the source's feed mapping
        Field(
            min_length=1,
            max_length=MAX_ROWS,
            description="Records in the shape of the source's feed mapping (a CSV mapping's columns as keys).",
        ),
    ]


class SubmissionRequest(BaseModel):
    """A signed batch."""

    model_config = ConfigDict(extra="forbid")

    batch: Batch
    signature: Annotated[
        str,
        Field(
            pattern=r"^[A-Za-z0-9+/]{86}==$",
            description="Base64 of the Ed25519 signature of the batch's RFC 8785 canonical JSON.",
        ),
    ]


class RowRefusal(BaseModel):
    model_config = ConfigDict(extra="forbid")

    row: Annotated[int, Field(description="The row's index in the batch, from 0.")]
    field: str | None
    reason: str


class SubmissionAnswer(BaseModel):
    """What the batch did: its rows accepted, amended, retracted, unchanged, quarantined (with
    their reasons) or held by the source's circuit breaker."""

    model_config = ConfigDict(extra="forbid")

    submission: Annotated[str, Field(description="The submission's id.")]
    source: str
    rows: int
    accepted: int
    amended: int
    retracted: int
    unchanged: int
    quarantined: int
    held: Annotated[int, Field(description="Adverse rows the circuit breaker held for review, not applied.")]
    hold: Annotated[int | None, Field(description="The hold they joined (`credence held`).")]
    hold_reason: Annotated[str | None, Field(description="The threshold crossed and the counts behind it.")]
    refused_rows: list[RowRefusal]


def _refusal(description: str) -> dict[str, Any]:
    return {"model": ErrorResponse, "description": description}


ERRORS: dict[int | str, dict[str, Any]] = {
    202: {
        "model": SubmissionAnswer,
        "description": "Loaded, but adverse rows were held by the source's circuit breaker, not applied, "
        "until an officer releases or rejects them (`held`, `hold`, `hold_reason`)",
    },
    401: _refusal("An unknown or revoked key, a key of another source, or a signature that does not verify"),
    403: _refusal("A row of a record kind or jurisdiction the source is not authorised for: the batch is refused"),
    409: _refusal("The nonce was used before: a replayed batch"),
    413: _refusal("A body over CREDENCE_GATE_MAX_MANIFEST_BODY"),
    415: _refusal("A body that is not application/json"),
    422: _refusal("A malformed batch, or a timestamp outside CREDENCE_SUBMISSION_WINDOW (late or early)"),
    503: _refusal("The registry is busy with another writer, or its store is down; retry after Retry-After"),
}


@cache
def _mappings(folder: str) -> dict[str, Mapping]:
    return load_mappings(Path(folder))


def policy(settings: Settings) -> submissions.Policy:
    return submissions.Policy(
        window=timedelta(seconds=settings.submission_window),
        folder=Path(settings.data_dir) / "submissions",
        wait=settings.submission_wait,
    )


@router.post("/v1/submissions", status_code=201, response_model=SubmissionAnswer, responses=ERRORS)
def post_submission(request: SubmissionRequest, state: GateDep, response: Response) -> SubmissionAnswer | JSONResponse:
    """Submit records, a batch signed with the agency's registered Ed25519 key. Checked whole
    (key, signature, time, nonce, every row's kind and jurisdiction) before anything is applied;
    its rows then load as a feed file's do: bad rows quarantined with their reasons, a mass
    listing held by the circuit breaker."""
    settings = state.settings
    envelope = {"batch": request.batch.model_dump(), "signature": request.signature}
    try:
        done = submissions.submit(
            state.engine,
            envelope,
            _mappings(settings.connectors_dir),
            policy=policy(settings),
            now=datetime.now(UTC),
        )
    except submissions.SubmissionRefusedError as err:
        return error(err.status, err.detail, err.field)
    except WriterBusyError:
        detail = "the registry is busy with another writer; nothing was applied or spent: retry"
        return error(503, detail, None, {"Retry-After": "5"})
    result = done.result
    if result.held:
        response.status_code = 202
    return SubmissionAnswer(
        submission=str(done.id),
        source=done.source,
        rows=done.rows,
        accepted=result.accepted,
        amended=result.amended,
        retracted=result.retracted,
        unchanged=result.unchanged,
        quarantined=result.quarantined,
        held=result.held,
        hold=result.hold,
        hold_reason=done.hold_reason,
        refused_rows=[RowRefusal(row=r.row, field=r.field, reason=r.reason) for r in done.quarantined],
    )
