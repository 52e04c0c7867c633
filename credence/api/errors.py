"""Every refusal is an ``ErrorResponse``: one line naming the field and what was expected.

401 unknown, revoked or expired key or session; 403 an action outside the key's scope, or an
officer acting for another agency (field ``agency``); 413 and 415 come from ``limits``; 422 a
malformed request (pydantic's or the catalogue's vocabulary, through ``FieldError``), or a wrong
or expired sign-in code (field ``code``); 429 over the provider's rate, or too many wrong codes
(field ``code``), with ``Retry-After``; 503 the store is down or the inquiry log cannot keep up
(an answer is never given unrecorded).
"""

import math
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import OperationalError
from starlette.exceptions import HTTPException

from credence.accounts.codes import LockedOutError
from credence.accounts.sessions import SessionRefusedError
from credence.exc import CredenceError, FieldError, UnavailableError
from credence.screening.providers import KeyRefusedError


class RateLimitedError(CredenceError):
    status = 429

    def __init__(
        self, wait: float, detail: str = "over this key's rate limit; retry after the Retry-After seconds"
    ) -> None:
        super().__init__(detail)
        self.wait = wait


def error(status: int, detail: str, field: str | None = None, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"detail": " ".join(detail.split()), "field": field}, status_code=status, headers=headers)


def _field(loc: tuple[Any, ...]) -> str | None:
    parts = [str(p) for p in loc if p != "body"]
    return ".".join(parts) or None


async def _invalid(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)  # noqa: S101 - registered for this class only
    first = exc.errors()[0]
    field = _field(tuple(first.get("loc", ())))
    reason = first.get("msg", "invalid")
    if first.get("type") == "json_invalid":
        return error(422, f"body: expected a JSON object ({reason})", "body")
    return error(422, f"{field or 'body'}: {reason}", field or "body")


async def _credence(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, CredenceError)  # noqa: S101
    return refusal(exc)


def refusal(exc: CredenceError) -> JSONResponse:
    """The answer to a ``CredenceError`` (raised again if it is not a refusal but a fault)."""
    if isinstance(exc, FieldError):
        return error(422, exc.detail, exc.field)
    if isinstance(exc, LockedOutError):
        return error(429, exc.detail, exc.field, {"Retry-After": str(max(1, math.ceil(exc.wait)))})
    if isinstance(exc, KeyRefusedError | SessionRefusedError):
        return error(401, exc.detail, None, {"WWW-Authenticate": "Bearer"})
    if isinstance(exc, RateLimitedError):
        return error(429, exc.detail, None, {"Retry-After": str(max(1, math.ceil(exc.wait)))})
    if isinstance(exc, UnavailableError):
        return error(503, exc.detail, None, {"Retry-After": "1"})
    if exc.status < 500:
        return error(exc.status, exc.detail, getattr(exc, "field", "action") if exc.status == 403 else None)
    raise exc  # a bug: let the server log it


async def _http(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)  # noqa: S101
    if exc.status_code == 400:  # FastAPI could not read the body at all (bytes that are not UTF-8 JSON)
        return error(422, "body: expected a JSON object, in UTF-8", "body")
    return error(exc.status_code, str(exc.detail), None, dict(exc.headers or {}))


async def _store_down(_request: Request, _exc: Exception) -> JSONResponse:
    return error(503, "the registry's store is unavailable; try again", None, {"Retry-After": "1"})


def install(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _invalid)
    app.add_exception_handler(CredenceError, _credence)
    app.add_exception_handler(HTTPException, _http)
    app.add_exception_handler(OperationalError, _store_down)
