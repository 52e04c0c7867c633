"""HTTP checks per second and p50/p99 of the gate under wrk on loopback, against a bare FastAPI
endpoint (``bare_app.py``) served by the same server with the same settings in the same run.

Issue 8's goal: gate >= 0.7 of the bare requests/s and gate p99 <= 1.5 times the bare p99.
Needs wrk (Debian: ``apt-get install -y wrk``). The load generator shares the machine's cores
with the server: say so with the figures. A run with any non-2xx answer is invalid.

    .venv/bin/python benchmarks/gate_http.py [--people N] [--duration S] [--workers 1,2]
        [--server uvicorn,uvicorn-h11,granian] [--cache DIR] [--rebuild]

The registry, its feeds and the provider key are kept in ``--cache`` and reused (cheap re-runs).
Figures and what they mean: BENCHMARKS.md, "The gate".
"""

import argparse
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

BIN = Path(sys.executable).parent
HERE = Path(__file__).resolve().parent
KEY = re.compile(r"^cr_[0-9a-f]{10}_[A-Za-z0-9_-]{43}$", re.MULTILINE)
LUA = """
bodies = {%s}
n = 0
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer %s"
request = function()
  n = n %% #bodies + 1
  return wrk.format(nil, "/v1/checks", nil, bodies[n])
end
"""


def run(cmd: list[str], env: dict[str, str]) -> str:
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True)  # noqa: S603 - our own commands
    return done.stdout


def build(cache: Path, people: int, rebuild: bool) -> tuple[dict[str, str], str]:
    env = {
        **os.environ,
        "CREDENCE_DATABASE_URL": f"sqlite:///{cache / 'registry.db'}",
        "CREDENCE_DATA_DIR": str(cache / "data"),
        "CREDENCE_LOG_LEVEL": "WARNING",
    }
    key_file = cache / "key.txt"
    if rebuild and cache.exists():
        shutil.rmtree(cache)
    if not key_file.exists():
        cache.mkdir(parents=True, exist_ok=True)
        run([str(BIN / "credence"), "generate", "--people", str(people)], env)
        run([str(BIN / "credence"), "ingest"], env)
        out = run(
            [
                str(BIN / "credence"),
                "providers",
                "add",
                "bench",
                "--actions",
                "flight,rail_ticket",
                "--rate",
                "1000000/s",
            ],
            env,
        )
        found = KEY.search(out)
        if not found:
            raise SystemExit(f"no key in: {out}")
        key_file.write_text(found.group(0))
    return env, key_file.read_text().strip()


def ids(env: dict[str, str], share: float | None, count: int, seed: int) -> tuple[list[str], float]:
    """ID numbers, a ``share`` of them listed (default: the city's own share)."""
    os.environ["CREDENCE_DATABASE_URL"] = env["CREDENCE_DATABASE_URL"]
    sys.path.insert(0, str(HERE))
    from check import people  # the same listed/unlisted split as benchmarks/check.py

    from credence.store.registry import open_registry

    now = __import__("datetime").datetime.now(__import__("datetime").UTC)
    with open_registry(env["CREDENCE_DATABASE_URL"]).connect() as conn:
        listed, unlisted = people(conn, listed=True, day=now), people(conn, listed=False, day=now)
    share = share if share is not None else len(listed) / (len(listed) + len(unlisted))
    chooser = random.Random(seed)
    return [chooser.choice(listed if chooser.random() < share else unlisted) for _ in range(count)], share


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def command(server: str, target: str, port: int, workers: int) -> list[str]:
    app = "credence.api.app:create_app" if target == "gate" else "bare_app:create_app"
    if server.startswith("uvicorn"):  # uvicorn: httptools and uvloop when installed; uvicorn-h11: never
        pure = ["--http", "h11", "--loop", "asyncio"] if server == "uvicorn-h11" else []
        return [str(BIN / "uvicorn"), app, "--factory", "--port", str(port), "--workers", str(workers),
                "--no-access-log", "--log-level", "warning", *pure]  # fmt: skip
    return [str(BIN / "granian"), "--interface", "asgi", "--factory", "--port", str(port), "--workers",
            str(workers), "--no-access-log", "--log-level", "warning", app]  # fmt: skip


