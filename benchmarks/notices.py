"""Notices: how fast the worker delivers the outbox, and how soon a listing's notice reaches the
mail server. Issue 9's goals: notices per second at least 0.5 of raw ``smtplib`` sends of the
same messages to the same server in the same run; from a listing decision accepted to its
notice delivered to the SMTP server, p99 under 5 seconds with the worker running.

The mail server is ``credence catcher`` (aiosmtpd filing each mail in a Maildir) in a process of
its own, so it does not share this process's interpreter with the worker being measured.

``throughput``: ``--people`` residents, each with an email address from the police feed (the
real ingest path); per round, one listing notice per resident is written to the outbox, then
either the worker delivers them (``pipeline.worker.run`` in this process, ``--once``: claim,
render, send over one kept SMTP connection, settle, ``CREDENCE_WORKER_BATCH`` at a time) or the
baseline sends the same messages (rendered beforehand, untimed) with ``smtplib`` over one
connection, nothing else. Rounds alternate the two so the machine's noise falls on both.

``latency``: ``credence worker`` runs as a process; once per change, one listing decision
(``LIST``, ground 1) for the next debtor is appended to ``court.csv`` and the ingest job run in
this process (``pipeline.feeds.load_feeds``: the record, the listing, its measures and their
notices in the job's transactions). Its return is time zero. The mail's arrival is the
modification time of the file the server wrote for it (found afterwards by the notice's id, the
mail's ``X-Credence-Notice`` header). Printed: p50, p99, max, and p99 against the goal.

    .venv/bin/python benchmarks/notices.py throughput --people 2000 --rounds 3
    .venv/bin/python benchmarks/notices.py latency --changes 50
    .venv/bin/python benchmarks/notices.py latency --changes 50 --store postgres

Figures: BENCHMARKS.md, "Notices".
"""

import argparse
import csv
import email
import email.policy
import json
import mailbox
import os
import signal
import smtplib
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from email.header import Header
from email.mime.text import MIMEText
from pathlib import Path

import psycopg
from sqlalchemy import Engine, select
from stdnum.cn import ric

from credence import resolve
from credence.dueprocess.channels import Mail, message_id
from credence.dueprocess.delivery import Channels
from credence.dueprocess.render import render
from credence.ingest.loader import load_file
from credence.ingest.mapping import load_mapping
from credence.model.time import legal_date
from credence.outbox import Notice, NoticeKind, enqueue
from credence.outbox.claims import Retry
from credence.pipeline.feeds import load_feeds
from credence.pipeline.worker import Plan, run
from credence.rules.loader import group, shipped
from credence.store.orm import Notice as NoticeRow
from credence.store.orm import Subject
from credence.store.registry import open_registry
from credence.synth.court import COLUMNS

BIN = Path(sys.executable).parent
ROOT = Path(__file__).resolve().parent.parent
PG_ADMIN = os.environ.get("CREDENCE_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
SENDER = "notices@registry.bench"
COURT = "Suzhou Intermediate People's Court"
GOAL = 5.0  # seconds, p99 from decision to mail server
FACTS = {  # a listing notice as lists.notices writes one
    "record_id": "3f1c0b7e-0000-4000-8000-000000000000",
    "source_record_id": "C0000001",
    "valid_date": "2025-06-01",
    "source": "court",
    "source_name": "人民法院执行局",
    "source_name_en": "People's Courts, enforcement bureaus",
    "listing_id": "3f1c0b7e-0000-4000-8000-000000000001",
    "list": "dishonest-judgment-defaulters",
    "rulebook": "national-defaulters",
    "rulebook_version": "2017.1",
    "legal_basis": "SPC Provisions on Publishing the List of Dishonest Judgment Defaulters, Fa Shi [2017] No. 7",
    "role": "subject",
    "ground": 1,
    "case_number": "(2025)苏05执1号",
    "court": COURT,
    "start": "2025-06-01",
    "end": None,
    "reason": None,
}


def person(n: int) -> str:
    body = f"320505{1950 + n % 50}{1 + n // 50 % 12:02d}{1 + n // 600 % 28:02d}{n // 16_800 + 100:03d}"
    return body + ric.calc_check_digit(body + "0")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextmanager
def store(kind: str, tmp: Path) -> Iterator[str]:
    if kind == "sqlite":
        yield f"sqlite:///{tmp / 'registry.db'}"
        return
    name = f"credence_bench_notices_{os.getpid()}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {name}")
        admin.execute(f"CREATE DATABASE {name}")
    try:
        yield PG_ADMIN.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@contextmanager
