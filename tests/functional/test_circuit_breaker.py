"""The mass-listing circuit breaker: a source's adverse records beyond its published thresholds
are held for review, not applied; the gate keeps answering allowed; an officer releases (the
rows apply with their own valid time and a new transaction time) or rejects them. On both stores,
through the real ingest path, the CLI and the gate over HTTP."""

import csv
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from credence.exc import CredenceError
from credence.ingest.loader import replay
from credence.ingest.mapping import load_mappings
from credence.ingest.quarantine import held
from credence.model.catalogue import Polarity, default_catalogue
from credence.model.thresholds import parse
from credence.pipeline import rebuild
from credence.pipeline.feeds import release_held
from credence.screening.check import check
from credence.store.orm import Event, Hold, Listing, Quarantine, Record
from credence.store.registry import catalogue
from tests.common.feeds import SCHEMES, Registry, mapping_for, person_id
from tests.common.gate import add_provider, credence, serve
from tests.common.state import differences, snapshot

ROOT = Path(__file__).resolve().parents[2]
CREDENCE = Path(sys.executable).parent / "credence"
DECIDED = "2026-11-20"
MAPPINGS = {s: mapping_for(s) for s in ("court", "police")}
CITY = 1000  # residents: the shipped min_population, so the share threshold counts
COURT_COLUMNS = [
    "record_no",
    "id_no",
    "decision_date",
    "region",
    "doc_type",
    "case_no",
    "court_name",
    "ground",
    "performance",
    "full_security",
    "seized_covers",
    "not_yet_due",
    "legal_rep_id",
    "principal_id",
    "controller_id",
    "ext_years",
    "reason",
    "exempt_action",
    "amount",
]


def resident(i: int) -> str:
    return person_id(date(1950 + i % 50, 1 + i % 12, 1 + i % 28), seq=i % 1000)


RESIDENTS = [resident(i) for i in range(CITY)]


def city(engine: Engine, tmp: Path) -> Registry:
    """A registry of CITY residents registered in Suzhou (police residence records), no one listed."""
    reg = Registry(engine, tmp)
    residence = {"kind": "residence", "date": "2015-01-01", "attrs": {"region": "320505", "status": "registered"}}
    reg.feed("police", [{"id": f"H-{i}", "id_number": p, **residence} for i, p in enumerate(RESIDENTS)])
    return reg


def decision(i: int, number: str) -> dict[str, Any]:
    attrs = {"case_number": f"(2026)苏05执{i}号", "court": "Suzhou Intermediate People's Court", "ground": 1}
    kind = "defaulter_listing_decision"
    return {"id": f"L-{i}", "id_number": number, "kind": kind, "date": DECIDED, "region": "", "attrs": attrs}


def restricted(engine: Engine, number: str, *, at: datetime, known_at: datetime | None = None) -> bool:
    with engine.connect() as conn:
        return check(conn, number, "flight", at=at, known_at=known_at).outcome == "restricted"


def tags(engine: Engine) -> list[tuple[str, dict[str, Any]]]:
    with engine.connect() as conn:
        rows = conn.execute(select(Event.tag, Event.data).where(Event.tag.like("breaker.%")).order_by(Event.seq))
        return [(tag, data) for tag, data in rows]


def count(engine: Engine, table: Any, *where: Any) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table).where(*where)).scalar_one())


def test_a_court_listing_every_resident_lists_nobody(engine: Engine, tmp_path: Path) -> None:
    reg = city(engine, tmp_path)
    everyone = reg.feed("court", [decision(i, p) for i, p in enumerate(RESIDENTS)])

    assert (everyone.accepted, everyone.held, everyone.hold) == (0, CITY, 1)
    assert everyone.tripped is not None
    assert "share threshold of 5.0%" in everyone.tripped
    assert count(engine, Record, Record.source_id == "court") == 0
    assert count(engine, Listing) == 0
    assert not any(restricted(engine, p, at=reg.now) for p in RESIDENTS[::50])
    # one trip, with counts and internal ids only: no ID number anywhere in the breaker's events
    [(tripped, data), (held_tag, batch)] = tags(engine)
    assert (tripped, data["threshold"], data["load"], data["population"]) == ("breaker.tripped", "share", CITY, CITY)
    assert (held_tag, batch["rows"], batch["lines"]) == ("breaker.held", CITY, [1, CITY])
    assert not any(p in str(tags(engine)) for p in RESIDENTS)
    # held rows are not refused rows: `credence quarantine` does not list them, replay does not apply them
    with engine.connect() as conn:
        assert held(conn) == []
    replayed, still = replay(engine, MAPPINGS, now=reg.tick())
    assert (replayed.accepted, still) == (0, [])
    assert count(engine, Record, Record.source_id == "court") == 0


