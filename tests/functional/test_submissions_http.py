"""Signed submissions over HTTP, against ``credence serve``, on SQLite and PostgreSQL: an agency's
good batch lands through the feed loader (bad rows quarantined with their reasons, a mass listing
held by the circuit breaker); a replayed, altered or late batch, an unknown or revoked key, and a
kind or jurisdiction the agency is not authorised for are each refused whole, with nothing
applied, an event, and an error naming what failed (issue 10, parts 5 and 8)."""

import json
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Engine, func, select

from credence.ingest import signatures
from credence.pipeline import clock
from credence.store.orm import Event, Listing, PendingSubject, Quarantine, Record, Submission
from tests.common.feeds import SCHEMES, person_id
from tests.common.gate import Served, add_provider, credence, now, registry_for_module, serve

ROOT = Path(__file__).resolve().parents[2]
CAAC = """\
source: caac
format: jsonl
file: caac.jsonl
fields:
  source_record_id: decision_no
  id_number: passenger_id
  valid_date: decided
  jurisdiction: region
kind:
  value: flight_ban_decision
attributes:
  case_number: case_no
  authority: authority
  ground: ground
legal_basis:
  flight_ban_decision: "Fa Gai Cai Jin [2018] No. 385 (test mapping)"
"""


@dataclass(frozen=True)
class Agency:
    source: str
    key: Ed25519PrivateKey

    def envelope(self, rows: list[dict[str, Any]], *, at_offset: timedelta = timedelta()) -> dict[str, Any]:
        body = signatures.batch(self.source, rows, key=self.key.public_key(), at=now() - at_offset)
        return signatures.sign(body, self.key)


@dataclass(frozen=True)
class Site:
    gate: Served
    police: Agency
    court: Agency
    caac: Agency
    revoked: Agency
    stranger: Agency  # a key no one registered
    tmp: Path

    @property
    def engine(self) -> Engine:
        return self.gate.engine

    def post(self, envelope: dict[str, Any]) -> httpx.Response:
        return httpx.post(f"{self.gate.base}/v1/submissions", json=envelope, timeout=120)


