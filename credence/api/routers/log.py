"""The transparency log, public and read-only: the latest signed checkpoint, inclusion and
consistency proofs, entries, and a subject's entries by commitment (docs/transparency-log.md).

No key is asked: the log holds commitments, never ids, and it is meant for outsiders.
Checkpoints are signed by the sequencer (``credence audit checkpoint``, the worker), never here.
"""

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from fastapi.responses import PlainTextResponse, Response

from credence.api.deps import GateDep
from credence.api.schemas import ConsistencyProof, ErrorResponse, InclusionProof, LogEntry, ProvenEntry, SubjectEntries
from credence.audit import proofs

router = APIRouter(prefix="/v1/log", tags=["transparency log"])
MAX_INDEX = 2**62  # within a BIGINT, whatever a client sends
# Any: FastAPI's own type for extra OpenAPI responses
Index = Annotated[int, Query(ge=0, le=MAX_INDEX)]
Size = Annotated[int, Query(ge=1, le=MAX_INDEX)]
REFUSED: dict[int | str, dict[str, Any]] = {
    422: {"model": ErrorResponse, "description": "A size past the latest checkpoint, or an index outside the tree"}
}
MISSING: dict[int | str, dict[str, Any]] = {404: {"model": ErrorResponse, "description": "Not in the log (yet)"}}


@router.get(
    "/checkpoint",
    response_class=Response,
    responses={
        200: {"content": {"text/plain": {"schema": {"type": "string"}}}, "description": "A signed note"},
        **MISSING,
    },
)
def checkpoint(state: GateDep) -> PlainTextResponse:
    """The latest checkpoint, a C2SP signed note: origin, size, root hash, time, signature."""
    with state.engine.connect() as conn:
        note = proofs.latest_note(conn)
    return PlainTextResponse(note, media_type="text/plain; charset=utf-8")


@router.get("/proof/inclusion", response_model=InclusionProof, responses=REFUSED | MISSING)
def inclusion(state: GateDep, index: Index, size: Size) -> InclusionProof:
    """The inclusion proof of leaf ``index`` in the tree of ``size`` (at most the latest checkpoint's)."""
    with state.engine.connect() as conn:
        path = proofs.inclusion(conn, index, size)
        leaf = proofs.published(conn, index)
    return InclusionProof(
        index=index, size=size, leaf_hash=proofs.b64(leaf.leaf_hash), proof=[proofs.b64(h) for h in path]
    )


@router.get("/proof/consistency", response_model=ConsistencyProof, responses=REFUSED | MISSING)
def consistency(state: GateDep, first: Size, second: Size) -> ConsistencyProof:
    """The consistency proof between the trees of ``first`` and ``second`` (at most the latest checkpoint's)."""
    with state.engine.connect() as conn:
        path = proofs.consistency(conn, first, second)
    return ConsistencyProof(first=first, second=second, proof=[proofs.b64(h) for h in path])


@router.get("/entries/{index}", response_model=LogEntry, responses=REFUSED | MISSING)
def entry(state: GateDep, index: Annotated[int, Path(ge=0, le=MAX_INDEX)]) -> LogEntry:
    """Leaf ``index`` and its entry."""
    with state.engine.connect() as conn:
        found = proofs.published(conn, index)
    return LogEntry(
        index=found.index,
        leaf_hash=proofs.b64(found.leaf_hash),
        entry=None if found.entry is None else found.entry.decode(),
    )


@router.get("/subjects/{commitment}", response_model=SubjectEntries, responses=REFUSED | MISSING)
def subject(
    state: GateDep,
    commitment: Annotated[str, Path(pattern="^[0-9a-f]{64}$", description="The subject's commitment, 64 hex digits")],
) -> SubjectEntries:
    """Every entry about the subject of ``commitment``, with inclusion proofs against the latest checkpoint."""
    with state.engine.connect() as conn:
        found = proofs.bundle(conn, bytes.fromhex(commitment))
    return SubjectEntries(
        checkpoint=found["checkpoint"],
        subject=found["subject"],
        entries=[ProvenEntry(**item) for item in found["entries"]],
    )