def test_below_the_thresholds_a_load_applies_and_the_day_counts_up(engine: Engine, tmp_path: Path) -> None:
    """Fifty listings in a day of a 1,000-resident city are within 5%; the next ten cross it."""
    reg = city(engine, tmp_path)
    first = reg.feed("court", [decision(i, p) for i, p in enumerate(RESIDENTS[:50])])
    assert (first.accepted, first.held, first.tripped) == (50, 0, None)
    assert restricted(engine, RESIDENTS[0], at=reg.now)
    reg.tick(3 * 3600)  # hours later, the same day
    more = reg.feed("court", [decision(100 + i, p) for i, p in enumerate(RESIDENTS[50:60])])
    assert (more.accepted, more.held) == (0, 10)
    assert more.tripped is not None
    assert "60 subjects in the last day" in more.tripped
    assert not restricted(engine, RESIDENTS[55], at=reg.now)


def test_once_tripped_it_stays_open_for_adverse_rows_only(engine: Engine, tmp_path: Path) -> None:
    reg = city(engine, tmp_path)
    early = reg.feed("court", [{**decision(i, p), "id": f"A-{i}"} for i, p in enumerate(RESIDENTS[900:910])])
    assert early.accepted == 10
    reg.feed("court", [decision(i, p) for i, p in enumerate(RESIDENTS)])
    reg.tick(2 * 86400)  # days later: far below any threshold, but the hold is still open
    exemption = {
        "id": "X-1",
        "id_number": RESIDENTS[7],
        "kind": "consumption_exemption",
        "date": "2026-11-29",
        "region": "",
        "attrs": {"case_number": "(2026)苏05执7号", "reason": "illness", "action": "flight"},
    }
    withdrawn = {**decision(0, RESIDENTS[900]), "id": "A-0", "retracted": True}  # applied before the trip
    overtaking = {**decision(5, RESIDENTS[5]), "retracted": True}  # withdraws a held decision
    later = reg.feed("court", [decision(5000, RESIDENTS[3]), exemption, withdrawn, overtaking])
    assert (later.held, later.accepted, later.retracted, later.hold, later.tripped) == (2, 1, 1, 1, None)
    with engine.connect() as conn:
        applied = conn.execute(select(Record.source_record_id, Record.op).where(Record.source_id == "court"))
        assert sorted(tuple(row) for row in applied) == sorted(
            [*((f"A-{i}", "assert") for i in range(10)), ("A-0", "retract"), ("X-1", "assert")]
        )
    assert not restricted(engine, RESIDENTS[900], at=reg.now)  # the withdrawal did not wait
    assert [t for t, _ in tags(engine)] == ["breaker.tripped", "breaker.held", "breaker.held"]
    # released, the held rows apply in the order they came: the decision, then its withdrawal
    release_held(engine, MAPPINGS, SCHEMES, "1", by="officer-2", now=reg.tick(), as_of=reg.now.date())
    assert restricted(engine, RESIDENTS[4], at=reg.now)
    assert not restricted(engine, RESIDENTS[5], at=reg.now)


