"""Freshness of the gate: from a fulfilment (deletion) record accepted by ingest to the gate
answering ``allowed``, over many changes, with ``credence serve --workers 2``.

Issue 8's goal: p99 under 1 second over 1,000 changes, with 2 workers, on SQLite and PostgreSQL.

The registry is built through the real ingest path: a ``court.csv`` in the court's own format
(``connectors/court.yaml``) with one ground-1 listing (no end) per debtor, read by the ingest
job the CLI runs (``pipeline.feeds.load_feeds``, under the registry's writer lock), which scores
and lists them. A provider key is made with ``credence providers add`` and the gate started with
``credence serve --workers 2`` as a subprocess. Then, once per change, one ``DELETE`` row
(reason ``performed``, dated today) for the next debtor is appended to ``court.csv`` and the
same ingest job is run in this process: it reads only the new line (the file grew by
appending), commits the record and the relisting with its journal entry, and returns. That
return is time zero (the record is accepted and committed). Its number in the journal
(``measure_changes``) is read after the clock is taken.

When the gate "answers allowed". With two workers, each with its own index, a request lands on
either, and an answer does not say which worker gave it; so "the first ``allowed``" only shows
that one worker has followed. The figure reported (``both``) is the first moment at which the
gate's ``/metrics`` says the *oldest* live worker's index has applied the change's journal entry
(``credence_gate_index_version``, multiprocess mode ``livemin``). A worker sets that gauge right
after it swaps in the snapshot holding the change, and snapshots only move forward, so from that
moment every worker answers from a snapshot that holds the deletion: it is when the gate as a
whole answers allowed, late by at most one ``/metrics`` round trip (the time is taken when that
answer arrives). The loop alternates one ``POST /v1/checks`` and one ``GET /metrics``, each on a
fresh connection (as a crowd's requests spread over the workers); ``first`` is when the first
check answered ``allowed`` (one worker at least). After ``both``, five more checks must all
answer ``allowed``: one that does not is counted as a violation and fails the run. Answers that
went back to ``restricted`` after an ``allowed`` (the other worker not yet current) are counted
as ``flips``.

Baselines, measured in the same run against the same server: the round trip of one check on a
fresh connection (p50 and p99 of ``--probes`` checks of a listed debtor before the changes, after
``WARM`` untimed ones), which is the resolution of the measurement; and the index's poll
interval (``CREDENCE_GATE_INDEX_POLL``, 0.2 s by default), which bounds the wait for a poll by
design.
Printed: p50, p95, p99 and max of ``both`` (and p99 of ``first``), with ratios p99 / poll
interval and p99 / check round trip p99. The ingest job's own time per change is printed apart.
No ID numbers are printed.

    .venv/bin/python benchmarks/gate_freshness.py --store both --changes 1000
    .venv/bin/python benchmarks/gate_freshness.py --store sqlite --changes 100

PostgreSQL is the server at ``CREDENCE_BENCH_PG`` (default ``postgresql://postgres@127.0.0.1:5432/postgres``);
the run makes its own database and drops it. Figures: BENCHMARKS.md, "The gate", "Freshness".
"""

import argparse
import csv
import math
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import httpx
import psycopg
from sqlalchemy import Engine, text
from sqlalchemy.exc import SQLAlchemyError
from stdnum.cn import ric

from credence.ingest.mapping import load_mapping
from credence.lists import changes
from credence.model.time import legal_date
from credence.pipeline.feeds import load_feeds
from credence.rules.loader import group, shipped
from credence.settings import get_settings
from credence.store.lock import writer
from credence.store.registry import open_registry
from credence.synth.court import COLUMNS  # the court's file as the synthetic city writes it

