"""``python -m credence.api --host H --port P --workers N [--server granian|uvicorn]``: the
server (granian by default, or uvicorn) serving ``create_app``.

``credence serve`` replaces itself with this (after migrating the store), so the supervisor and
its workers import the gate alone, not the whole CLI: both servers start workers by spawning fresh
interpreters that import the app again. The workers share a private temporary folder (rate-limit
buckets, and their Prometheus metrics when there are several), removed on exit.

granian is the default: under the load test (BENCHMARKS.md, "The gate") it answered more checks
per second than uvicorn with two workers and had the lower p99 with one, since it reads and
writes HTTP in threads of its own beside the Python one; uvicorn stays a choice.
"""

import argparse
import os
import secrets
import tempfile
from pathlib import Path

APP = "credence.api.app:create_app"
# seconds a starting worker may take to answer its supervisor: importing the app takes seconds on
# a busy machine, and a worker that misses uvicorn's default (5 s) is killed and started again
HEALTHCHECK = 60


SERVERS = ("granian", "uvicorn")


def main() -> None:
    from credence.settings import get_settings

    parser = argparse.ArgumentParser(prog="credence serve")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--server", choices=SERVERS, default=SERVERS[0])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="credence-gate-") as shared:
        os.environ["CREDENCE_GATE_SHARED_DIR"] = shared
        if args.workers > 1:  # every worker's metrics in one place, for /metrics to add up
            folder = Path(shared) / "metrics"
            folder.mkdir()
            os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(folder)
        get_settings.cache_clear()
        if get_settings().sign_in_key is None:  # one key for every worker: a code booked by one is checked by another
            os.environ["CREDENCE_SIGN_IN_KEY"] = secrets.token_hex(32)
            get_settings.cache_clear()
        level = get_settings().log_level.lower()
        if args.server == "granian":
            run_granian(args.host, args.port, args.workers, level)
        else:
            run_uvicorn(args.host, args.port, args.workers, level)


def run_granian(host: str, port: int, workers: int, level: str) -> None:
    from granian import Granian
    from granian.constants import Interfaces
    from granian.log import LogLevels

    server = Granian(
        APP,
        factory=True,
        address=host,
        port=port,
        workers=workers,
        interface=Interfaces.ASGI,
        log_level=LogLevels(level),
        log_access=False,  # a gate logs no more than it must
        workers_kill_timeout=5,
    )
    server.serve()


def run_uvicorn(host: str, port: int, workers: int, level: str) -> None:
    import uvicorn

    uvicorn.run(
        APP,
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level=level,
        access_log=False,  # a gate logs no more than it must
        timeout_graceful_shutdown=5,
        timeout_worker_healthcheck=HEALTHCHECK,
    )


if __name__ == "__main__":
    main()