def register(engine: Engine, tmp: Path, source: str, *, revoke: bool = False) -> Agency:
    key = Ed25519PrivateKey.generate()
    path = tmp / f"{source}-{signatures.key_id(key.public_key())}.pub.pem"
    path.write_bytes(signatures.public_pem(key.public_key()))
    done = credence(engine, "agencies", "key", "add", source, str(path))
    assert signatures.key_id(key.public_key()) in done.stdout
    if revoke:
        credence(engine, "agencies", "key", "revoke", signatures.key_id(key.public_key()))
    return Agency(source, key)


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def site(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    tmp = tmp_path_factory.mktemp("submissions")
    template = request.getfixturevalue("sqlite_template" if request.param == "sqlite" else "pg_template")
    connectors = tmp / "connectors"
    shutil.copytree(ROOT / "connectors", connectors)
    (connectors / "caac.yaml").write_text(CAAC, "utf-8")
    with registry_for_module(request.param, template, tmp) as engine:
        agencies = {
            "police": register(engine, tmp, "police"),
            "court": register(engine, tmp, "court"),
            "caac": register(engine, tmp, "caac"),
            "revoked": register(engine, tmp, "police", revoke=True),
        }
        stranger = Agency("police", Ed25519PrivateKey.generate())
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("CREDENCE_DATA_DIR", str(tmp / "data"))
            patch.setenv("CREDENCE_CONNECTORS_DIR", str(connectors))
            with serve(engine, tmp) as gate:
                yield Site(gate, stranger=stranger, tmp=tmp, **agencies)


_seq = iter(range(1, 10_000))


def traffic(*, place: str = "320505", kind: str = "traffic", id_number: str | None = None) -> dict[str, Any]:
    n = next(_seq)
    return {
        "event_id": f"sub-{n}-{now().timestamp()}",
        "citizen_id": id_number or person_id(date(1985, 1, 1) + timedelta(days=n), seq=n % 900 + 1),
        "date": "2026-11-01",
        "place": place,
        "type": kind,
        "details": {"code": "1345", "fine": 200, "offence": "speeding"},
    }


def counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {
            "records": conn.execute(select(func.count()).select_from(Record)).scalar_one(),
            "quarantine": conn.execute(select(func.count()).select_from(Quarantine)).scalar_one(),
            "submissions": conn.execute(select(func.count()).select_from(Submission)).scalar_one(),
        }


def last_event(engine: Engine, tag: str) -> tuple[str, dict[str, Any]]:
    with engine.connect() as conn:
        row = conn.execute(
            select(Event.actor, Event.data).where(Event.tag == tag).order_by(Event.seq.desc()).limit(1)
        ).one()
    return row.actor, row.data


def refused(site: Site, response: httpx.Response, before: dict[str, int], *, status: int, field: str) -> str:
    """The refusal's detail, once it is shown to be whole: the status and field named, nothing applied."""
    assert response.status_code == status, response.text
    body = response.json()
    assert body["field"] == field, body
    assert counts(site.engine) == before
    _, data = last_event(site.engine, "submission.refused")
    assert data["field"] == field
    detail: str = body["detail"]
    return detail


def test_a_good_batch_lands_through_the_feed_loader_and_bad_rows_go_to_quarantine(site: Site) -> None:
    good = [traffic(), traffic()]
    valid = person_id(date(1985, 1, 1), seq=77)
    bad = {**traffic(), "citizen_id": valid[:-1] + ("0" if valid[-1] != "0" else "1")}  # a wrong check digit
    unknown = {**traffic(), "type": "parking"}  # not a code of the police mapping
    before = counts(site.engine)
    response = site.post(site.police.envelope([*good, bad, unknown]))
    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["rows"], body["accepted"], body["quarantined"], body["held"]) == (4, 2, 2, 0)
    assert [(r["row"], r["field"]) for r in body["refused_rows"]] == [(2, "id_number"), (3, "type")]
    assert "check character" in body["refused_rows"][0]["reason"]
    after = counts(site.engine)
    assert after["records"] == before["records"] + 2
    assert after["quarantine"] == before["quarantine"] + 2
    with site.engine.connect() as conn:
        landed = conn.execute(
            select(Record.source_id, Record.kind, Record.jurisdiction, Record.subject_id).where(
                Record.source_record_id.in_([row["event_id"] for row in good])
            )
        ).all()
        waiting = set(conn.execute(select(PendingSubject.subject_id)).scalars())
        quarantined = conn.execute(
            select(Quarantine.file, Quarantine.line).where(Quarantine.field == "id_number").order_by(Quarantine.id)
        ).all()
    assert {(r.source_id, r.kind, r.jurisdiction) for r in landed} == {("police", "traffic_offence", "320505")}
    assert {r.subject_id for r in landed} <= waiting  # the worker's refresh rescores them
    assert quarantined[-1] == (f"submission-{body['submission']}.jsonl", 3)
    actor, data = last_event(site.engine, "submission.accepted")
    assert actor == "source:police"
    assert (data["submission"], data["rows"]) == (body["submission"], 4)


def test_the_cli_signs_a_batch_the_server_accepts(site: Site) -> None:
    key_file = site.tmp / "police.pem"
    if not key_file.exists():
        key_file.write_bytes(signatures.private_pem(site.police.key))
    rows_file = site.tmp / "rows.jsonl"
    rows_file.write_text(json.dumps(traffic()) + "\n", "utf-8")
    signed = credence(site.engine, "agencies", "sign", "police", str(rows_file), "--key", str(key_file))
    response = site.post(json.loads(signed.stdout))
    assert response.status_code == 201, response.text
    assert response.json()["accepted"] == 1


def test_a_replayed_batch_is_refused(site: Site) -> None:
    envelope = site.police.envelope([traffic()])
    assert site.post(envelope).status_code == 201
    before = counts(site.engine)
    detail = refused(site, site.post(envelope), before, status=409, field="batch.nonce")
    assert "replayed" in detail
    assert last_event(site.engine, "submission.refused")[1]["reason"] == "replayed"


def test_an_altered_batch_is_refused(site: Site) -> None:
    envelope = site.police.envelope([traffic(), traffic()])
    envelope["batch"]["rows"][1]["details"]["fine"] = 20_000  # in transit
    before = counts(site.engine)
    detail = refused(site, site.post(envelope), before, status=401, field="signature")
    assert "altered" in detail
    actor, data = last_event(site.engine, "submission.refused")
    assert (actor, data["reason"], data["verified"]) == ("submissions", "bad_signature", False)


def test_a_late_batch_is_refused(site: Site) -> None:
    envelope = site.police.envelope([traffic()], at_offset=timedelta(minutes=10))
    before = counts(site.engine)
    detail = refused(site, site.post(envelope), before, status=422, field="batch.timestamp")
    assert "seconds before the registry's clock" in detail
    assert last_event(site.engine, "submission.refused")[1]["reason"] == "late"


