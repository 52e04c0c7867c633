"""Refuse a body too large (413) or not JSON (415) before anything reads it.

Pure ASGI, so an oversized body is never buffered whole: the declared ``Content-Length`` is
refused at once, and a chunked body is counted as it arrives and refused at the first byte past
the limit. A body that passes is handed on as it was read.
"""

import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send

JSON_TYPES = (b"application/json",)
FORM_TYPES = (b"application/x-www-form-urlencoded", b"multipart/form-data")
WITH_BODY = ("POST", "PUT", "PATCH")


async def refuse(send: Send, status: int, detail: str) -> None:
    body = json.dumps({"detail": detail, "field": None}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def replaying(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that hands on ``body``, already read whole, then what ``receive`` says next
    (a disconnect)."""
    replayed = False

    async def again() -> Message:
        nonlocal replayed
        if replayed:
            return await receive()
        replayed = True
        return {"type": "http.request", "body": body, "more_body": False}

    return again


class BodyLimits:
    """``max_body`` bytes for every route but those ``paths`` give a limit of their own (a manifest);
    a POST to one of ``bodiless`` (signing out) may come with no body and no content type; a POST to
    one of ``forms``, or under one of ``form_prefixes`` (the pages' forms), comes as a browser sends
    a form."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        max_body: int,
        paths: dict[str, int] | None = None,
        bodiless: frozenset[str] = frozenset(),
        forms: frozenset[str] = frozenset(),
        form_prefixes: tuple[str, ...] = (),
    ) -> None:
        self.app = app
        self.max_body = max_body
        self.paths = paths or {}
        self.bodiless = bodiless
        self.forms = forms
        self.form_prefixes = form_prefixes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in WITH_BODY:
            await self.app(scope, receive, send)
            return
        headers: dict[bytes, bytes] = dict(scope["headers"])
        limit = self.paths.get(scope["path"], self.max_body)
        declared = headers.get(b"content-length", b"").strip()
        if declared and (not declared.isdigit() or int(declared) > limit):
            await refuse(send, 413, f"body: expected at most {limit} bytes")
            return
        kind = headers.get(b"content-type", b"").split(b";", 1)[0].strip().lower()
        form = scope["path"] in self.forms or scope["path"].startswith(self.form_prefixes)
        if (
            not kind
            and declared in (b"", b"0")
            and b"transfer-encoding" not in headers
            and (scope["path"] in self.bodiless or form)  # an empty form: the page refuses it (no token)
        ):
            await self.app(scope, receive, send)
            return
        if kind not in (FORM_TYPES if form else JSON_TYPES):
            expected = "a form (application/x-www-form-urlencoded)" if form else "application/json"
            await refuse(send, 415, f"content-type: expected {expected}")
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away
            chunk: bytes = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                await refuse(send, 413, f"body: expected at most {limit} bytes")
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        await self.app(scope, replaying(b"".join(chunks), receive), send)
