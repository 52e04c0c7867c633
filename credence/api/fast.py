"""``POST /v1/checks`` without FastAPI's routing and dependency solving, for the checks that pass.

A check does about 60 µs of its own work (the key, the rate, the index); FastAPI's route matching,
dependency solving and response validation cost more than twice that again, and they are what a
busy gate spends its core on. So this ASGI layer, inside ``BodyLimits`` (413 and 415 come first),
answers a check itself when the body is JSON that ``CheckRequest`` takes and the key is one the
table holds, doing the same steps as the route in the same order with the route's own functions:
``json.loads`` (what FastAPI decodes a body with), ``CheckRequest.model_validate``, ``deps.admit``
(the key, then one check of its rate), ``checks.check``, and the route's answer serialized as
FastAPI serializes a response model. A refusal from admitting on is answered by ``errors.refusal``,
as the app's exception handler would.

Anything else (another path or method, a body that is not JSON or not a ``CheckRequest``, no key
or one the table does not hold) goes to the app as it came, body included, before anything has been
spent: so every 401 and 422 of the body, with its ordering and its shape, is the app's own.
"""

import json
from typing import Any

from pydantic import ValidationError
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Receive, Scope, Send

from credence.api.deps import Gate, admit
from credence.api.errors import refusal
from credence.api.limits import replaying
from credence.api.routers.checks import check
from credence.api.schemas import CheckRequest
from credence.exc import CredenceError
from credence.screening.providers import KEY, KeyRefusedError

PATH = "/v1/checks"
JSON_HEADERS = [(b"content-type", b"application/json")]


def bearer(headers: list[tuple[bytes, bytes]]) -> str | None:
    """The key of the first ``Authorization`` header when it is exactly ``Bearer <key>`` in the
    key's form; None otherwise (the app then reads the header its own way)."""
    for name, value in headers:
        if name == b"authorization":
            if not value.startswith(b"Bearer "):
                return None
            key = value[7:].decode("latin-1")
            return key if KEY.fullmatch(key) else None
    return None


class FastChecks:
    """ASGI middleware answering ``POST /v1/checks`` that pass (see the module's docstring)."""

    def __init__(self, app: ASGIApp, *, route: BaseRoute) -> None:
        self.app = app
        self.route = route  # the route's own object, so the metrics label the check as the app would

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or scope["path"] != PATH:
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        key = bearer(scope["headers"])
        request = _request(body) if key is not None else None
        if key is None or request is None:
            await self.app(scope, replaying(body, receive), send)
            return
        state: Gate = scope["app"].state.gate
        scope["route"] = self.route
        try:
            content = check(state, admit(state, key), request).model_dump_json().encode()
        except KeyRefusedError:  # refused before any rate was spent: the app refuses it its own way
            del scope["route"]
            await self.app(scope, replaying(body, receive), send)
            return
        except CredenceError as exc:  # over the rate, out of scope, outside the vocabulary
            await refusal(exc)(scope, receive, send)
            return
        await _answer(send, content)


def route_of(routes: list[BaseRoute]) -> BaseRoute:
    """The app's route for ``POST /v1/checks``."""
    return next(r for r in routes if getattr(r, "path", None) == PATH and "POST" in getattr(r, "methods", ()))


def _request(body: bytes) -> CheckRequest | None:
    """The body as FastAPI would take it for the route: ``json.loads``, then the model; None if
    either refuses it (the app then answers its own 422)."""
    try:
        data: Any = json.loads(body)  # Any: JSON of any shape, for the model to judge
        return CheckRequest.model_validate(data)
    except (ValueError, ValidationError):  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        return None


async def _answer(send: Send, content: bytes) -> None:
    headers = [(b"content-length", str(len(content)).encode()), *JSON_HEADERS]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": content})
