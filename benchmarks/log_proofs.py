"""Inclusion-proof requests per second over HTTP, under wrk on loopback, against ``/healthz`` of
the same server in the same run (the cost of serving any request at all), on the log that
``log_verify.py`` builds (a million entries by default; built when missing).

Each request asks for a random leaf's proof in the tree of the latest checkpoint: about 20
node reads from the store and one leaf. Needs wrk (Debian: ``apt-get install -y wrk``); the
load generator shares the 2 cores with the server.

    .venv/bin/python benchmarks/log_proofs.py [--events 1000000] [--cache DIR] [--duration S]
"""

import argparse
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
from gate_http import command, free_port, wrk
from log_verify import build
from sqlalchemy import func, select

from credence.store.orm import Checkpoint

LUA = """
math.randomseed(7)
request = function()
  return wrk.format(nil, "/v1/log/proof/inclusion?index=" .. math.random(0, %d - 1) .. "&size=%d")
end
"""
HEALTH = 'request = function() return wrk.format(nil, "/healthz") end\n'


def measure(env: dict[str, str], script: Path, duration: int, workers: int) -> dict[str, float]:
    port = free_port()
    proc = subprocess.Popen(command("uvicorn", "gate", port, workers), env=env, start_new_session=True)  # noqa: S603
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline or proc.poll() is not None:
                raise SystemExit("the gate did not start")
            time.sleep(0.3)
        wrk(port, script, 2)  # warm-up
        return wrk(port, script, duration)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--cache", type=Path, default=Path("/tmp/credence-bench-log"))  # noqa: S108 - a benchmark's scratch
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("needs wrk: apt-get install -y wrk")
    engine, _ = build(args.cache, args.events, False)
    with engine.connect() as conn:
        size = int(conn.execute(select(func.max(Checkpoint.size))).scalar_one())
    engine.dispose()
    env = {
        **os.environ,
        "CREDENCE_DATABASE_URL": f"sqlite:///{args.cache.resolve() / 'log.db'}",
        "CREDENCE_DATA_DIR": str(args.cache.resolve() / "data"),
        "CREDENCE_LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(Path(__file__).resolve().parent),
    }
    proofs, health = args.cache / "proofs.lua", args.cache / "health.lua"
    proofs.write_text(LUA % (size, size))
    health.write_text(HEALTH)
    print(f"tree of {size:,} leaves; uvicorn, {args.workers} worker(s); wrk -t2 -c64 on the same 2 cores", flush=True)
    got = {
        name: measure(env, script, args.duration, args.workers)
        for name, script in (("healthz", health), ("proofs", proofs))
    }
    for name, r in got.items():
        print(
            f"  {name:8} {r['rps']:8.0f} req/s  p50 {r['p50']:6.2f} ms  p99 {r['p99']:6.2f} ms"
            f"  non-2xx {r['non2xx']:.0f}"
        )
    print(
        f"ratio proofs/healthz {got['proofs']['rps'] / max(got['healthz']['rps'], 1):.2f};"
        f" loadavg {os.getloadavg()[0]:.1f}"
    )
    sys.stdout.flush()


if __name__ == "__main__":
    main()
