"""``credence serve``: the gate over HTTP (uvicorn, the ``credence.api`` factory)."""

import os
import tempfile
from pathlib import Path
from typing import Annotated

import typer

from credence.cli.context import console, engine
from credence.settings import get_settings

# An import string, not the function: uvicorn imports it in each worker, and the CLI never
# imports the API room (a sibling face) or pays FastAPI's import for other commands.
APP = "credence.api.app:create_app"


def serve(
    host: Annotated[str, typer.Option(help="address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port", min=0, max=65535)] = 8000,
    workers: Annotated[int, typer.Option(help="worker processes", min=1, max=64)] = 1,
) -> None:
    """Serve the gate: POST /v1/checks for providers, /docs, /healthz, /readyz, /metrics."""
    import uvicorn

    settings = get_settings()
    engine().dispose()  # migrate here, once, if due: the workers only read
    with tempfile.TemporaryDirectory(prefix="credence-gate-") as shared:
        os.environ["CREDENCE_GATE_SHARED_DIR"] = shared
        if workers > 1:  # every worker's metrics in one place, for /metrics to add up
            folder = Path(shared) / "metrics"
            folder.mkdir()
            os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(folder)
        get_settings.cache_clear()
        console.print(f"serving the gate on http://{host}:{port} (docs at /docs), {workers} worker(s)")
        uvicorn.run(
            APP,
            factory=True,
            host=host,
            port=port,
            workers=workers,
            log_level=settings.log_level.lower(),
            access_log=False,  # request lines are not needed, and a gate logs no more than it must
            timeout_graceful_shutdown=5,
        )