BIN = Path(sys.executable).parent
ROOT = Path(__file__).resolve().parent.parent
KEY = re.compile(r"^cr_[0-9a-f]{10}_[A-Za-z0-9_-]{43}$", re.MULTILINE)
VERSION = re.compile(r"^credence_gate_index_version(?:\{[^}]*\})? ([0-9.e+-]+)$", re.MULTILINE)
COURT = "Suzhou Intermediate People's Court"
PG_ADMIN = os.environ.get("CREDENCE_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
WARM = 50  # checks before the baseline's, not timed
AFTER = 5  # checks after ``both`` that must all answer allowed
TIMEOUT = 30.0  # seconds a change may take to reach the gate before the run fails


def debtor(n: int) -> str:
    """The n-th debtor's resident ID (Suzhou, born in 1960 to 1999, a valid check character)."""
    body = f"320505{1960 + n % 40}{1 + n // 40 % 12:02d}{1 + n // 480 % 28:02d}{n // 13_440 + 100:03d}"
    return body + ric.calc_check_digit(body + "0")


def loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextmanager
def store(kind: str, tmp: Path) -> Iterator[str]:
    """A fresh, empty registry's URL: a SQLite file in ``tmp`` or a PostgreSQL database of its own."""
    if kind == "sqlite":
        yield f"sqlite:///{tmp / 'registry.db'}"
        return
    name = f"credence_bench_fresh_{os.getpid()}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {name}")
        admin.execute(f"CREATE DATABASE {name}")
    try:
        yield PG_ADMIN.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


class Court:
    """The court's feed file, appended to as the court sends documents, and the ingest job run on it."""

    def __init__(self, engine: Engine, folder: Path) -> None:
        self.engine = engine
        self.folder = folder
        self.path = folder / "court.csv"
        self.mappings = {"court": load_mapping(ROOT / "connectors" / "court.yaml")}
        self.schemes = group(shipped())
        self.rows = 0
        with self.path.open("w", newline="", encoding="utf-8") as handle:
            csv.writer(handle).writerow(COLUMNS)

    def append(self, rows: list[dict[str, str]]) -> None:
        with self.path.open("a", newline="", encoding="utf-8") as handle:
            out = csv.DictWriter(handle, COLUMNS, restval="")
            for row in rows:
                self.rows += 1
                out.writerow({"record_no": f"C{self.rows:07d}", "region": "", **row})

    def ingest(self) -> None:
        """The ingest job, as ``credence ingest`` runs it (the caller holds the writer lock)."""
        loaded = load_feeds(
            self.engine,
            self.folder,
            self.mappings,
            self.schemes,
            clock=lambda: datetime.now(UTC),
            as_of=lambda: legal_date(datetime.now(UTC)),
            batch=get_settings().ingest_batch,
        )
        bad = sum(r.quarantined for r in loaded.results)
        if bad or loaded.refused:
            raise SystemExit(f"ingest quarantined {bad} rows, refused {loaded.refused}")


def case(n: int) -> str:
    return f"(2025)苏05执{n + 1}号"


def listing(n: int) -> dict[str, str]:
    """The n-th debtor listed on 2025-06-01 on ground 1 (refusing to perform though able: no end)."""
    return {"doc_type": "LIST", "id_no": debtor(n), "case_no": case(n), "court_name": COURT,
            "decision_date": "20250601", "ground": "1", "full_security": "N"}  # fmt: skip


def deletion(n: int, day: str) -> dict[str, str]:
    """The n-th debtor's deletion from the list on ``day`` (YYYYMMDD): the debt was performed."""
    return {"doc_type": "DELETE", "id_no": debtor(n), "case_no": case(n), "decision_date": day, "reason": "performed"}