def test_an_unknown_key_is_refused(site: Site) -> None:
    before = counts(site.engine)
    detail = refused(site, site.post(site.stranger.envelope([traffic()])), before, status=401, field="batch.key")
    assert "is registered" in detail
    assert last_event(site.engine, "submission.refused")[1]["reason"] == "unknown_key"


def test_a_revoked_key_is_refused(site: Site) -> None:
    before = counts(site.engine)
    detail = refused(site, site.post(site.revoked.envelope([traffic()])), before, status=401, field="batch.key")
    assert "was revoked" in detail
    assert last_event(site.engine, "submission.refused")[1]["reason"] == "revoked_key"


def test_a_key_of_another_source_is_refused(site: Site) -> None:
    rows = [traffic()]
    body = signatures.batch("police", rows, key=site.court.key.public_key(), at=now())
    before = counts(site.engine)
    refused(site, site.post(signatures.sign(body, site.court.key)), before, status=401, field="batch.source")


def test_a_kind_the_agency_is_not_authorised_for_refuses_the_batch_whole(site: Site) -> None:
    # a stolen police key tries to slip a listing decision in among good rows
    rows = [traffic(), traffic(kind="defaulter_listing_decision"), traffic()]
    before = counts(site.engine)
    detail = refused(site, site.post(site.police.envelope(rows)), before, status=403, field="batch.rows[1].kind")
    assert "not authorised for record kind defaulter_listing_decision" in detail
    assert "nothing of it applied" in detail
    assert last_event(site.engine, "submission.refused")[1]["reason"] == "unauthorised"


def test_a_jurisdiction_the_agency_is_not_authorised_for_refuses_the_batch_whole(site: Site) -> None:
    rows = [traffic(place="110101"), traffic(), traffic(place="440305")]  # Beijing, Suzhou, Shenzhen
    before = counts(site.engine)
    detail = refused(
        site, site.post(site.police.envelope(rows)), before, status=403, field="batch.rows[0].jurisdiction"
    )
    assert "region '110101'" in detail
    assert "(2 rows so)" in detail


def test_a_stolen_key_listing_en_masse_lists_nobody(site: Site) -> None:
    # CAAC's breaker: 1,000 adverse records an hour; a stolen key bans 1,001 passengers at once
    rows = [
        {
            "decision_no": f"caac-{n}",
            "passenger_id": person_id(date(1970, 1, 1) + timedelta(days=n), seq=n % 900 + 1),
            "decided": "2026-11-30",
            "region": "",
            "case_no": f"(2026)民航{n}号",
            "authority": "CAAC",
            "ground": 1,
        }
        for n in range(1001)
    ]
    before = counts(site.engine)
    response = site.post(site.caac.envelope(rows))
    assert response.status_code == 202, response.text
    body = response.json()
    assert (body["accepted"], body["held"]) == (0, 1001)
    assert body["hold"] is not None
    assert "over its per_hour threshold of 1,000" in body["hold_reason"]
    assert counts(site.engine)["records"] == before["records"]
    _, tripped = last_event(site.engine, "breaker.tripped")
    assert (tripped["source"], tripped["threshold"], tripped["hold"]) == ("caac", "per_hour", body["hold"])
    alert = httpx.get(f"{site.gate.base}/metrics", timeout=30).text  # what an operator's alert rule reads
    assert 'credence_breaker_open_holds{source="caac"} 1.0' in alert
    assert 'credence_breaker_held_rows{source="caac"} 1001.0' in alert
    # an officer who finds them genuine releases them through the same path as a held file's rows
    connectors = str(site.tmp / "connectors")
    credence(site.engine, "held", "release", "caac", "--by", "officer.wang", "--connectors", connectors)
    assert counts(site.engine)["records"] == before["records"] + 1001
    assert 'credence_breaker_open_holds{source="caac"}' not in httpx.get(f"{site.gate.base}/metrics", timeout=30).text


def test_the_keys_are_listed_with_their_state(site: Site) -> None:
    listed = credence(site.engine, "agencies", "key", "list").stdout
    assert signatures.key_id(site.police.key.public_key()) in listed
    revoked = signatures.key_id(site.revoked.key.public_key())
    line = next(line for line in listed.splitlines() if revoked in line)
    assert "revoked" in line
    again = site.tmp / "again.pem"
    again.write_bytes(signatures.public_pem(site.revoked.key.public_key()))
    refused_again = credence(site.engine, "agencies", "key", "add", "police", str(again), check=False)
    assert refused_again.returncode == 2
    assert "never registered again" in refused_again.stderr


