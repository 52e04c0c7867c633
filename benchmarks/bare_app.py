"""The bare endpoint for ``gate_http.py``: POST /v1/checks answers a constant body of the same
shape as the gate's allowed answer, with no key, no store and no logging."""

from typing import Any

from fastapi import FastAPI

BODY: dict[str, Any] = {
    "decision": "allowed",
    "reference": None,
    "legal_basis_title": None,
    "appeal": None,
    "caller_notice": None,
}


def create_app() -> FastAPI:
    app = FastAPI()

    @app.post("/v1/checks")
    async def checks() -> dict[str, Any]:
        return BODY

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app