@dataclass
class Gate:
    """Requests to the gate, each on a new connection (no keep-alive: the kernel hands each one to
    either worker, as a crowd's requests are) from one client (a client per request would spend
    ~20 ms building its TLS context, coarsening the measurement)."""

    base: str
    key: str
    client: httpx.Client = field(
        default_factory=lambda: httpx.Client(limits=httpx.Limits(max_keepalive_connections=0), timeout=10)
    )

    def check(self, subject: str) -> str:
        body = {"subject": subject, "action": "flight"}
        headers = {"Authorization": f"Bearer {self.key}"}
        answer = self.client.post(f"{self.base}/v1/checks", json=body, headers=headers)
        if answer.status_code != 200:
            raise SystemExit(f"check answered {answer.status_code}: {answer.text}")
        decision: str = answer.json()["decision"]
        return decision

    def index_version(self) -> int:
        found = VERSION.search(self.client.get(f"{self.base}/metrics").text)
        if not found:
            raise SystemExit("no credence_gate_index_version in /metrics")
        return int(float(found.group(1)))


@contextmanager
def serve(url: str, tmp: Path, workers: int) -> Iterator[str]:
    port = free_port()
    env = {**os.environ, "CREDENCE_DATABASE_URL": url, "CREDENCE_LOG_LEVEL": "WARNING"}
    log = (tmp / "serve.log").open("w")
    cmd = [str(BIN / "credence"), "serve", "--port", str(port), "--workers", str(workers)]
    proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)  # noqa: S603
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while True:
            if proc.poll() is not None:
                raise SystemExit(f"credence serve exited: {(tmp / 'serve.log').read_text()}")
            try:
                if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit("credence serve did not become ready")
            time.sleep(0.2)
        yield base
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        log.close()


@dataclass
class Figures:
    both: list[float] = field(default_factory=list)
    first: list[float] = field(default_factory=list)
    ingest: list[float] = field(default_factory=list)
    probe: list[float] = field(default_factory=list)
    flips: int = 0
    violations: int = 0
    logged: int | None = None  # rows in the gate's inquiry log at the end (None: no such table)
    load_start: str = ""
    load_end: str = ""


def inquiries(engine: Engine) -> int | None:
    """Rows in the gate's inquiry log (table ``inquiries``, from migration 0007), so a run says
    whether the gate it measured was recording every check."""
    try:
        with engine.connect() as conn:
            return int(conn.execute(text("SELECT count(*) FROM inquiries")).scalar_one())
    except SQLAlchemyError:
        return None


