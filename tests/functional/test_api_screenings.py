"""Manifests and freshness end to end: ``credence serve`` with two workers, real HTTP, records
landing through the real ingest path while the server runs. On SQLite and on PostgreSQL.

- ``POST /v1/screenings`` answers each entry in order, in the whitelisted shape, with errors in
  place, as JSON or NDJSON, and refuses an oversized manifest with 413;
- a fulfilment (deletion) record lifts the restriction at the gate within a second, and a new
  listing restricts within a second, whichever worker answers;
- a court's exemption lets exactly the exempted action through, on its day only.
"""

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest

from credence.api.schemas import ScreenedEntry, ScreeningAnswer
from credence.model.time import legal_date
from tests.common.feeds import Registry, person_id
from tests.common.gate import DEBTOR, STRANGER, Served, add_provider, build, registry_for_module, serve

CASE = "(2025)苏05执321号"
FRESH = 1.0  # seconds: the goal, from a record accepted to the gate answering on it
LATE = person_id(date(1985, 5, 5), seq=77)  # listed while the server runs


@dataclass(frozen=True)
class Gate:
    served: Served
    registry: Registry
    airline: str  # flight only
    travel: str  # flight and rail_ticket


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def gate(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gate]:
    store = request.param
    template = request.getfixturevalue("sqlite_template" if store == "sqlite" else "pg_template")
    tmp = tmp_path_factory.mktemp("screen")
    with registry_for_module(store, template, tmp) as engine:
        registry = build(engine, tmp)
        airline = add_provider(engine, "airline", "flight")
        travel = add_provider(engine, "travel-agency", "flight,rail_ticket")
        with serve(engine, tmp, workers=2) as served:
            yield Gate(served, registry, airline, travel)


def screening(gate: Gate, body: dict[str, Any], *, key: str, ndjson: bool = False) -> httpx.Response:
    headers = {"Authorization": f"Bearer {key}"}
    if ndjson:
        headers["Accept"] = "application/x-ndjson"
    return httpx.post(f"{gate.served.base}/v1/screenings", json=body, headers=headers, timeout=120)


def check(gate: Gate, subject: str, action: str = "flight", **extra: Any) -> str:
    body = {"subject": subject, "action": action, **extra}
    answer = gate.served.post(body, key=gate.travel)
    assert answer.status_code == 200, answer.text
    decision: str = answer.json()["decision"]
    return decision


def settled(gate: Gate, subject: str, expected: str, *, since: float) -> float:
    """Seconds from ``since`` until ten answers in a row (fresh connections, so both workers
    answer) say ``expected``."""
    deadline, streak, first = since + 30, 0, None
    while streak < 10:
        assert time.monotonic() < deadline, f"{subject[:6]}… still not {expected} after 30 s"
        if check(gate, subject) == expected:
            first = first if first is not None else time.monotonic()
            streak += 1
        else:
            first, streak = None, 0
            time.sleep(0.02)
    assert first is not None
    return first - since


def test_a_manifest_is_answered_entry_by_entry_with_errors_in_place(gate: Gate) -> None:
    entries = [
        {"subject": DEBTOR, "action": "flight"},
        {"subject": STRANGER, "action": "flight"},
        {"subject": "32050519810309411", "action": "flight"},  # 17 characters
        {"subject": DEBTOR, "action": "teleport"},
        {"subject": DEBTOR, "action": "rail_ticket", "attributes": {"train_type": "G", "seat_class": "second"}},
        {"subject": DEBTOR.lower(), "action": "flight"},  # no letter to lower: the same number
    ]
    answer = screening(gate, {"entries": entries}, key=gate.airline)
    assert answer.status_code == 200, answer.text
    results = ScreeningAnswer.model_validate(answer.json()).results  # whitelisted: nothing else may appear
    assert [r.index for r in results] == list(range(len(entries)))
    debtor, stranger, short, unknown, scope, same = results
    assert debtor.decision == "restricted"
    assert debtor.appeal == f"Suzhou Intermediate People's Court, case {CASE}"
    assert debtor.legal_basis_title
    assert "Restricting High Consumption" in debtor.legal_basis_title
    assert stranger.decision == "allowed"
    assert (stranger.legal_basis_title, stranger.appeal, stranger.caller_notice, stranger.error) == (None,) * 4
    assert short.decision is None
    assert short.error is not None
    assert short.error.field == "entries.2.subject"
    assert unknown.error is not None
    assert unknown.error.field == "entries.3.action"
    assert "expected one of" in unknown.error.detail
    assert scope.error is not None
    assert scope.error.field == "entries.4.action"
    assert "not 'rail_ticket'" in scope.error.detail
    assert same.decision == "restricted"
    assert len({r.reference for r in results if r.reference}) == 3  # every answer its own reference


