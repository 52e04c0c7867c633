"""``credence serve``: the gate over HTTP (granian or uvicorn, the ``credence.api`` factory)."""

import os
import sys
from enum import StrEnum
from typing import Annotated

import typer

from credence.cli.context import console, engine


class Server(StrEnum):
    GRANIAN = "granian"
    UVICORN = "uvicorn"


def serve(
    host: Annotated[str, typer.Option(help="address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port", min=0, max=65535)] = 8000,
    workers: Annotated[int, typer.Option(help="worker processes", min=1, max=64)] = 1,
    server: Annotated[Server, typer.Option(help="HTTP server")] = Server.GRANIAN,
) -> None:
    """Serve the gate: POST /v1/checks for providers, /docs, /healthz, /readyz, /metrics."""
    engine().dispose()  # migrate here, once, if due: the workers only read
    console.print(f"serving the gate on http://{host}:{port} (docs at /docs), {workers} worker(s), {server.value}")
    sys.stdout.flush()
    # This process becomes the server (same pid, so signals reach uvicorn). The CLI names the API
    # by module, never importing it: the faces stay independent, and the workers uvicorn spawns
    # import the gate alone rather than the whole CLI.
    args = [sys.executable, "-m", "credence.api", "--host", host, "--port", str(port), "--workers", str(workers)]
    args += ["--server", server.value]
    os.execv(sys.executable, args)  # noqa: S606 - our own module, arguments we built