def quantile(values: list[float], q: float) -> float:
    """The q-quantile by the nearest-rank method (p99 of 1,000 is the 990th smallest)."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = math.ceil(round(len(ordered) * q, 9))  # round: 1000 * 0.99 is not exactly 990 in floats
    return ordered[max(0, min(len(ordered), rank) - 1)]


def follow_one(gate: Gate, subject: str, seq: int, since: float, figures: Figures) -> None:
    first = None
    seen_allowed = False
    deadline = since + TIMEOUT
    while True:
        if time.perf_counter() > deadline:
            raise SystemExit(f"change {seq} not followed by both workers after {TIMEOUT} s")
        decision = gate.check(subject)
        if decision == "allowed":
            seen_allowed = True
            first = first if first is not None else time.perf_counter()
        elif seen_allowed:
            figures.flips += 1
        if gate.index_version() >= seq:
            both = time.perf_counter()
            break
    for _ in range(AFTER):
        if gate.check(subject) != "allowed":
            figures.violations += 1
    figures.both.append(both - since)
    figures.first.append((first if first is not None else both) - since)


def issue_key(url: str) -> str:
    """``credence providers add``; the key it prints once."""
    env = {**os.environ, "CREDENCE_DATABASE_URL": url}
    cmd = [str(BIN / "credence"), "providers", "add", "bench-fresh", "--actions", "flight", "--rate", "100000/s"]
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True).stdout  # noqa: S603 - our own
    found = KEY.search(out)
    if not found:
        raise SystemExit(f"no key in: {out}")
    return found.group(0)


def run(kind: str, people: int, count: int, workers: int, probes: int) -> Figures:
    figures = Figures()
    lock = "benchmarks/gate_freshness.py"
    with tempfile.TemporaryDirectory(prefix="credence-fresh-") as name, store(kind, Path(name)) as url:
        tmp = Path(name)
        (tmp / "feeds").mkdir()
        engine = open_registry(url)
        try:
            court = Court(engine, tmp / "feeds")
            court.append([listing(n) for n in range(people)])
            started = time.perf_counter()
            with writer(engine, command=lock, wait=60):
                court.ingest()
            print(f"[{kind}] {people:,} debtors listed through ingest in {time.perf_counter() - started:.1f} s")
            gate_key = issue_key(url)  # takes the writer lock itself
            with serve(url, tmp, workers) as base, writer(engine, command=lock, wait=60):
                gate = Gate(base, gate_key)
                for _ in range(WARM):  # each worker's first answers are slow (lazy imports, first queries)
                    gate.check(debtor(people - 1))
                for _ in range(probes):  # the baseline: one check's round trip, a listed debtor
                    t = time.perf_counter()
                    if gate.check(debtor(people - 1)) != "restricted":
                        raise SystemExit("a listed debtor was not restricted")
                    figures.probe.append(time.perf_counter() - t)
                figures.load_start = loadavg()
                today = legal_date(datetime.now(UTC)).strftime("%Y%m%d")
                for n in range(count):
                    court.append([deletion(n, today)])
                    t = time.perf_counter()
                    court.ingest()
                    since = time.perf_counter()
                    figures.ingest.append(since - t)
                    with engine.connect() as conn:
                        seq = changes.newest(conn)
                    follow_one(gate, debtor(n), seq, since, figures)
                    if (n + 1) % 100 == 0:
                        print(f"[{kind}] {n + 1} changes, p99 so far {quantile(figures.both, 0.99):.3f} s")
                figures.load_end = loadavg()
                gate.client.close()
            figures.logged = inquiries(engine)  # the server has stopped: its log is flushed
        finally:
            engine.dispose()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--store", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--changes", type=int, default=1000)
    parser.add_argument("--people", type=int, default=None, help="debtors listed (default: changes + 10)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--probes", type=int, default=200, help="checks timed for the round-trip baseline")
    args = parser.parse_args()
    people = args.people if args.people is not None else args.changes + 10
    if people < args.changes + 1:
        raise SystemExit("--people must exceed --changes (one debtor stays listed for the baseline)")
    poll = get_settings().gate_index_poll
    kinds = ["sqlite", "postgres"] if args.store == "both" else [args.store]
    print(f"loadavg at start: {loadavg()}; {os.cpu_count()} cores; index poll {poll} s")
    results = {kind: run(kind, people, args.changes, args.workers, args.probes) for kind in kinds}
    print()
    print("store    workers changes  p50 s  p95 s  p99 s  max s  first p99  check p50/p99 ms  p99/poll  p99/check  "
          "ingest p50 ms  flips viol  load start -> end")  # fmt: skip
    for kind, f in results.items():
        p99, rt99 = quantile(f.both, 0.99), quantile(f.probe, 0.99)
        print(
            f"{kind:8} {args.workers:7} {len(f.both):7} {quantile(f.both, 0.5):6.3f} {quantile(f.both, 0.95):6.3f} "
            f"{p99:6.3f} {max(f.both):6.3f} {quantile(f.first, 0.99):10.3f} "
            f"{statistics.median(f.probe) * 1000:7.1f}/{rt99 * 1000:<7.1f}  {p99 / poll:8.2f} {p99 / rt99:10.1f}  "
            f"{statistics.median(f.ingest) * 1000:13.1f} {f.flips:6} {f.violations:4}  {f.load_start} -> {f.load_end}"
        )
    for kind, f in results.items():
        print(f"{kind}: inquiry log {'absent' if f.logged is None else f'{f.logged:,} rows'}")
    print(f"loadavg at end: {loadavg()}")
    if any(f.violations for f in results.values()):
        raise SystemExit("a check answered restricted after both workers had followed the change")


if __name__ == "__main__":
    main()