def test_a_large_manifest_streams_as_ndjson(gate: Gate) -> None:
    subjects = [STRANGER] * 99_990 + [DEBTOR] * 10
    body = {"entries": [{"subject": s, "action": "flight"} for s in subjects]}
    answer = screening(gate, body, key=gate.airline, ndjson=True)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("application/x-ndjson")
    lines = answer.text.splitlines()
    assert len(lines) == 100_000
    results = [ScreenedEntry.model_validate(json.loads(line)) for line in lines[-20:]]
    assert [r.decision for r in results] == ["allowed"] * 10 + ["restricted"] * 10
    assert [r.index for r in results] == list(range(99_980, 100_000))


def test_an_oversized_manifest_is_413(gate: Gate) -> None:
    body = {"entries": [{"subject": STRANGER, "action": "flight"}] * 100_001}
    answer = screening(gate, body, key=gate.airline)
    assert answer.status_code == 413, answer.text
    assert "100,000" in answer.json()["detail"]


def test_a_fulfilment_lifts_and_a_new_listing_restricts_within_a_second(gate: Gate) -> None:
    today = legal_date(datetime.now(UTC))
    reg = gate.registry
    assert check(gate, DEBTOR) == "restricted"
    deletion = {"case_number": CASE, "reason": "performed"}
    row = {"id_number": DEBTOR, "kind": "defaulter_deletion", "date": today.isoformat(), "attrs": deletion}
    reg.feed("court", [{**row, "region": ""}], as_of=today)
    lifted = settled(gate, DEBTOR, "allowed", since=time.monotonic())

    attrs = {"case_number": "(2026)苏05执88号", "court": "Suzhou Intermediate People's Court", "ground": 1}
    listing = {"id_number": LATE, "kind": "defaulter_listing_decision", "date": today.isoformat(), "attrs": attrs}
    assert check(gate, LATE) == "allowed"
    reg.feed("court", [{**listing, "region": ""}], as_of=today)
    listed = settled(gate, LATE, "restricted", since=time.monotonic())
    assert lifted < FRESH, f"lifted after {lifted:.3f} s"
    assert listed < FRESH, f"listed after {listed:.3f} s"


def test_an_exemption_lets_exactly_the_exempted_purchase_through_on_its_day(gate: Gate) -> None:
    subject = person_id(date(1979, 9, 9), seq=88)
    day = date(2026, 3, 2)
    attrs = {"case_number": "(2026)苏05执5号", "court": "Suzhou Intermediate People's Court", "ground": 1}
    listing = {"id_number": subject, "kind": "defaulter_listing_decision", "date": "2026-01-05", "attrs": attrs}
    exemption = {"case_number": "(2026)苏05执5号", "action": "flight", "reason": "illness"}
    excused = {"id_number": subject, "kind": "consumption_exemption", "date": day.isoformat(), "attrs": exemption}
    gate.registry.feed("court", [{**listing, "region": ""}, {**excused, "region": ""}], as_of=day)
    settled(gate, subject, "restricted", since=time.monotonic())  # today: the listing, no exemption

    def on(when: date, action: str = "flight", **extra: Any) -> str:
        at = f"{when.isoformat()}T09:30"  # no zone: Shanghai legal time
        return check(gate, subject, action, at=at, **extra)

    assert on(day) == "allowed"
    assert on(day - timedelta(days=1)) == "restricted"
    assert on(day + timedelta(days=1)) == "restricted"
    assert on(day, "rail_ticket", attributes={"train_type": "G", "seat_class": "second"}) == "restricted"
