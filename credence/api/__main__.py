"""``python -m credence.api --host H --port P --workers N``: uvicorn serving ``create_app``.

``credence serve`` replaces itself with this (after migrating the store), so the supervisor and
its workers import the gate alone, not the whole CLI: uvicorn starts workers by spawning fresh
interpreters that import the main module again. The workers share a private temporary folder
(rate-limit buckets, and their Prometheus metrics when there are several), removed on exit.
"""

import argparse
import os
import tempfile
from pathlib import Path

APP = "credence.api.app:create_app"
# seconds a starting worker may take to answer its supervisor: importing the app takes seconds on
# a busy machine, and a worker that misses uvicorn's default (5 s) is killed and started again
HEALTHCHECK = 60


def main() -> None:
    import uvicorn

    from credence.settings import get_settings

    parser = argparse.ArgumentParser(prog="credence serve")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="credence-gate-") as shared:
        os.environ["CREDENCE_GATE_SHARED_DIR"] = shared
        if args.workers > 1:  # every worker's metrics in one place, for /metrics to add up
            folder = Path(shared) / "metrics"
            folder.mkdir()
            os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(folder)
        get_settings.cache_clear()
        uvicorn.run(
            APP,
            factory=True,
            host=args.host,
            port=args.port,
            workers=args.workers,
            log_level=get_settings().log_level.lower(),
            access_log=False,  # a gate logs no more than it must
            timeout_graceful_shutdown=5,
            timeout_worker_healthcheck=HEALTHCHECK,
        )


if __name__ == "__main__":
    main()
