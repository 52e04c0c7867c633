"""Disputes over HTTP, against a served app with real mail: a signed-in subject files a dispute
of a record about them and gets a receipt at once; the signed-in officer of the record's agency
sees it and answers; an officer of another agency cannot. On SQLite and PostgreSQL."""

import base64
from datetime import date

import httpx
from sqlalchemy import select

from credence import resolve
from credence.store.orm import Record
from tests.common.signin import ALICE, BOB, Site, add_officer, officer_sign_in

PDF = base64.b64encode(b"%PDF-1.4\n1 0 obj << >> endobj\n%%EOF\n").decode()


def record_of(site: Site, id_number: str) -> str:
    with site.engine.connect() as conn:
        subject = resolve.find(conn, id_number)
        kind = Record.kind == "defaulter_listing_decision"
        return str(conn.execute(select(Record.id).where(Record.subject_id == subject, kind)).scalar_one())


def dispute(site: Site, token: str, record: str, **given: object) -> httpx.Response:
    body = {"record_id": record, "statement": "I paid the judgment debt.", "evidence": [PDF], **given}
    return site.post("/v1/disputes", body, token)


def test_a_subject_disputes_a_record_and_the_courts_officer_answers(site: Site) -> None:
    alice = site.sign_in(ALICE, "alice@example.com")
    record = record_of(site, ALICE)
    filed = dispute(site, alice, record)
    assert filed.status_code == 201, filed.text
    receipt = filed.json()
    assert receipt["receipt"].startswith("D2026")
    assert receipt["agency"] == "court"
    assert receipt["state"] == "open"
    filed_on = site.clock().date()
    assert date.fromisoformat(receipt["respond_by"]) == date.fromordinal(filed_on.toordinal() + 15)
    assert site.get("/v1/me/disputes", alice).json()["disputes"][0]["receipt"] == receipt["receipt"]

    add_officer(site, "li.ming", "court", "li.ming@court.example.com")
    add_officer(site, "wu.lei", "police", "wu.lei@police.example.com")
    judge = officer_sign_in(site, "li.ming", "li.ming@court.example.com")
    police = officer_sign_in(site, "wu.lei", "wu.lei@police.example.com")
    queue = site.get("/v1/officers/disputes", judge).json()["disputes"]
    assert [d["receipt"] for d in queue] == [receipt["receipt"]]
    assert site.get("/v1/officers/disputes", police).json()["disputes"] == []

    answer = {"upheld": True, "note": "Paid on 1 March.", "correction": {"retract": True}}
    path = f"/v1/disputes/{receipt['id']}/decision"
    refused = site.post(path, answer, police)
    assert refused.status_code == 403
    assert "is for agency court; you act for police" in refused.json()["detail"]
    decided = site.post(path, answer, judge)
    assert decided.status_code == 200, decided.text
    assert decided.json()["state"] == "upheld"
    assert decided.json()["correction_record_id"]
    again = site.post(path, answer, judge)
    assert again.status_code == 422
    assert again.json()["field"] == "dispute"
    assert site.post(path, answer, alice).status_code == 401  # a subject's session is not an officer's


def test_what_the_disputes_endpoint_refuses(site: Site) -> None:
    alice = site.sign_in(ALICE, "alice@example.com")
    bob = site.sign_in(BOB, "bob@example.com")
    record = record_of(site, ALICE)
    assert dispute(site, None, record).status_code == 401  # type: ignore[arg-type]
    not_hers = dispute(site, bob, record)
    assert not_hers.status_code == 422
    assert not_hers.json()["field"] == "record_id"
    text = dispute(site, alice, record, evidence=[base64.b64encode(b"plain words").decode()])
    assert text.status_code == 422
    assert text.json()["field"] == "evidence[0]"
    garbled = dispute(site, alice, record, evidence=["%%% not base64 %%%"])
    assert garbled.status_code == 422
    assert dispute(site, alice, record, statement="").status_code == 422
    assert dispute(site, alice, record).status_code == 201
    twice = dispute(site, alice, record)
    assert twice.status_code == 422
    assert "open already" in twice.json()["detail"]
    missing = site.post("/v1/disputes/00000000-0000-4000-8000-000000000000/decision", {"upheld": False}, alice)
    assert missing.status_code == 401
