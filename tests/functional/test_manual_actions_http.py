"""The insider's attack over HTTP (issue 10, part 8), against a served registry on SQLite and
PostgreSQL: an officer who adds a demerit by hand cannot make it count. Their request waits,
pending, with nothing applied; approving it themselves, from another agency, or as a second
officer who declared a relation to the subject is refused (403, naming why) and leaves a
``manual.denied`` event; only an unrelated second officer of the agency applies it."""

from typing import Any

from sqlalchemy import func, select

from credence.store.orm import Event, PendingSubject, Record
from tests.common.signin import ALICE, Site, add_officer, officer_sign_in

DEMERIT = {
    "kind": "traffic_offence",
    "id_number": ALICE,
    "valid_date": "2026-02-28",
    "jurisdiction": "320505",
    "attributes": {"offence_code": "1345", "fine_yuan": 200},
    "legal_basis": "Road Traffic Safety Law, Art. 90",
    "reason": "a roadside ticket, entered by hand",
}


def denied(site: Site) -> list[dict[str, Any]]:
    with site.engine.connect() as conn:
        return list(conn.scalars(select(Event.data).where(Event.tag == "manual.denied").order_by(Event.seq)))


def by_hand(site: Site) -> int:
    with site.engine.connect() as conn:
        return conn.execute(select(func.count()).where(Record.source_record_id.like("manual-%"))).scalar_one()


def test_an_insider_cannot_make_a_demerit_count_without_a_second_officer(site: Site) -> None:
    add_officer(site, "wu.lei", "police", "wu.lei@police.example.com")
    add_officer(site, "zhao.min", "police", "zhao.min@police.example.com", role="second_officer")
    add_officer(site, "qian.li", "police", "qian.li@police.example.com", role="second_officer")
    add_officer(site, "li.ming", "court", "li.ming@court.example.com", role="second_officer")
    insider = officer_sign_in(site, "wu.lei", "wu.lei@police.example.com")
    friend = officer_sign_in(site, "zhao.min", "zhao.min@police.example.com")
    second = officer_sign_in(site, "qian.li", "qian.li@police.example.com")
    judge = officer_sign_in(site, "li.ming", "li.ming@court.example.com")
    assert site.get("/v1/officers/me", second).json() == {
        "name": "qian.li",
        "agency": "police",
        "role": "second_officer",
    }
    with site.engine.connect() as conn:
        waiting = conn.execute(select(func.count()).select_from(PendingSubject)).scalar_one()

    asked = site.post("/v1/manual-actions", DEMERIT, insider)
    assert asked.status_code == 202, asked.text
    action = asked.json()
    assert (action["state"], action["requested_by"], action["op"]) == ("pending", "wu.lei", "assert")
    assert action["subject"] == f"{ALICE[:10]}****{ALICE[14:]}"  # masked, as the SPC publishes it
    decision = f"/v1/manual-actions/{action['id']}/decision"

    mine = site.post(decision, {"approved": True}, insider)
    assert mine.status_code == 403
    assert mine.json() == {"detail": "role: the officer role may not approve manual action", "field": "role"}
    other = site.post(decision, {"approved": True}, judge)
    assert (other.status_code, other.json()["field"]) == (403, "agency")
    assert site.post(decision, {"approved": True}).status_code == 401
    assert site.post("/v1/officers/me/relations", {"id_number": ALICE, "relation": "friend"}, friend).status_code == 204
    related = site.post(decision, {"approved": True}, friend)
    assert (related.status_code, related.json()["field"]) == (403, "subject")
    assert "declared a relation (friend)" in related.json()["detail"]
    assert site.post(decision, {"approved": False}, second).json()["field"] == "note"  # reasons, please

    assert by_hand(site) == 0  # nothing applied, nothing waits to be rescored
    with site.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(PendingSubject)).scalar_one() == waiting
    assert [d["why"] for d in denied(site)] == ["RoleRefusedError", "AgencyRefusedError", "RelatedError"]
    assert site.get("/v1/officers/manual-actions", judge).json() == {"actions": []}
    queue = site.get("/v1/officers/manual-actions", second).json()["actions"]
    assert [(a["receipt"], a["state"]) for a in queue] == [(action["receipt"], "pending")]

    approved = site.post(decision, {"approved": True, "note": "the ticket stub is on file"}, second)
    assert approved.status_code == 200, approved.text
    assert (approved.json()["state"], approved.json()["decided_by"]) == ("approved", "qian.li")
    assert by_hand(site) == 1
    again = site.post(decision, {"approved": True}, second)
    assert (again.status_code, again.json()["field"]) == (422, "action")


def test_a_request_the_agencys_feed_would_refuse_is_refused_over_http(site: Site) -> None:
    add_officer(site, "wu.lei", "police", "wu.lei@police.example.com")
    add_officer(site, "qian.li", "police", "qian.li@police.example.com", role="second_officer")
    insider = officer_sign_in(site, "wu.lei", "wu.lei@police.example.com")
    second = officer_sign_in(site, "qian.li", "qian.li@police.example.com")
    listing = {**DEMERIT, "kind": "defaulter_listing_decision", "attributes": {}}
    refused = site.post("/v1/manual-actions", listing, insider)
    assert refused.status_code == 403
    assert "not authorised for defaulter_listing_decision" in refused.json()["detail"]
    bad = site.post("/v1/manual-actions", {**DEMERIT, "valid_date": "2026-02-30"}, insider)
    assert (bad.status_code, bad.json()["field"]) == (422, "valid_date")
    asking = site.post("/v1/manual-actions", DEMERIT, second)
    assert (asking.status_code, asking.json()["field"]) == (403, "role")
    assert site.post("/v1/manual-actions", {**DEMERIT, "extra": 1}, insider).status_code == 422
    assert by_hand(site) == 0
    assert [d["why"] for d in denied(site)] == ["NotAuthorisedError", "RoleRefusedError"]


def test_an_auditor_reads_the_alerts_and_no_other_officer_does(site: Site) -> None:
    add_officer(site, "wu.lei", "police", "wu.lei@police.example.com")
    add_officer(site, "chen.audit", "registry", "chen.audit@registry.example.com", role="auditor")
    insider = officer_sign_in(site, "wu.lei", "wu.lei@police.example.com")
    auditor = officer_sign_in(site, "chen.audit", "chen.audit@registry.example.com")
    assert site.get("/v1/officers/me", auditor).json()["role"] == "auditor"
    asked = site.post("/v1/manual-actions", DEMERIT, insider).json()
    assert site.post(f"/v1/manual-actions/{asked['id']}/decision", {"approved": True}, insider).status_code == 403
    refused = site.get("/v1/audit/alerts", insider)
    assert (refused.status_code, refused.json()["field"]) == (403, "role")
    read = site.get("/v1/audit/alerts", auditor)
    assert read.status_code == 200, read.text
    [alert] = read.json()["alerts"]
    assert (alert["tag"], alert["data"]["why"], alert["data"]["action"]) == (
        "manual.denied",
        "RoleRefusedError",
        asked["id"],
    )
    assert ALICE not in read.text