def test_release_applies_with_the_original_valid_time_and_a_new_transaction_time(
    engine: Engine, tmp_path: Path
) -> None:
    reg = city(engine, tmp_path)
    reg.feed("court", [decision(i, p) for i, p in enumerate(RESIDENTS)])
    tripped_at = reg.now
    released_at = reg.tick(3600)
    released, written = release_held(
        engine, MAPPINGS, SCHEMES, "court", by="officer-17", now=released_at, as_of=released_at.date()
    )
    assert (released.holds, released.result.accepted, released.still) == ([1], CITY, [])
    assert written.started >= CITY
    with engine.connect() as conn:
        rows = conn.execute(select(Record.valid_date, Record.recorded_at).where(Record.source_id == "court")).all()
        hold = conn.execute(select(Hold.__table__)).one()
    assert {str(valid) for valid, _ in rows} == {DECIDED}
    assert {at if at.tzinfo else at.replace(tzinfo=UTC) for _, at in rows} == {released_at}
    assert (hold.outcome, hold.closed_by) == ("released", "officer-17")
    assert [t for t, _ in tags(engine)][-1] == "breaker.released"
    assert tags(engine)[-1][1] == {"hold": 1, "rows": CITY, "applied": CITY}
    # listed from now on, as the registry knows it now; as it knew it before the release, nobody
    assert restricted(engine, RESIDENTS[9], at=released_at)
    assert not restricted(engine, RESIDENTS[9], at=released_at, known_at=tripped_at + timedelta(seconds=1))
    # the breaker is closed and counts afresh: the next load's adverse rows apply
    nxt = reg.feed("court", [{**decision(9000, RESIDENTS[1]), "date": "2026-11-26"}])
    assert (nxt.accepted, nxt.held) == (1, 0)
    # a rebuild from the records gives the incremental state: it writes nothing new
    before = snapshot(engine)
    rebuilt = rebuild.rebuild(engine, SCHEMES, as_of=reg.now.date(), now=reg.tick()).written
    assert (rebuilt.started, rebuilt.ended) == (0, 0)
    assert differences(before, snapshot(engine)) == {}
    with pytest.raises(CredenceError, match="no open hold"):
        release_held(engine, MAPPINGS, SCHEMES, "court", by="officer-17", now=reg.tick(), as_of=reg.now.date())