def court_row(n: int, *, doc_type: str = "LIST") -> dict[str, Any]:
    """A row as a line of the court's CSV feed would read: the columns of its mapping, as text."""
    return {
        "record_no": f"court-sub-{n}-{now().timestamp()}",
        "id_no": person_id(date(1960, 1, 1) + timedelta(days=n // 20), seq=n % 20 + 100),
        "decision_date": "20261120",
        "region": "",
        "doc_type": doc_type,
        "case_no": f"(2026)苏05执{n}号",
        "court_name": "Suzhou Intermediate People's Court",
        "ground": "1",
    }


def test_a_csv_mapped_source_submits_rows_keyed_by_its_columns(site: Site) -> None:
    before = counts(site.engine)
    listed = court_row(1)
    response = site.post(site.court.envelope([listed, court_row(2, doc_type="NOPE")]))
    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["accepted"], body["quarantined"]) == (1, 1)
    assert body["refused_rows"][0]["field"] == "doc_type"
    assert counts(site.engine)["records"] == before["records"] + 1
    # the worker's clock refreshes the subjects the batch touched: the decision lists its debtor
    clock.tick(site.engine, SCHEMES, now=now())
    with site.engine.connect() as conn:
        record = conn.execute(select(Record.id).where(Record.source_record_id == listed["record_no"])).scalar_one()
        listing = conn.execute(select(Listing.list_id).where(Listing.decision_record_id == record)).scalar_one()
    assert listing == "dishonest-judgment-defaulters"


def test_a_stolen_court_key_submitting_twenty_thousand_listings_in_a_minute_lists_nobody(site: Site) -> None:
    # issue 10 part 8: the court's breaker allows 10,000 adverse records an hour
    before = counts(site.engine)
    response = site.post(site.court.envelope([court_row(n) for n in range(10, 20_010)]))
    assert response.status_code == 202, response.text
    body = response.json()
    assert (body["accepted"], body["held"]) == (0, 20_000)
    assert counts(site.engine)["records"] == before["records"]
    _, tripped = last_event(site.engine, "breaker.tripped")
    assert (tripped["source"], tripped["threshold"], tripped["load"]) == ("court", "per_hour", 20_000)
    # and the gate keeps answering allowed for the people the key tried to list
    key = add_provider(site.engine, "airline", "flight")
    ask = {"subject": court_row(10)["id_no"], "action": "flight"}
    deadline = time.monotonic() + 30
    while (answer := site.gate.post(ask, key=key)).status_code == 401 and time.monotonic() < deadline:
        time.sleep(0.2)  # the gate's key table follows within CREDENCE_GATE_KEY_POLL
    assert answer.status_code == 200, answer.text
    assert answer.json()["decision"] == "allowed"


def test_the_same_rows_under_a_new_nonce_apply_nothing_twice(site: Site) -> None:
    rows = [traffic(), traffic()]
    first = site.post(site.police.envelope(rows))
    assert first.status_code == 201, first.text
    before = counts(site.engine)
    again = site.post(site.police.envelope(rows))
    assert again.status_code == 201, again.text
    assert (again.json()["accepted"], again.json()["unchanged"]) == (0, 2)
    after = counts(site.engine)
    assert (after["records"], after["submissions"]) == (before["records"], before["submissions"] + 1)
    assert last_event(site.engine, "submission.accepted")[1]["submission"] == again.json()["submission"]


def test_the_agency_commands_refuse_mistakes_in_one_line(site: Site) -> None:
    private, public = site.tmp / "new.pem", site.tmp / "new.pub.pem"
    made = credence(site.engine, "agencies", "keygen", str(private), str(public))
    assert private.stat().st_mode & 0o777 == 0o600
    assert signatures.key_id(signatures.read_public_key(public)) in made.stdout
    again = credence(site.engine, "agencies", "keygen", str(private), str(public), check=False)
    assert (again.returncode, "already exists" in again.stderr) == (2, True)
    unknown = credence(site.engine, "agencies", "key", "add", "ministry-of-truth", str(public), check=False)
    assert (unknown.returncode, "unknown source 'ministry-of-truth'" in unknown.stderr) == (2, True)
    wrong = credence(site.engine, "agencies", "key", "add", "police", str(private), check=False)
    assert (wrong.returncode, "expected an Ed25519 public key in PEM" in wrong.stderr) == (2, True)
    gone = credence(site.engine, "agencies", "key", "revoke", "0" * 32, check=False)
    assert (gone.returncode, "no agency key" in gone.stderr) == (2, True)