def catcher(tmp: Path) -> Iterator[tuple[str, Path]]:
    """``credence catcher`` as a process: its SMTP URL and Maildir."""
    port, folder = free_port(), tmp / "mail"
    args = [str(BIN / "credence"), "catcher", "--maildir", str(folder), "--sms-log", str(tmp / "sms.jsonl")]
    args += ["--smtp-port", str(port), "--sms-port", str(free_port())]
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)  # noqa: S603
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with smtplib.SMTP("127.0.0.1", port, timeout=2) as probe:
                probe.noop()
            break
        except OSError:
            time.sleep(0.1)
    else:
        raise SystemExit("the catcher did not start")
    try:
        yield f"smtp://127.0.0.1:{port}", folder
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=30)


def with_contacts(engine: Engine, tmp: Path, people: int) -> list[object]:
    """``people`` residents with an email address, loaded as the police feed's contact records."""
    path = tmp / "police.jsonl"
    with path.open("w", encoding="utf-8") as out:
        for n in range(people):
            row = {"event_id": f"PSB-C{n:08d}", "citizen_id": person(n), "type": "contact", "date": "2024-01-10",
                   "place": "320505", "details": {"email": f"r{n:09d}@example.com"}}  # fmt: skip
            out.write(json.dumps(row) + "\n")
    mapping = load_mapping(ROOT / "connectors" / "police.yaml")
    result = load_file(engine, path, mapping, now=datetime.now(UTC))
    if result.quarantined:
        raise SystemExit(f"{result.quarantined} contact rows quarantined")
    with engine.connect() as conn:
        return list(conn.scalars(select(Subject.id)))


def one_round_of_notices(engine: Engine, subjects: list[object]) -> list[object]:
    notices = [Notice(subject=s, kind=NoticeKind.LISTING_START, facts=FACTS) for s in subjects]  # type: ignore[arg-type]
    now = datetime.now(UTC)
    with engine.begin() as conn:
        return list(enqueue(conn, notices, now=now))


def bare(smtp: str, ids: list[object], addresses: list[str]) -> float:
    """Seconds for smtplib to send the same messages over one connection (built beforehand)."""
    messages = []
    for notice, to in zip(ids, addresses, strict=True):
        text = render(id=notice, kind="listing_start", facts=FACTS, respond_by=None, created_at=datetime.now(UTC))  # type: ignore[arg-type]
        message = MIMEText(text.text, "plain", "utf-8")
        message["From"], message["To"], message["Subject"] = SENDER, to, Header(text.subject, "utf-8").encode()
        message["Message-ID"] = message_id(notice, "registry.bench")  # type: ignore[arg-type]
        messages.append((to, message.as_string()))
    host, port = smtp.removeprefix("smtp://").split(":")
    started = time.perf_counter()
    with smtplib.SMTP(host, int(port), timeout=10) as client:
        for to, raw in messages:
            client.sendmail(SENDER, [to], raw)
    return time.perf_counter() - started


def throughput(kind: str, people: int, rounds: int, batch: int) -> None:
    with tempfile.TemporaryDirectory(prefix="credence-bench-notices-") as folder, store(kind, Path(folder)) as url:
        tmp = Path(folder)
        engine = open_registry(url)
        subjects = with_contacts(engine, tmp, people)
        addresses = [f"r{n:09d}@example.com" for n in range(people)]
        plan = Plan(poll=0.05, lease=timedelta(seconds=300), batch=batch, retry=Retry())
        ratios = []
        with catcher(tmp) as (smtp, _maildir):
            for r in range(rounds):
                ids = one_round_of_notices(engine, subjects)
                channels = Channels(email=Mail(smtp, sender=SENDER))
                started = time.perf_counter()
                totals = run(engine, channels, stop=threading.Event(), plan=plan, once=True)
                worker_s = time.perf_counter() - started
                channels.close()
                if totals.delivered != people:
                    raise SystemExit(f"the worker delivered {totals.delivered} of {people}")
                bare_s = bare(smtp, ids, addresses)
                worker_rate, bare_rate = people / worker_s, people / bare_s
                ratios.append(worker_rate / bare_rate)
                print(f"round {r + 1}: worker {worker_rate:,.0f}/s, smtplib {bare_rate:,.0f}/s, "
                      f"ratio {worker_rate / bare_rate:.2f}")  # fmt: skip
        engine.dispose()
    print(f"{kind}: {people:,} notices a round, batch {batch}: worker/smtplib median {statistics.median(ratios):.2f} "
          f"(range {min(ratios):.2f} to {max(ratios):.2f}; goal 0.5)")  # fmt: skip


