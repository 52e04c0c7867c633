"""The subject's portal page: server time of ``GET /me`` for a subject with 200 records and 50
inquiries, against a page of the same server rendering a near-empty template (``GET /sign-in``:
the same stack, session lookup aside, and a form), in the same run.

Issue 12's goal: p99 under 50 ms. The registry is an SQLite file built through the real ingest
path (a JSON-lines feed and a mapping, then ``pipeline.update``): one Suzhou resident registered
since 2015 with 199 blood donations (so 200 records, the residence included), scored by the
shipped rulebooks. The gate (``create_app``) runs under uvicorn in a thread on loopback; 50 flight
checks of the resident are asked over HTTP with a provider key, so the inquiry log holds them;
a session is opened for the resident in the store (what signing in ends with). Each timed request
is one keep-alive ``GET`` on loopback, the two pages alternating; the time is the round trip,
within a fraction of a millisecond of the server's own time on loopback.

    .venv/bin/python benchmarks/portal.py --requests 30

Figures: BENCHMARKS.md, "The portal".
"""

import argparse
import json
import socket
import statistics
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import httpx
import uvicorn
from stdnum.cn import ric

from credence import resolve
from credence.accounts import sessions
from credence.accounts.sessions import Policy
from credence.api.app import create_app
from credence.ingest.loader import load_file
from credence.ingest.mapping import Fields, KindMap, Mapping
from credence.pipeline.update import update
from credence.rules.loader import shipped_schemes
from credence.screening import providers
from credence.settings import Settings
from credence.store.registry import open_registry

RECORDS, INQUIRIES = 200, 50


def mapping(source: str) -> Mapping:
    return Mapping(
        source=source,
        format="jsonl",
        file="feed.jsonl",
        fields=Fields(source_record_id="id", id_number="id_number", valid_date="date", jurisdiction="region"),
        kind=KindMap(column="kind", map={"blood_donation": "blood_donation", "residence": "residence"}),
        attributes={"volume_ml": "attrs.volume_ml", "region": "attrs.region", "status": "attrs.status"},
        legal_basis={"blood_donation": "benchmark basis", "residence": "benchmark basis"},
    )


def seed(tmp: Path) -> tuple[str, str]:
    url = f"sqlite:///{tmp / 'portal.db'}"
    engine = open_registry(url)
    body = "32050519810309411"
    number = body + ric.calc_check_digit(body + "0")  # stdnum reads the check place, whatever it holds
    rows = [{"kind": "residence", "date": "2015-01-01", "attrs": {"region": "320505", "status": "registered"}}]
    rows += [
        {
            "kind": "blood_donation",
            "date": f"{2016 + i // 20}-{1 + i % 12:02d}-{1 + i % 27:02d}",
            "attrs": {"volume_ml": 200},
        }
        for i in range(RECORDS - 1)
    ]
    now = datetime.now(UTC)
    touched: set[uuid.UUID] = set()
    for source, kind in (("police", "residence"), ("blood_bank", "blood_donation")):  # each agency its own feed
        feed = tmp / f"{source}.jsonl"
        with feed.open("w") as out:
            for row in rows:
                if row["kind"] == kind:
                    out.write(
                        json.dumps({"id": str(uuid.uuid4()), "id_number": number, "region": "320505", **row}) + "\n"
                    )
        touched |= set(load_file(engine, feed, mapping(source), now=now).subjects)
    update(engine, shipped_schemes(), subjects=touched, as_of=now.date(), now=now)
    engine.dispose()
    return url, number


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=30, help="timed requests of each page")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        url, number = seed(tmp)
        engine = open_registry(url)
        now = datetime.now(UTC)
        with engine.begin() as conn:
            key = providers.issue(conn, "bench-airline", ["flight"], rate=1000, actor="benchmark", now=now).key
            subject = resolve.find(conn, number)
            token = sessions.open_session(conn, kind="subject", subject=subject, now=now, policy=Policy()).token
        with socket.socket() as free:
            free.bind(("127.0.0.1", 0))
            port = free.getsockname()[1]
        server = uvicorn.Server(
            uvicorn.Config(create_app(Settings(database_url=url)), host="127.0.0.1", port=port, log_level="warning")
        )
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        while not server.started:
            time.sleep(0.05)
        base = f"http://127.0.0.1:{port}"
        try:
            with httpx.Client(base_url=base, timeout=60, cookies={"credence_session": token}) as client:
                for _ in range(INQUIRIES):
                    body = {"subject": number, "action": "flight"}
                    client.post("/v1/checks", json=body, headers={"Authorization": f"Bearer {key}"})
                time.sleep(0.5)  # the inquiry log flushes every 0.1 s
                page = client.get("/me")
                if page.status_code != 200 or page.text.count("<tr>") < RECORDS // 2:
                    raise SystemExit(f"the portal page is not the one expected: {page.status_code} {page.text[:300]}")
                for _ in range(3):  # warm: templates compiled, statements cached
                    client.get("/me")
                    client.get("/sign-in")
                portal, empty = [], []
                for _ in range(args.requests):
                    t = time.perf_counter()
                    client.get("/me")
                    portal.append((time.perf_counter() - t) * 1000)
                    t = time.perf_counter()
                    client.get("/sign-in")
                    empty.append((time.perf_counter() - t) * 1000)
        finally:
            server.should_exit = True
            thread.join(20)
            engine.dispose()
    p50, p99 = statistics.median(portal), percentile(portal, 0.99)
    b50, b99 = statistics.median(empty), percentile(empty, 0.99)
    print(f"portal /me ({RECORDS} records, {INQUIRIES} inquiries): p50 {p50:.1f} ms, p99 {p99:.1f} ms")
    print(f"near-empty page /sign-in:                 p50 {b50:.1f} ms, p99 {b99:.1f} ms")
    print(f"ratio p50 {p50 / b50:.0f}x, p99 {p99 / b99:.0f}x; goal p99 under 50 ms: {'met' if p99 < 50 else 'not met'}")
    sys.exit(0)


if __name__ == "__main__":
    main()