def wrk(port: int, script: Path, duration: int) -> dict[str, float]:
    out = subprocess.run(  # noqa: S603
        ["wrk", "-t2", "-c64", f"-d{duration}s", "--latency", "-s", str(script), f"http://127.0.0.1:{port}"],  # noqa: S607
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    unit = {"us": 0.001, "ms": 1.0, "s": 1000.0}

    def ms(p: str) -> float:
        m = re.search(rf"^\s+{p}%\s+([\d.]+)(us|ms|s)$", out, re.MULTILINE)
        return float(m.group(1)) * unit[m.group(2)] if m else float("nan")

    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    done = re.search(r"(\d+) requests in", out)
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errors = re.search(r"Socket errors:.*", out)
    return {"rps": float(rps.group(1)) if rps else 0.0, "p50": ms("50"), "p99": ms("99"),
            "requests": float(done.group(1)) if done else 0.0,
            "non2xx": float(bad.group(1)) if bad else 0.0, "socket_errors": 1.0 if errors else 0.0}  # fmt: skip


def cpu_seconds(group: int) -> float:
    """User and system CPU seconds of every live process in process group ``group`` (the server
    and its workers): CPU per request holds on a busy machine where requests per second do not."""
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # the process ended meanwhile
            continue
        if int(fields[2]) == group:  # after the name: state, ppid, pgrp, ...; utime and stime at 11 and 12
            total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def measure(
    server: str, target: str, workers: int, env: dict[str, str], script: Path, duration: int
) -> dict[str, float]:
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="credence-gate-") as shared:
        env = {**env, "CREDENCE_GATE_SHARED_DIR": shared, "PYTHONPATH": str(HERE)}
        if workers > 1:
            (Path(shared) / "metrics").mkdir()
            env["PROMETHEUS_MULTIPROC_DIR"] = str(Path(shared) / "metrics")
        proc = subprocess.Popen(command(server, target, port, workers), env=env, start_new_session=True)  # noqa: S603
        try:
            deadline = time.monotonic() + 120
            while True:
                try:
                    if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise SystemExit(f"{server} {target} did not start")
                time.sleep(0.3)
            wrk(port, script, 2)  # warm-up
            before = cpu_seconds(proc.pid)
            got = wrk(port, script, duration)
            got["cpu_us"] = (cpu_seconds(proc.pid) - before) / max(got["requests"], 1) * 1e6
            return got
        finally:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--people", type=int, default=20_000)
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--workers", default="1,2")
    parser.add_argument("--server", default="uvicorn,granian")
    parser.add_argument("--cache", type=Path, default=Path(".cache/gate_http"))
    parser.add_argument("--rebuild", action="store_true")
    parser.add_argument("--listed-share", type=float, default=None)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("needs wrk: apt-get install -y wrk")
    print("loadavg at start:", Path("/proc/loadavg").read_text().strip())
    env, key = build(args.cache.resolve(), args.people, args.rebuild)
    numbers, share = ids(env, args.listed_share, 2000, seed=1)
    bodies = ",".join(json.dumps(json.dumps({"subject": n, "action": "flight"})) for n in numbers)
    script = args.cache.resolve() / "checks.lua"
    script.write_text(LUA % (bodies, key))
    print(f"{len(numbers)} bodies, listed share {share:.4f}; wrk -t2 -c64 on the same 2 cores")
    print("server      workers target  req/s     p50 ms  p99 ms  non2xx  server CPU us/req")
    for server in args.server.split(","):
        for workers in map(int, args.workers.split(",")):
            got = {t: measure(server, t, workers, env, script, args.duration) for t in ("bare", "gate")}
            for t, r in got.items():
                print(
                    f"{server:11} {workers:7} {t:6} {r['rps']:9.0f} {r['p50']:7.2f} {r['p99']:7.2f} {r['non2xx']:6.0f}"
                    f"  {r['cpu_us']:7.0f}"
                )
            print(f"  ratios: rps gate/bare {got['gate']['rps'] / max(got['bare']['rps'], 1):.3f}, "
                  f"CPU per request bare/gate {got['bare']['cpu_us'] / max(got['gate']['cpu_us'], 1e-9):.3f}, "
                  f"p99 gate/bare {got['gate']['p99'] / got['bare']['p99']:.2f}; "
                  f"loadavg {Path('/proc/loadavg').read_text().split()[0]}")  # fmt: skip
    print("loadavg at end:", Path("/proc/loadavg").read_text().strip())


if __name__ == "__main__":
    main()