def latency(kind: str, changes: int, people: int) -> None:
    with tempfile.TemporaryDirectory(prefix="credence-bench-notices-") as folder, store(kind, Path(folder)) as url:
        tmp = Path(folder)
        engine = open_registry(url)
        with_contacts(engine, tmp, people)
        feeds = tmp / "feeds"
        feeds.mkdir()
        court = feeds / "court.csv"
        with court.open("w", newline="", encoding="utf-8") as handle:
            csv.writer(handle).writerow(COLUMNS)
        mappings = {"court": load_mapping(ROOT / "connectors" / "court.yaml")}
        schemes = group(shipped())
        zero: dict[str, float] = {}
        with catcher(tmp) as (smtp, maildir):
            env = {**os.environ, "CREDENCE_DATABASE_URL": url, "CREDENCE_SMTP_URL": smtp, "CREDENCE_MAIL_FROM": SENDER}
            worker = subprocess.Popen([str(BIN / "credence"), "worker"], env=env, stdout=subprocess.PIPE,  # noqa: S603
                                      stderr=subprocess.PIPE)  # fmt: skip
            time.sleep(3)  # the worker's start-up is not a notice's latency
            for n in range(changes):
                with court.open("a", newline="", encoding="utf-8") as handle:
                    row = {"record_no": f"C{n:07d}", "region": "", "doc_type": "LIST", "id_no": person(n),
                           "case_no": f"(2025)苏05执{n + 1}号", "court_name": COURT, "decision_date": "20250601",
                           "ground": "1", "full_security": "N"}  # fmt: skip
                    csv.DictWriter(handle, COLUMNS, restval="").writerow(row)
                load_feeds(engine, feeds, mappings, schemes, clock=lambda: datetime.now(UTC),
                           as_of=lambda: legal_date(datetime.now(UTC)), batch=5000)  # fmt: skip
                zero[person(n)] = time.time()
                time.sleep(0.2)  # decisions arrive one by one, not as a batch
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and arrived(maildir) < expected(engine):
                time.sleep(0.2)
            worker.send_signal(signal.SIGTERM)
            worker.communicate(timeout=60)
        waits = sorted(waits_of(engine, maildir, zero))
        engine.dispose()
    if len(waits) < changes:
        raise SystemExit(f"only {len(waits)} of {changes} listing notices arrived")
    p99 = waits[min(len(waits) - 1, int(0.99 * len(waits)))]
    print(f"{kind}: {changes} listing decisions, decision -> mail server: p50 {statistics.median(waits):.2f} s, "
          f"p99 {p99:.2f} s, max {waits[-1]:.2f} s; p99 / goal {p99 / GOAL:.2f} (goal 5 s)")  # fmt: skip


def arrived(maildir: Path) -> int:
    return len(os.listdir(maildir / "new")) if (maildir / "new").exists() else 0


def expected(engine: Engine) -> int:
    with engine.connect() as conn:
        return len(conn.execute(select(NoticeRow.id)).all())


def waits_of(engine: Engine, maildir: Path, zero: dict[str, float]) -> Iterator[float]:
    """Each listing notice's arrival (its mail file's mtime) less its decision's time zero."""
    with engine.connect() as conn:
        subject_of = {resolve.find(conn, number): number for number in zero}
        rows = conn.execute(select(NoticeRow.id, NoticeRow.subject_id).where(NoticeRow.kind == "listing_start"))
        listing_notice = {str(r.id): subject_of[r.subject_id] for r in rows if r.subject_id in subject_of}
    for key, message in mailbox.Maildir(maildir, create=False).iteritems():
        notice = str(email.message_from_bytes(message.as_bytes(), policy=email.policy.default)["X-Credence-Notice"])
        if notice in listing_notice:
            path = maildir / "new" / key
            yield path.stat().st_mtime - zero[listing_notice.pop(notice)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("mode", choices=["throughput", "latency"])
    parser.add_argument("--store", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--people", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--batch", type=int, default=200)
    parser.add_argument("--changes", type=int, default=50)
    args = parser.parse_args()
    load = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    print(f"load average before the run: {load}")
    if args.mode == "throughput":
        throughput(args.store, args.people, args.rounds, args.batch)
    else:
        latency(args.store, args.changes, min(args.people, args.changes))


if __name__ == "__main__":
    main()