def write_court(path: Path, numbers: list[str]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        out = csv.DictWriter(handle, COURT_COLUMNS)
        out.writeheader()
        for i, number in enumerate(numbers):
            out.writerow(
                {
                    "record_no": f"STOLEN-{i:06d}",
                    "id_no": number,
                    "decision_date": DECIDED.replace("-", ""),
                    "region": "",
                    "doc_type": "LIST",
                    "case_no": f"(2026)京01执{i}号",
                    "court_name": "Beijing No. 1 Intermediate People's Court",
                    "ground": "1",
                }
            )
    return path


STOLEN = [
    person_id(date(1950 + i % 50, 1 + i % 12, 1 + i % 28), region=("320505", "371002")[i % 2], seq=i % 1000)
    for i in range(20_000)
]


def test_a_stolen_key_submitting_20000_decisions_in_a_minute_applies_nothing(engine: Engine, tmp_path: Path) -> None:
    feeds = tmp_path / "feeds"
    feeds.mkdir()
    write_court(feeds / "court.csv", STOLEN)
    started = time.monotonic()
    ran = credence(engine, "ingest", "--feeds", str(feeds), "--connectors", str(ROOT / "connectors"), check=False)
    took = time.monotonic() - started
    out = " ".join(ran.stdout.split())
    assert ran.returncode == 3, ran.stdout + ran.stderr
    assert "held for review, not applied: 20,000 adverse rows of court.csv (hold 1;" in out
    assert "20,000 adverse records in the last hour, over its per_hour threshold of 10,000" in out
    assert count(engine, Record) == 0
    assert count(engine, Quarantine, Quarantine.hold_id == 1) == 20_000
    assert next(t for t, _ in tags(engine)) == "breaker.tripped"
    assert took < 120, took
    with engine.connect() as conn:
        assert not any(check(conn, p, "flight", at=datetime.now(UTC)).outcome == "restricted" for p in STOLEN[:20])

    listed = " ".join(credence(engine, "held").stdout.split())
    assert "court" in listed
    assert "per_hour" in listed
    assert "20,000" in listed
    assert STOLEN[0] not in listed
    rejected = credence(engine, "held", "reject", "court", "--by", "officer-3", "--reason", "stolen key")
    assert "hold 1 rejected" in rejected.stdout
    assert "no hold is open" in credence(engine, "held").stdout
    assert "rejected" in credence(engine, "held", "--all", "--source", "court").stdout
    assert "no hold is open" in credence(engine, "held", "--all", "--source", "police").stdout
    again = credence(engine, "held", "release", "1", "--by", "officer-3", check=False)
    assert again.returncode == 2
    assert "hold 1: already rejected" in again.stderr
    # rejected rows stay unapplied for good, replay or not
    assert credence(engine, "ingest", "--replay", "--connectors", str(ROOT / "connectors")).returncode == 0
    assert count(engine, Record) == 0
    assert [t for t, _ in tags(engine)][-1] == "breaker.rejected"


def test_the_gate_keeps_answering_allowed_over_http(engine: Engine, tmp_path: Path) -> None:
    reg = city(engine, tmp_path)
    reg.feed("court", [decision(i, p) for i, p in enumerate(RESIDENTS)])
    key = add_provider(engine, "airline", "flight")
    with serve(engine, tmp_path) as gate:
        for number in RESIDENTS[:5]:
            answer = gate.post({"subject": number, "action": "flight"}, key=key)
            assert answer.status_code == 200, answer.text
            assert answer.json()["decision"] == "allowed"


def url_of(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def test_a_load_killed_while_tripping_resumes_to_the_state_of_one_clean_load(new_engine: Any, tmp_path: Path) -> None:
    feeds = tmp_path / "feeds"
    feeds.mkdir()
    write_court(feeds / "court.csv", STOLEN[:12_000])
    command = [str(CREDENCE), "ingest", "--feeds", str(feeds), "--connectors", str(ROOT / "connectors")]

    def run(engine: Engine, *, kill_when_held: bool) -> None:
        env = {**os.environ, "CREDENCE_DATABASE_URL": url_of(engine), "CREDENCE_INGEST_BATCH": "500"}
        process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)  # noqa: S603
        if kill_when_held:
            deadline = time.monotonic() + 120
            while count(engine, Quarantine) == 0:
                assert process.poll() is None, process.communicate()
                assert time.monotonic() < deadline
                time.sleep(0.02)
            process.send_signal(signal.SIGKILL)
            process.communicate()
            assert count(engine, Hold) == 1  # the hold came with its first batch, or not at all
            assert count(engine, Quarantine) < 12_000
            return
        _, err = process.communicate(timeout=300)
        assert process.returncode == 3, err

    clean = new_engine()
    run(clean, kill_when_held=False)
    killed = new_engine()
    run(killed, kill_when_held=True)
    run(killed, kill_when_held=False)
    assert count(killed, Quarantine, Quarantine.hold_id == 1) == 12_000
    assert differences(snapshot(clean), snapshot(killed)) == {}


def test_the_thresholds_are_data_checked_at_load() -> None:
    adverse = {n for n, k in default_catalogue().kinds.items() if k.polarity is Polarity.ADVERSE}
    for source, entry in catalogue().items():
        assert entry["breaker"] is not None or not adverse & set(entry["kinds"]), source
    assert catalogue()["court"]["breaker"]["per_hour"] < 20_000  # the attack trips it
    with pytest.raises(CredenceError, match=r"source court: breaker\.share: expected a fraction"):
        parse("court", {"per_hour": 1, "per_day": 2, "share": 5, "min_population": 10})
    with pytest.raises(CredenceError, match=r"source tax: breaker\.per_day: expected at least per_hour"):
        parse("tax", {"per_hour": 10, "per_day": 2, "share": 0.1, "min_population": 10})
    with pytest.raises(CredenceError, match=r"source rail: breaker\.per_hour: expected a whole number"):
        parse("rail", {"per_hour": "many", "per_day": 2, "share": 0.1, "min_population": 10})
    with pytest.raises(CredenceError, match=r"source bank: breaker\.min_population: required"):
        parse("bank", {"per_hour": 1, "per_day": 2, "share": 0.1})
    with pytest.raises(CredenceError, match=r"source bank: breaker\.per_minute: unknown field"):
        parse("bank", {"per_hour": 1, "per_day": 2, "share": 0.1, "min_population": 1, "per_minute": 3})
    assert load_mappings(ROOT / "connectors")["court"].source == "court"
