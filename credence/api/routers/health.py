"""Liveness, readiness and metrics: what an operator's probes and Prometheus read."""

from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response
from sqlalchemy.exc import SQLAlchemyError

from credence.api.deps import GateDep
from credence.api.metrics import breaker
from credence.api.schemas import Health, NotReady, Ready
from credence.ingest import holds
from credence.screening.gate import versions
from credence.store.registry import is_current

router = APIRouter(tags=["operations"])


@router.get("/healthz", response_model=Health)
def healthz() -> Health:
    """The process is alive (it does not touch the store)."""
    return Health(status="ok")


@router.get("/readyz", response_model=Ready, responses={503: {"model": NotReady, "description": "Not ready"}})
def readyz(state: GateDep) -> Ready | JSONResponse:
    """The store answers at the newest schema; the versions of what this process reads."""
    try:
        if not is_current(state.engine):
            body = NotReady(status="unavailable", detail="the store's schema is not at the newest migration")
            return JSONResponse(body.model_dump(), status_code=503)
        with state.engine.connect() as conn:
            schema, registry = versions(conn)
        state.keys.refresh()
    except SQLAlchemyError:
        body = NotReady(status="unavailable", detail="the registry's store is unreachable")
        return JSONResponse(body.model_dump(), status_code=503)
    snapshot = state.lookup.snapshot
    return Ready(
        status="ready",
        schema_revision=schema,
        registry_version=registry,
        keys_version=state.keys.version,
        index_version=snapshot.seq,
        index_subjects=snapshot.subjects,
        index_age_seconds=round(state.follower.age, 3),
        inquiries_waiting=state.inquiries.waiting,
    )


@router.get(
    "/metrics",
    response_class=Response,
    responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}}, "description": "Prometheus text"}},
)
def metrics(state: GateDep) -> Response:
    """Prometheus metrics: requests and latencies per route template (never per subject), and
    the circuit breakers' open holds by source."""
    body, kind = state.metrics.exposition()
    with state.engine.connect() as conn:
        held = holds.holds(conn)
    return Response(body + breaker(held), media_type=kind)
